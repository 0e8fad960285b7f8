"""Datasets (api.md §4): list, create, get, update, delete."""

from __future__ import annotations

from typing import Any

from mafmt.client._create import Identity
from mafmt.client._pages import PAGING, Page
from mafmt.client._resource import APIObject, Resource, Task, check_id, obs_path
from mafmt.errors import APIError, UsageError

__all__ = ["DATA_TYPES", "Datasets", "annotation_format_config", "create_body"]

BASE = "/v2/{project_id}/datasets"
DATA_TYPES = ("IMAGE", "TEXT", "AUDIO", "TABLE", "VIDEO", "PLAIN")


def annotation_format_config(annotation_config: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """The SDK's ``annotation_config`` as the wire's ``annotation_format_config`` (or None)."""
    if not annotation_config:
        return None
    keys = ("scene", "format_name", "parameters")
    return [{k: annotation_config[k] for k in keys if k in annotation_config}]


def create_body(
    name: str,
    *,
    data_path: str,
    work_path: str,
    data_type: str | None = None,
    dataset_type: int | None = None,
    data_source_type: int = 0,
    work_path_type: int = 0,
    labels: list[dict[str, Any]] | None = None,
    schema: list[dict[str, Any]] | None = None,
    description: str | None = None,
    annotation_config: dict[str, Any] | None = None,
    with_column_header: bool | None = None,
    content_info: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The wire body of a dataset creation (api.md §4.4)."""
    if (data_type is None) == (dataset_type is None):
        raise UsageError("give exactly one of data_type and dataset_type")
    if data_type is not None and data_type not in DATA_TYPES:
        raise UsageError(f"data_type must be one of {', '.join(DATA_TYPES)}, not {data_type!r}")
    source: dict[str, Any] = {"data_type": int(data_source_type), "data_path": obs_path(data_path)}
    if with_column_header is not None:
        source["with_column_header"] = with_column_header
    if content_info is not None:
        source["content_info"] = content_info
    body: dict[str, Any] = {"dataset_name": name, "data_sources": [source], "work_path": obs_path(work_path),
                            "work_path_type": int(work_path_type)}
    if data_type is not None:
        body["data_type"] = data_type
    else:
        body["dataset_type"] = int(dataset_type)  # type: ignore[arg-type]
    for key, value in (("labels", labels), ("schema", schema), ("description", description)):
        if value is not None:
            body[key] = value
    fmt = annotation_format_config(annotation_config)
    if annotation_config is not None:
        body["import_annotations"] = True
    if fmt:
        body["annotation_format_config"] = fmt
    body.update(extra)
    return body


def _dataset_done(state: dict[str, Any]) -> bool | None:
    status = state.get("status")
    if status == 1:
        return True
    if status in (3, 4):
        return False
    return None


class Datasets(Resource):
    """``client.datasets``."""

    def list(self, *, dataset_type: int | None = None, name: str | None = None, limit: int = 10,
             offset: int | None = None, max_items: int | None = None, **query: Any) -> Page[APIObject]:
        """All datasets (lazy pages); ``name`` is a fuzzy filter (``search_content``).
        With ``offset`` the iteration starts at that page index."""

        def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return self._get(BASE, dataset_type=dataset_type, search_content=name, **query, **paging) or {}

        return Page(fetch, items_key="datasets", total_key="total_number", id_key="dataset_id", limit=limit, style=PAGING["ListDatasets"],
                    start=offset, convert=APIObject, max_items=max_items)

    def create(self, name: str, *, wait: bool = False, timeout: float = 600.0, poll: float = 1.0,
               **options: Any) -> Task:
        """Create a dataset (see :func:`create_body` for ``options``); returns
        ``{dataset_id, import_task_id}`` as a waitable object (waits for status 1)."""
        body = create_body(name, **options)

        def matches(ds: dict[str, Any]) -> bool:
            return (ds.get("dataset_name") == name and ds.get("work_path") == body["work_path"]
                    and ds.get("dataset_type") == body.get("dataset_type")
                    and ds.get("data_type") == body.get("data_type"))

        ident = Identity("dataset", name, find=lambda: self.list(name=name, limit=100, max_items=500),
                         created=lambda ds: ds.get("create_time"), matches=matches,
                         result=lambda ds: {"dataset_id": ds["dataset_id"], "import_task_id": ds.get("import_task_id")},
                         exists_codes=frozenset({"ModelArts.4351"}))
        result = self._post(BASE, body, create=ident)
        task = self._task(result["dataset_id"], result)
        if wait:
            task.wait(timeout=timeout, poll=poll)
        return task

    def _task(self, dataset_id: str, data: dict[str, Any]) -> Task:
        return Task(data).bind(lambda: self._state(dataset_id, data.get("import_task_id")), _dataset_done,
                               f"dataset {dataset_id}")

    def _state(self, dataset_id: str, import_task_id: str | None) -> APIObject:
        """The dataset; when it failed, with the reason its initial import gives."""
        state = self.get(dataset_id)
        task_id = import_task_id or state.get("import_task_id")
        if _dataset_done(state) is False and task_id and not state.get("error_msg"):
            try:
                task = self._get(f"{BASE}/{check_id('dataset_id', dataset_id)}/import-tasks/{task_id}") or {}
            except APIError:
                return state
            if task.get("error_msg"):
                state = APIObject({**state, "error_msg": task["error_msg"], "error_code": task.get("error_code")})
        return state

    def get(self, dataset_id: str, *, with_reason: bool = False, **query: Any) -> APIObject:
        """One dataset's details; ``with_reason``: a failed dataset also carries the
        ``error_msg``/``error_code`` of its initial import (the service keeps them there)."""
        if with_reason:
            return self._state(dataset_id, None)
        return APIObject(self._get(f"{BASE}/{check_id('dataset_id', dataset_id)}", **query))

    def update(self, dataset_id: str, **fields: Any) -> APIObject:
        """Change ``dataset_name``, ``description``, ``current_version_id`` or labels
        (``add_labels``/``update_labels``/``delete_labels``)."""
        body = {k: v for k, v in fields.items() if v is not None}
        return APIObject(self._put(f"{BASE}/{check_id('dataset_id', dataset_id)}", body) or {})

    def delete(self, dataset_id: str) -> None:
        """Delete a dataset (its OBS data stays)."""
        self._delete(f"{BASE}/{check_id('dataset_id', dataset_id)}")

    def wait(self, dataset_id: str, timeout: float = 600.0, poll: float = 1.0, progress: Any = False) -> APIObject:
        """Wait until the dataset is usable (status 1)."""
        return self._task(dataset_id, {"dataset_id": dataset_id}).wait(timeout, poll, progress=progress)
