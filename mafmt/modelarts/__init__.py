"""A facade mirroring the ModelArts Python SDK's module paths.

A script written for the SDK runs after changing its imports from ``modelarts.`` to
``mafmt.modelarts.``; underneath, everything goes through mafmt's own model, formats,
storage and API clients.
"""
