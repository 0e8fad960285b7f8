"""Export tasks (api.md §8): create, list, get."""

from __future__ import annotations

from typing import Any

from mafmt.client._pages import Page
from mafmt.client._resource import APIObject, Resource, Task, check_id, now_ms, obs_path, recent

__all__ = ["ExportTasks"]


def _path(dataset_id: str, kind: str) -> str:
    return f"/v2/{{project_id}}/datasets/{check_id('dataset_id', dataset_id)}/{kind}"


def _export_done(state: dict[str, Any]) -> bool | None:
    status = state.get("status")
    return True if status in ("SUCCESSED", "SUCCEEDED", "SUCCESS") else False if status == "FAILED" else None


class ExportTasks(Resource):
    """``client.export_tasks``."""

    def create(self, dataset_id: str, path: str, *, export_type: int = 2, wait: bool = False,
               timeout: float = 3600.0, poll: float = 1.0, **extra: Any) -> Task:
        """Export samples to an OBS folder as a manifest (+ VOC files); waitable."""
        body = {"path": obs_path(path), "export_type": export_type, **extra}
        started = now_ms()

        def reconcile() -> dict[str, Any] | None:
            for t in recent(self.list(dataset_id), started):
                if t.get("path") == body["path"]:
                    return dict(t)
            return None

        result = self._post(_path(dataset_id, "export-tasks"), body, reconcile=reconcile)
        task = self._bind(dataset_id, result)
        if wait:
            task.wait(timeout=timeout, poll=poll)
        return task

    def _bind(self, dataset_id: str, data: dict[str, Any]) -> Task:
        tid = data["task_id"]
        return Task(data).bind(lambda: self.get(dataset_id, tid), _export_done, f"export {tid}")

    def list(self, dataset_id: str, *, limit: int = 100, max_items: int | None = None) -> Page[APIObject]:
        """All export tasks of a dataset (lazy pages)."""
        return Page(lambda p: self._get(_path(dataset_id, "export-tasks"), **p) or {}, items_key="export_tasks",
                    total_key="total_count", id_key="task_id", limit=limit, convert=APIObject, max_items=max_items)

    def get(self, dataset_id: str, task_id: str) -> Task:
        """One export task (waitable)."""
        data = self._get(f"{_path(dataset_id, 'export-tasks')}/{check_id('task_id', task_id)}")
        return self._bind(dataset_id, data)
