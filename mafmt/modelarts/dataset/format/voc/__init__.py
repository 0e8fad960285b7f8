"""``modelarts.dataset.format.voc``: Pascal VOC files (``PascalVoc``, ``VocObject``)."""
