"""Export tasks (api.md §8): create, list, get."""

from __future__ import annotations

from typing import Any

from mafmt.client._resource import DatasetTasks, Task, obs_path

__all__ = ["ExportTasks"]


class ExportTasks(DatasetTasks):
    """``client.export_tasks``."""

    kind = "export-tasks"
    operation = "ListExportTasks"
    items_key = "export_tasks"
    match_key = "path"
    label = "export"

    @staticmethod
    def done(state: dict[str, Any]) -> bool | None:
        status = state.get("status")
        return True if status in ("SUCCESSED", "SUCCEEDED", "SUCCESS") else False if status == "FAILED" else None

    def create(self, dataset_id: str, path: str, *, export_type: int = 2, wait: bool = False,
               timeout: float = 3600.0, poll: float = 1.0, **extra: Any) -> Task:
        """Export samples to an OBS folder as a manifest (+ VOC files); waitable."""
        body = {"path": obs_path(path), "export_type": export_type, **extra}
        return self._start(dataset_id, body, wait=wait, timeout=timeout, poll=poll)
