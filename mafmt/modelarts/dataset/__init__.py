"""Data management (``modelarts.dataset``): :class:`Dataset` (SDK chapter 7); the file
formats live in :mod:`mafmt.modelarts.dataset.format`."""

from mafmt.modelarts.dataset._dataset import Dataset

__all__ = ["Dataset"]
