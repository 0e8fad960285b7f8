"""Import tasks (api.md §7): create (from an OBS folder or a manifest), list, get."""

from __future__ import annotations

from typing import Any

from mafmt.client._resource import DatasetTasks, Task, obs_path
from mafmt.client.datasets import annotation_format_config

__all__ = ["ImportTasks", "import_body"]


def import_body(path: str, annotation_config: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """Wire body of an import (api.md §7.2): ``annotation_config=None`` imports no labels,
    ``{}`` the labels of a manifest, ``{scene, format_name, parameters}`` a layout."""
    body: dict[str, Any] = {"import_path": obs_path(path),
                            "import_type": "manifest" if path.endswith(".manifest") else "dir",
                            "import_annotations": annotation_config is not None}
    fmt = annotation_format_config(annotation_config)
    if fmt:
        body["annotation_format_config"] = fmt
        params = annotation_config.get("parameters") or {}  # type: ignore[union-attr]
        for key in ("included_labels", "difficult_only"):
            if key in params:
                body[key] = params[key]
    body.update(extra)
    return body


class ImportTasks(DatasetTasks):
    """``client.import_tasks``."""

    kind = "import-tasks"
    operation = "ListImportTasks"
    items_key = "import_tasks"
    match_key = "import_path"
    label = "import"

    @staticmethod
    def done(state: dict[str, Any]) -> bool | None:
        status = state.get("status")
        return True if status == "COMPLETED" else False if status in ("FAILED", "NOT_EXIST") else None

    def create(self, dataset_id: str, path: str, annotation_config: dict[str, Any] | None = None, *,
               wait: bool = False, timeout: float = 3600.0, poll: float = 1.0, **extra: Any) -> Task:
        """Import from an OBS folder or a manifest file; returns a waitable ``{task_id}``."""
        body = import_body(path, annotation_config, **extra)
        return self._start(dataset_id, body, wait=wait, timeout=timeout, poll=poll)
