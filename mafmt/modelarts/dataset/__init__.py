"""Data management (``modelarts.dataset``)."""
