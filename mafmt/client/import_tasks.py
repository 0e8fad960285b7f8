"""Import tasks (api.md §7): create (from an OBS folder or a manifest), list, get."""

from __future__ import annotations

from typing import Any

from mafmt.client._pages import Page
from mafmt.client._resource import APIObject, Resource, Task, check_id, now_ms, obs_path, recent
from mafmt.client.datasets import annotation_format_config

__all__ = ["ImportTasks", "import_body"]


def _path(dataset_id: str, kind: str) -> str:
    return f"/v2/{{project_id}}/datasets/{check_id('dataset_id', dataset_id)}/{kind}"


def _import_done(state: dict[str, Any]) -> bool | None:
    status = state.get("status")
    return True if status == "COMPLETED" else False if status in ("FAILED", "NOT_EXIST") else None


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


class ImportTasks(Resource):
    """``client.import_tasks``."""

    def create(self, dataset_id: str, path: str, annotation_config: dict[str, Any] | None = None, *,
               wait: bool = False, timeout: float = 3600.0, poll: float = 1.0, **extra: Any) -> Task:
        """Import from an OBS folder or a manifest file; returns a waitable ``{task_id}``."""
        body = import_body(path, annotation_config, **extra)
        started = now_ms()

        def reconcile() -> dict[str, Any] | None:
            for t in recent(self.list(dataset_id), started):
                if t.get("import_path") == body["import_path"]:
                    return {"task_id": t["task_id"]}
            return None

        result = self._post(_path(dataset_id, "import-tasks"), body, reconcile=reconcile)
        task = self._bind(dataset_id, result)
        if wait:
            task.wait(timeout=timeout, poll=poll)
        return task

    def _bind(self, dataset_id: str, data: dict[str, Any]) -> Task:
        tid = data["task_id"]
        return Task(data).bind(lambda: self.get(dataset_id, tid), _import_done, f"import {tid}")

    def list(self, dataset_id: str, *, limit: int = 100, max_items: int | None = None) -> Page[APIObject]:
        """All import tasks of a dataset (lazy pages)."""
        return Page(lambda p: self._get(_path(dataset_id, "import-tasks"), **p) or {}, items_key="import_tasks",
                    total_key="total_count", id_key="task_id", limit=limit, convert=APIObject, max_items=max_items)

    def get(self, dataset_id: str, task_id: str) -> Task:
        """One import task (waitable)."""
        data = self._get(f"{_path(dataset_id, 'import-tasks')}/{check_id('task_id', task_id)}")
        return self._bind(dataset_id, data)
