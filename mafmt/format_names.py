"""The names of the registered formats, for help texts that must not import the registry (nor
:mod:`dataclasses`, which costs the CLI's start a tenth of its time)."""

__all__ = ["NAMES"]

#: the registered format names in registry order, for help texts that must not import the registry
#: (a test keeps it equal to ``mafmt.converters.FORMATS``)
NAMES = (
    "manifest", "coco", "modelarts-yolo", "yolo", "csv", "modelarts-voc", "voc", "modelarts-image-classification",
    "modelarts-text-classification", "modelarts-text-classification-combine", "modelarts-imagenet",
    "modelarts-audio-classification",
)
