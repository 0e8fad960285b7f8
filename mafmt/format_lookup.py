"""Which format a path holds, by name: :func:`name_of`, the one lookup that knows a local
manifest without loading the format registry."""

from __future__ import annotations

__all__ = ["name_of"]


def name_of(path: str, format: str | None) -> str:
    """The name of the format ``format`` names, or the one detected at ``path``
    (:func:`mafmt.converters.get` / :func:`~mafmt.converters.detect`); for a local manifest file
    (``format="manifest"`` or its extension) without loading the registry, a tenth of a second
    of a command's start.

    Raises:
        UsageError: no such format, or none detected.
    """
    import os

    from mafmt import storage

    local_file = not storage.scheme_of(path) and os.path.isfile(path)
    if local_file and (format == "manifest" or (
            not format and os.path.splitext(path)[1].lower() in _MANIFEST_EXTENSIONS)):
        return "manifest"
    from mafmt import converters

    return str((converters.get(format) if format else converters.detect(path)).name)


#: the extensions :func:`mafmt.converters.detect` takes for a manifest (a test keeps them equal)
_MANIFEST_EXTENSIONS = (".manifest", ".jsonl")
