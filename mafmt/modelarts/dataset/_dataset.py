"""``modelarts.dataset.Dataset``: the SDK's data-management calls (chapter 7) on
mafmt's client. Results are the service's JSON objects (dicts), as in the SDK."""

from __future__ import annotations

from typing import Any

from mafmt.client import ModelArts
from mafmt.errors import UsageError

__all__ = ["Dataset"]


def _client(session: Any) -> ModelArts:
    client = getattr(session, "client", None)
    if not isinstance(client, ModelArts):
        raise UsageError("expected a mafmt.modelarts.session.Session")
    return client


def _page(body: dict[str, Any] | None) -> dict[str, Any]:
    return dict(body or {})


def _source(data_sources: Any) -> dict[str, Any]:
    if isinstance(data_sources, list):
        if len(data_sources) != 1:
            raise UsageError("data_sources must hold exactly one data source")
        data_sources = data_sources[0]
    if not isinstance(data_sources, dict) or not data_sources.get("path"):
        raise UsageError("data_sources must be a dict with 'type' and 'path'")
    return data_sources


class Dataset:
    """A dataset of a session: ``Dataset(session, dataset_id)``; class methods list,
    create and delete datasets."""

    def __init__(self, session: Any, dataset_id: str | None = None) -> None:
        if not dataset_id:
            raise UsageError("dataset_id is required")
        self.session = session
        self.dataset_id = dataset_id
        self._c = _client(session)

    def __repr__(self) -> str:
        return f"Dataset(dataset_id={self.dataset_id!r})"

    # ------------------------------------------------------------------ datasets (7.1)

    @staticmethod
    def list_datasets(session: Any, dataset_type: int | None = None, dataset_name: str | None = None,
                      offset: int | None = None, limit: int | None = None, **query: Any) -> dict[str, Any]:
        """One page of datasets: ``{"total_number", "datasets"}`` (``offset`` is a page index)."""
        params = {"dataset_type": dataset_type, "search_content": dataset_name, "offset": offset, "limit": limit}
        params.update(query)
        return _page(_client(session).transport.request(
            "GET", "/v2/{project_id}/datasets", params={k: v for k, v in params.items() if v is not None}))

    @staticmethod
    def create_dataset(session: Any, dataset_name: str | None = None, data_type: str | None = None,
                       data_sources: Any = None, work_path: Any = None, dataset_type: int | None = None,
                       **kwargs: Any) -> dict[str, Any]:
        """Create a dataset by data type or labeling type; returns ``{"dataset_id", "import_task_id"}``."""
        if not dataset_name:
            raise UsageError("dataset_name is required")
        source = _source(data_sources)
        if not isinstance(work_path, dict) or not work_path.get("path"):
            raise UsageError("work_path must be a dict with 'type' and 'path'")
        task = _client(session).datasets.create(
            dataset_name, data_type=data_type, dataset_type=dataset_type, data_path=source["path"],
            data_source_type=int(source.get("type", 0)), work_path=work_path["path"],
            work_path_type=int(work_path.get("type", 0)), annotation_config=source.get("annotation_config"),
            with_column_header=source.get("with_column_header"), content_info=source.get("content_info"),
            **kwargs)
        return dict(task)

    @staticmethod
    def delete_dataset(session: Any, dataset_id: str) -> None:
        """Delete a dataset (its OBS data stays)."""
        _client(session).datasets.delete(dataset_id)

    def get_dataset_info(self) -> dict[str, Any]:
        """The dataset's details."""
        return dict(self._c.datasets.get(self.dataset_id))

    def update_dataset(self, dataset_name: str | None = None, description: str | None = None,
                       **kwargs: Any) -> dict[str, Any]:
        """Rename or describe the dataset (``add_labels``/``update_labels``/``delete_labels`` too)."""
        return dict(self._c.datasets.update(self.dataset_id, dataset_name=dataset_name, description=description,
                                            **kwargs))

    # ------------------------------------------------------------------ versions (7.2)

    def list_versions(self) -> dict[str, Any]:
        """``{"total_number", "versions"}``."""
        versions = [dict(v) for v in self._c.versions.list(self.dataset_id)]
        return {"total_number": len(versions), "versions": versions}

    def create_version(self, name: str | None = None, version_format: str | None = None,
                       label_task_type: int | None = None, label_task_id: str | None = None,
                       **kwargs: Any) -> dict[str, Any]:
        """Publish a version; returns ``{"version_id"}``."""
        return dict(self._c.versions.create(self.dataset_id, name=name, version_format=version_format,
                                            task_type=label_task_type, label_task_id=label_task_id, **kwargs))

    def get_version_info(self, version_id: str) -> dict[str, Any]:
        """One version's details."""
        return dict(self._c.versions.get(self.dataset_id, version_id))

    def delete_version(self, version_id: str) -> None:
        """Delete a version."""
        self._c.versions.delete(self.dataset_id, version_id)

    # ------------------------------------------------------------------ samples (7.3)

    def list_samples(self, version_id: str | None = None, offset: int | None = None, limit: int | None = None,
                     **query: Any) -> dict[str, Any]:
        """One page of samples: ``{"sample_count", "samples"}``."""
        params = {"version_id": version_id, "offset": offset, "limit": limit, **query}
        return _page(self._c.transport.request(
            "GET", f"/v2/{{project_id}}/datasets/{self.dataset_id}/data-annotations/samples",
            params={k: v for k, v in params.items() if v is not None}))

    def get_sample_info(self, sample_id: str) -> dict[str, Any]:
        """One sample."""
        return dict(self._c.samples.get(self.dataset_id, sample_id))

    def delete_samples(self, samples: list[str], **kwargs: Any) -> dict[str, Any]:
        """Delete samples by ID."""
        return dict(self._c.samples.delete(self.dataset_id, samples, **kwargs))

    # ------------------------------------------------------------------ import (7.4)

    def list_import_tasks(self) -> dict[str, Any]:
        """``{"total_count", "import_tasks"}``."""
        tasks = [dict(t) for t in self._c.import_tasks.list(self.dataset_id)]
        return {"total_count": len(tasks), "import_tasks": tasks}

    def import_data(self, path: str | None = None, annotation_config: dict[str, Any] | None = None,
                    **kwargs: Any) -> dict[str, Any]:
        """Import from an OBS folder or manifest; returns ``{"task_id"}``."""
        if not path:
            raise UsageError("path is required")
        return dict(self._c.import_tasks.create(self.dataset_id, path, annotation_config, **kwargs))

    def get_import_task_info(self, task_id: str) -> dict[str, Any]:
        """One import task."""
        return dict(self._c.import_tasks.get(self.dataset_id, task_id))

    # ------------------------------------------------------------------ export (7.5)

    def list_export_tasks(self) -> dict[str, Any]:
        """``{"total_count", "export_tasks"}``."""
        tasks = [dict(t) for t in self._c.export_tasks.list(self.dataset_id)]
        return {"total_count": len(tasks), "export_tasks": tasks}

    def export_data(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """Export the samples to an OBS folder; returns the export task."""
        return dict(self._c.export_tasks.create(self.dataset_id, path, **kwargs))

    def get_export_task_info(self, task_id: str) -> dict[str, Any]:
        """One export task."""
        return dict(self._c.export_tasks.get(self.dataset_id, task_id))

    # ------------------------------------------------------------------ label tasks (7.7)

    def create_label_task(self, task_name: str | None = None, task_type: int | None = None,
                          **kwargs: Any) -> dict[str, Any]:
        """Create a labeling task; returns ``{"task_id"}``."""
        if not task_name or task_type is None:
            raise UsageError("task_name and task_type are required")
        return dict(self._c.label_tasks.create(self.dataset_id, task_name, task_type, **kwargs))

    def get_label_tasks(self, is_workforce_task: bool = False, **kwargs: Any) -> dict[str, Any]:
        """``{"count", "tasks"}``; kwargs ``sort_key`` (create_time, task_name), ``sort_dir``."""
        tasks = [dict(t) for t in self._c.label_tasks.list(
            self.dataset_id, is_workforce_task=is_workforce_task or None, **kwargs)]
        return {"count": len(tasks), "tasks": tasks}

    def get_label_task_info(self, task_id: str | None = None) -> dict[str, Any]:
        """One labeling task."""
        if not task_id:
            raise UsageError("task_id is required")
        return dict(self._c.label_tasks.get(self.dataset_id, task_id))
