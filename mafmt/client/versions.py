"""Dataset versions (api.md §5): list, create (publish), get, delete."""

from __future__ import annotations

from typing import Any

from mafmt.client._create import Identity
from mafmt.client._pages import PAGING, Page
from mafmt.client._resource import APIObject, Resource, Task, check_id

__all__ = ["Versions"]


def _path(dataset_id: str) -> str:
    return f"/v2/{{project_id}}/datasets/{check_id('dataset_id', dataset_id)}/versions"


def _version_done(state: dict[str, Any]) -> bool | None:
    status = state.get("status")
    return True if status == 1 else False if status in (3, 4) else None


class Versions(Resource):
    """``client.versions``."""

    def list(self, dataset_id: str, *, status: int | None = None, limit: int = 1000,
             max_items: int | None = None, **query: Any) -> Page[APIObject]:
        """All versions of a dataset (lazy pages)."""
        def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return self._get(_path(dataset_id), status=status, **query, **paging) or {}

        return Page(fetch, items_key="versions", total_key="total_number", id_key="version_id", limit=limit, style=PAGING["ListDatasetVersions"],
                    convert=APIObject, max_items=max_items)

    def create(self, dataset_id: str, *, name: str | None = None, version_format: str | None = None,
               task_type: int | None = None, label_task_id: str | None = None, description: str | None = None,
               wait: bool = False, timeout: float = 600.0, poll: float = 1.0, **extra: Any) -> Task:
        """Publish a version; returns ``{version_id}`` as a waitable object."""
        body = {k: v for k, v in (("version_name", name), ("version_format", version_format),
                                  ("task_type", task_type), ("label_task_id", label_task_id),
                                  ("description", description)) if v is not None}
        body.update(extra)
        ident = Identity("dataset version", name, find=lambda: self.list(dataset_id),
                         created=lambda ver: ver.get("create_time"),
                         matches=lambda ver: (name is None or ver.get("version_name") == name)
                         and (description is None or ver.get("description") == description),
                         result=lambda ver: {"version_id": ver["version_id"]},
                         exists_codes=frozenset({"ModelArts.4371"}))
        result = self._post(_path(dataset_id), body, create=ident)
        task = self._task(dataset_id, result)
        if wait:
            task.wait(timeout=timeout, poll=poll)
        return task

    def _task(self, dataset_id: str, data: dict[str, Any]) -> Task:
        vid = data["version_id"]
        return Task(data).bind(lambda: self.get(dataset_id, vid), _version_done, f"version {vid}")

    def wait(self, dataset_id: str, version_id: str, *, timeout: float = 600.0, poll: float = 1.0) -> APIObject:
        """Wait until the version is usable (status 1)."""
        return self._task(dataset_id, {"version_id": version_id}).wait(timeout=timeout, poll=poll)

    def get(self, dataset_id: str, version_id: str) -> APIObject:
        """One version's details."""
        return APIObject(self._get(f"{_path(dataset_id)}/{check_id('version_id', version_id)}"))

    def delete(self, dataset_id: str, version_id: str) -> None:
        """Delete a version."""
        self._delete(f"{_path(dataset_id)}/{check_id('version_id', version_id)}")
