"""``modelarts.estimator``: legacy training (SDK chapter 9) — ``Estimator`` (jobs,
versions, configurations, catalogues) and ``VisualizationJob`` — on
:class:`mafmt.client.training_v1.TrainingV1`. Results are the service's ``is_success``
JSON (dicts) or bound objects, as in the SDK."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from mafmt.errors import UsageError
from mafmt.modelarts.estimatorV2 import _client, _obs_ready

__all__ = ["Estimator", "JobStatus", "VisualizationJob"]

#: first polling interval of ``wait=True`` (seconds)
POLL = 1.0

from mafmt.client.training_v1 import JobStatus


def _v1(session: Any) -> Any:
    return _client(session).training_v1


class Estimator:
    """A v1 job description (api.md §12.2), and/or a handle on an existing job
    (``job_id``, ``version_id``) or configuration (``config_name``)."""

    def __init__(self, modelarts_session: Any, framework_type: str | None = None,
                 framework_version: str | None = None, code_dir: str | None = None, boot_file: str | None = None,
                 log_url: str | None = None, hyperparameters: list[dict[str, Any]] | None = None,
                 output_path: str | None = None, train_instance_type: str | None = None,
                 train_instance_count: int = 1, job_description: str | None = None,
                 user_image_url: str | None = None, user_command: str | None = None, pool_id: str | None = None,
                 model_name: str | None = None, environment: Any = None, job_id: Any = None,
                 version_id: Any = None, config_name: str | None = None, poll: float | None = None) -> None:
        self.session = modelarts_session
        self.framework_type, self.framework_version = framework_type, framework_version
        self.code_dir, self.boot_file, self.log_url = code_dir, boot_file, log_url
        self.hyperparameters = list(hyperparameters or [])
        self.output_path = output_path
        self.train_instance_type, self.train_instance_count = train_instance_type, train_instance_count
        self.job_description = job_description
        self.user_image_url, self.user_command, self.pool_id = user_image_url, user_command, pool_id
        self.model_name, self.environment = model_name, environment
        self.job_id, self.version_id, self.config_name = job_id, version_id, config_name
        self.poll = POLL if poll is None else poll

    def __repr__(self) -> str:
        return f"Estimator(job_id={self.job_id!r}, version_id={self.version_id!r}, config_name={self.config_name!r})"

    def _bound(self, **ids: Any) -> Estimator:
        new = Estimator.__new__(Estimator)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(ids)
        return new

    # ------------------------------------------------------------------ configuration body

    def _config(self, inputs: str | None = None, dataset_id: str | None = None,
                dataset_version_id: str | None = None, data_source: list[dict[str, Any]] | None = None,
                data_required: bool = True) -> dict[str, Any]:
        v1 = _v1(self.session)
        cfg: dict[str, Any] = {"worker_server_num": self.train_instance_count}
        if self.train_instance_type:
            try:
                cfg["spec_id"] = v1.spec_id(self.train_instance_type)[0]
            except UsageError:
                if not self.pool_id:  # a dedicated pool falls back to its default flavor
                    raise
        if self.pool_id:
            cfg["pool_id"] = self.pool_id
        if self.model_name:
            cfg["model_id"] = v1.model_id(self.model_name)
        else:
            if self.code_dir or self.boot_file:
                cfg["app_url"], cfg["boot_file_url"] = self.code_dir, self.boot_file
            if self.framework_type:
                cfg["engine_id"] = v1.engine_id(self.framework_type, self.framework_version)
        for key, value in (("parameter", self.hyperparameters or None), ("train_url", self.output_path),
                           ("log_url", self.log_url), ("user_image_url", self.user_image_url),
                           ("user_command", self.user_command), ("data_url", inputs), ("dataset_id", dataset_id),
                           ("dataset_version_id", dataset_version_id), ("data_source", data_source)):
            if value is not None:
                cfg[key] = value
        return cfg

    # ------------------------------------------------------------------ jobs

    def fit(self, inputs: str | None = None, wait: bool = False, job_name: str | None = None,
            dataset_id: str | None = None, dataset_version_id: str | None = None,
            timeout: float = 3600.0) -> Any:
        """Create the job (first version); returns a bound object (``job_id``,
        ``version_id``), or a local run's result with ``train_instance_type='local'``."""
        if self.train_instance_type == "local":
            return self._fit_local(inputs, job_name)
        out = _v1(self.session).create_job(job_name, self._config(inputs, dataset_id, dataset_version_id),
                                           job_desc=self.job_description)
        if wait:
            out.wait(timeout=timeout, poll=self.poll)
        return self._bound(job_id=out["job_id"], version_id=out["version_id"])

    def _fit_local(self, inputs: str | None, job_name: str | None) -> Any:
        from mafmt.local_training import LocalJob, run_local

        if not self.code_dir or not self.boot_file:
            raise UsageError("local training needs code_dir and boot_file")
        _obs_ready(self.session)
        work = tempfile.mkdtemp(prefix="mafmt-v1-local-")
        data: list[tuple[str, str, str | None, bool]] = (
            [(inputs, os.path.join(work, "data"), "data_url", False)] if inputs else [])
        out_dir = os.path.join(work, "output")
        obs_out = self.output_path if self.output_path and "://" in self.output_path else None
        job = LocalJob(code_dir=self.code_dir, boot_file=self.boot_file, job_name=job_name or "local-job",
                       inputs=data, outputs=[(out_dir, obs_out, "train_url")],
                       parameters=[{"name": p.get("label"), "value": p.get("value")} for p in self.hyperparameters],
                       interpreter=sys.executable, log_url=self.log_url if self.log_url and "://" in self.log_url
                       else None)
        return run_local(job)

    @staticmethod
    def get_job_list(modelarts_session: Any, status: int | None = None, per_page: int = 10, page: int = 1,
                     sortBy: str | None = None, order: str = "desc", search_content: str | None = None,
                     sort_by: str | None = None, workspace_id: str | None = None) -> dict[str, Any]:
        return dict(_v1(modelarts_session).list_jobs(status=status, per_page=per_page, page=page,
                                                     sort_by=sort_by or sortBy, order=order,
                                                     search_content=search_content, workspace_id=workspace_id))

    @staticmethod
    def delete_job_by_id(modelarts_session: Any, job_id: Any) -> dict[str, Any]:
        return dict(_v1(modelarts_session).delete_job(job_id))

    def _need_job(self) -> Any:
        if self.job_id in (None, ""):
            raise UsageError("this Estimator has no job_id")
        return self.job_id

    def _need_version(self) -> Any:
        if self.version_id in (None, ""):
            versions = _v1(self.session).list_versions(self._need_job()).get("versions") or []
            if not versions:
                raise UsageError(f"job {self.job_id} has no version")
            self.version_id = versions[0]["version_id"]
        return self.version_id

    def get_job_info(self) -> dict[str, Any]:
        """Details of the bound version (the latest when no ``version_id`` was given)."""
        return dict(_v1(self.session).get_version(self._need_job(), self._need_version()))

    def update_job_description(self, description: str) -> dict[str, Any]:
        return dict(_v1(self.session).update_job(self._need_job(), description))

    def get_job_log_file_list(self) -> dict[str, Any]:
        files = _v1(self.session).log_files(self._need_job(), self._need_version())
        return {"is_success": True, "log_file_list": files}

    def get_job_log(self, log_file: str | None = None, start_byte: int = 0, offset: int = 2048) -> dict[str, Any]:
        v1 = _v1(self.session)
        if log_file is None:
            log_file = v1.log_files(self._need_job(), self._need_version())[0]
        return dict(v1.log(self._need_job(), self._need_version(), log_file, start_byte=start_byte, offset=offset))

    def delete_job(self) -> dict[str, Any]:
        return dict(_v1(self.session).delete_job(self._need_job()))

    def wait(self, timeout: float = 3600.0) -> dict[str, Any]:
        """Poll the bound version until a terminal status (TaskFailedError on a failure status)."""
        from mafmt.client._resource import Task
        from mafmt.client.training_v1 import v1_done

        job, ver = self._need_job(), self._need_version()
        task = Task({}).bind(lambda: _v1(self.session).get_version(job, ver), v1_done, f"job {job} version {ver}")
        return dict(task.wait(timeout=timeout, poll=self.poll))

    # ------------------------------------------------------------------ versions

    def create_job_version(self, job_id: Any = None, pre_version_id: Any = None, inputs: str | None = None,
                           dataset_id: str | None = None, dataset_version_id: str | None = None,
                           wait: bool = False, job_desc: str | None = None, timeout: float = 3600.0) -> Estimator:
        job_id = job_id if job_id is not None else self._need_job()
        if pre_version_id is None:
            raise UsageError("pre_version_id is required")
        cfg = self._config(inputs, dataset_id, dataset_version_id)
        cfg["pre_version_id"] = int(pre_version_id)
        out = _v1(self.session).create_version(job_id, cfg, job_desc=job_desc)
        if wait:
            out.wait(timeout=timeout, poll=self.poll)
        return self._bound(job_id=out["job_id"], version_id=out["version_id"])

    def get_job_version_info(self) -> dict[str, Any]:
        """All versions of the job: ``{job_id, job_name, version_count, versions}``."""
        return dict(_v1(self.session).list_versions(self._need_job()))

    def get_job_version_object_list(self, is_show: bool = False) -> list[Estimator]:
        versions = _v1(self.session).list_versions(self._need_job()).get("versions") or []
        if is_show:
            print(versions)
        return [self._bound(version_id=v["version_id"]) for v in versions]

    def stop_job_version(self) -> dict[str, Any]:
        return dict(_v1(self.session).stop_version(self._need_job(), self._need_version()))

    def delete_job_version(self) -> dict[str, Any]:
        return dict(_v1(self.session).delete_version(self._need_job(), self._need_version()))

    # ------------------------------------------------------------------ configurations

    def create_job_configs(self, config_name: str | None = None, config_desc: str | None = None,
                           inputs: str | None = None, dataset_id: str | None = None,
                           dataset_version_id: str | None = None,
                           data_source: list[dict[str, Any]] | None = None) -> Estimator:
        """Create a configuration (rules of api.md §12.4 checked first); returns a bound object."""
        cfg = self._config(inputs, dataset_id, dataset_version_id, data_source)
        if config_name:
            cfg["config_name"] = config_name
        if config_desc is not None:
            cfg["config_desc"] = config_desc
        v1 = _v1(self.session)
        from mafmt.client.training_v1 import default_name

        cfg.setdefault("config_name", default_name("config"))
        v1.create_config(cfg)
        return self._bound(config_name=cfg["config_name"])

    def update_job_configs(self, config_name: str | None = None, config_desc: str | None = None,
                           inputs: str | None = None, dataset_id: str | None = None,
                           dataset_version_id: str | None = None,
                           data_source: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        name = config_name or self.config_name
        if not name:
            raise UsageError("config_name is required")
        cfg = self._config(inputs, dataset_id, dataset_version_id, data_source)
        if config_desc is not None:
            cfg["config_desc"] = config_desc
        return dict(_v1(self.session).update_config(name, cfg))

    def get_job_configs_info(self) -> dict[str, Any]:
        if not self.config_name:
            raise UsageError("this Estimator has no config_name")
        return dict(_v1(self.session).get_config(self.config_name))

    def delete_job_configs(self) -> dict[str, Any]:
        if not self.config_name:
            raise UsageError("this Estimator has no config_name")
        return dict(_v1(self.session).delete_config(self.config_name))

    @staticmethod
    def get_job_configs_list(modelarts_session: Any, per_page: int = 10, page: int = 1, sort_by: str | None = None,
                             order: str = "asc", search_content: str | None = None,
                             config_type: str | None = None) -> dict[str, Any]:
        return dict(_v1(modelarts_session).list_configs(per_page=per_page, page=page, sort_by=sort_by, order=order,
                                                        search_content=search_content, config_type=config_type))

    @staticmethod
    def get_job_configs_object_list(modelarts_session: Any, is_show: bool = False, **query: Any) -> list[Estimator]:
        configs = Estimator.get_job_configs_list(modelarts_session, **query).get("configs") or []
        if is_show:
            print(configs)
        return [Estimator(modelarts_session, config_name=c["config_name"]) for c in configs]

    # ------------------------------------------------------------------ catalogues

    @staticmethod
    def get_builtin_algorithms(modelarts_session: Any, **query: Any) -> dict[str, Any]:
        return dict(_v1(modelarts_session).builtin_algorithms(**query))

    @staticmethod
    def get_train_instance_types(modelarts_session: Any) -> list[dict[str, Any]]:
        return list(_v1(modelarts_session).resource_specs().get("specs") or [])

    @staticmethod
    def get_framework_list(modelarts_session: Any) -> list[dict[str, Any]]:
        return [{"framework_type": e["engine_name"], "framework_version": e["engine_version"]}
                for e in _v1(modelarts_session).engines().get("engines") or []]


class VisualizationJob:
    """A TensorBoard/MindInsight job: ``VisualizationJob(session[, visualization_id])``."""

    def __init__(self, modelarts_session: Any, visualization_id: Any = None, **attrs: Any) -> None:
        self.session = modelarts_session
        self.visualization_id = visualization_id
        self.create_time = attrs.get("create_time")
        self.job_name = attrs.get("job_name")
        self.status = attrs.get("status")

    def __repr__(self) -> str:
        return f"VisualizationJob(visualization_id={self.visualization_id!r}, job_name={self.job_name!r})"

    def _id(self) -> Any:
        if self.visualization_id in (None, ""):
            raise UsageError("this VisualizationJob has no visualization_id")
        return self.visualization_id

    def create_visualization_job(self, train_url: str, job_name: str | None = None, job_desc: str | None = None,
                                 job_type: str | None = None) -> VisualizationJob:
        out = _v1(self.session).create_visualization(train_url, job_name=job_name, job_desc=job_desc,
                                                     job_type=job_type)
        return VisualizationJob(self.session, out["job_id"], **out)

    @staticmethod
    def get_visualization_job_list(modelarts_session: Any, status: int | None = None, per_page: int = 10,
                                   page: int = 1, sort_by: str | None = None, order: str = "asc",
                                   search_content: str | None = None) -> dict[str, Any]:
        return dict(_v1(modelarts_session).list_visualizations(status=status, per_page=per_page, page=page,
                                                               sort_by=sort_by, order=order,
                                                               search_content=search_content))

    @staticmethod
    def get_visualization_job_object_list(modelarts_session: Any, is_show: bool = False,
                                          **query: Any) -> list[VisualizationJob]:
        jobs = VisualizationJob.get_visualization_job_list(modelarts_session, **query).get("jobs") or []
        if is_show:
            print(jobs)
        return [VisualizationJob(modelarts_session, j["job_id"], **j) for j in jobs]

    def get_visualization_job_info(self) -> dict[str, Any]:
        return dict(_v1(self.session).get_visualization(self._id()))

    def update_visualization_job(self, job_desc: str) -> dict[str, Any]:
        return dict(_v1(self.session).update_visualization(self._id(), job_desc))

    def stop_visualization_job(self) -> dict[str, Any]:
        return dict(_v1(self.session).stop_visualization(self._id()))

    def restart_visualization_job(self) -> dict[str, Any]:
        return dict(_v1(self.session).restart_visualization(self._id()))

    def delete_visualization_job(self) -> dict[str, Any]:
        return dict(_v1(self.session).delete_visualization(self._id()))
