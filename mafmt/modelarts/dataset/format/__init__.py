"""Dataset file formats (``modelarts.dataset.format``)."""
