"""The numeric codes of the ModelArts API by name (api.md §4.1, §1.6): labeling types,
dataset, version and labeling-task statuses, export types. Commands accept and show the
names (``object_detection``); the numbers stay accepted, and ``--json`` keeps them."""

from __future__ import annotations

from collections.abc import Mapping

from mafmt.errors import UsageError

__all__ = ["DATASET_STATUS", "EXPORT_TYPES", "LABELING_TYPES", "LABEL_TASK_STATUS", "VERSION_STATUS", "code_of",
           "name_of"]

#: labeling type (``dataset_type``, ``task_type``, label ``type``) by name
LABELING_TYPES: dict[str, int] = {
    "image_classification": 0, "object_detection": 1, "image_segmentation": 3, "text_classification": 100,
    "named_entity_recognition": 101, "text_triplet": 102, "sound_classification": 200, "speech_content": 201,
    "speech_paragraph_labeling": 202, "table": 400, "video": 600, "free_format": 900,
}
#: dataset ``status``
DATASET_STATUS: dict[str, int] = {
    "creating": 0, "normal": 1, "deleting": 2, "deleted": 3, "abnormal": 4, "synchronizing": 5, "releasing": 6,
    "switching_version": 7, "importing": 8,
}
#: dataset version ``status``
VERSION_STATUS: dict[str, int] = {"creating": 0, "normal": 1, "deleting": 2, "deleted": 3, "error": 4}
#: labeling task ``status``
LABEL_TASK_STATUS: dict[str, int] = {
    "starting": 0, "running": 1, "accepting": 2, "accepted": 3, "rejected": 4, "syncing_acceptance": 5,
    "created": 6, "acceptance_sampling": 7,
}
#: ``export_type`` of an export task
EXPORT_TYPES: dict[str, int] = {"labeled": 0, "unlabeled": 1, "all": 2}


def code_of(value: str | int, table: Mapping[str, int], what: str) -> int:
    """The code of ``value``: a name of ``table`` or one of its numbers.

    Raises:
        UsageError: neither, listing the names.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value in table.values():
            return value
    else:
        text = str(value).strip().lower().replace("-", "_")
        if text in table:
            return table[text]
        if text.lstrip("-").isdigit() and int(text) in table.values():
            return int(text)
    names = ", ".join(f"{n} ({c})" for n, c in table.items())
    raise UsageError(f"unknown {what} {value!r}: one of {names}")


def name_of(code: object, table: Mapping[str, int]) -> str:
    """The name of ``code`` in ``table`` (the code itself, as text, when unknown)."""
    for name, number in table.items():
        if number == code:
            return name
    return "" if code is None else str(code)
