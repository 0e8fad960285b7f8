"""Labeling tasks (api.md §9, the ``workforce-tasks`` resource): create, list, get."""

from __future__ import annotations

from typing import Any

from mafmt.client._create import Identity
from mafmt.client._pages import PAGING, Page
from mafmt.client._resource import APIObject, Resource, check_id

__all__ = ["LabelTasks"]


def _path(dataset_id: str, kind: str) -> str:
    return f"/v2/{{project_id}}/datasets/{check_id('dataset_id', dataset_id)}/{kind}"


class LabelTasks(Resource):
    """``client.label_tasks`` (the ``workforce-tasks`` resource, api.md §9)."""

    def create(self, dataset_id: str, task_name: str, task_type: int, *, description: str | None = None,
               **extra: Any) -> APIObject:
        """Create a labeling task; returns ``{task_id}``."""
        body: dict[str, Any] = {"task_name": task_name, "task_type": task_type, **extra}
        if description is not None:
            body["description"] = description

        ident = Identity("labeling task", task_name, find=lambda: self.list(dataset_id),
                         created=lambda t: t.get("create_time"),
                         matches=lambda t: t.get("task_name") == task_name and t.get("task_type") == task_type,
                         result=lambda t: {"task_id": t["task_id"]}, exists_codes=frozenset({"ModelArts.4800"}))
        return APIObject(self._post(_path(dataset_id, "workforce-tasks"), body, create=ident))

    def list(self, dataset_id: str, *, is_workforce_task: bool | None = None, sort_key: str | None = None,
             sort_dir: str | None = None, limit: int = 1000, max_items: int | None = None) -> Page[APIObject]:
        """Labeling tasks of a dataset, optionally team tasks only, sorted (lazy pages)."""
        def fetch(p: dict[str, Any]) -> dict[str, Any]:
            return self._get(_path(dataset_id, "workforce-tasks"), is_workforce_task=is_workforce_task,
                             sort_key=sort_key, sort_dir=sort_dir, **p) or {}

        return Page(fetch, items_key="tasks", total_key="count", id_key="task_id", limit=limit, style=PAGING["ListWorkforceTasks"],
                    convert=APIObject, max_items=max_items)

    def get(self, dataset_id: str, task_id: str) -> APIObject:
        """One labeling task."""
        return APIObject(self._get(f"{_path(dataset_id, 'workforce-tasks')}/{check_id('task_id', task_id)}"))
