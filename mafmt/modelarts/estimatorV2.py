# ruff: noqa: N999 - the SDK's module name
"""``modelarts.estimatorV2.Estimator``: training jobs, new version (SDK chapter 8), on
:class:`mafmt.client.training_jobs.TrainingJobs`; ``train_instance_type="local"`` runs
the script here through :mod:`mafmt.local_training` without any ModelArts call."""

from __future__ import annotations

import os
import sys
from typing import Any

from mafmt.client import ModelArts
from mafmt.client.training_jobs import job_body
from mafmt.errors import UsageError
from mafmt.modelarts.train_params import InputData, OutputData, TrainingFiles

__all__ = ["Estimator", "TrainingJob"]

#: first polling interval of ``fit(wait=True)`` (seconds)
POLL = 1.0


def _client(session: Any) -> ModelArts:
    client = getattr(session, "client", None)
    if not isinstance(client, ModelArts):
        raise UsageError("expected a mafmt.modelarts.session.Session")
    return client


def _obs_ready(session: Any) -> None:
    configure = getattr(session, "_configure_obs", None)
    if configure is not None:
        configure()


class TrainingJob:
    """A submitted job (``fit()``'s result): ``job_id`` and the per-job calls."""

    def __init__(self, session: Any, job_id: str) -> None:
        self.session = session
        self.job_id = job_id

    def __repr__(self) -> str:
        return f"TrainingJob(job_id={self.job_id!r})"

    @property
    def _jobs(self) -> Any:
        return _client(self.session).training_jobs

    def get_job_info(self) -> dict[str, Any]:
        """The job object (api.md §11.3)."""
        return dict(self._jobs.get(self.job_id))

    def update_job_configs(self, description: str) -> None:
        """Change the job description."""
        self._jobs.update(self.job_id, description)

    def delete_job(self) -> None:
        self._jobs.delete(self.job_id)

    def control_job(self, action_type: str = "terminate") -> dict[str, Any]:
        """Terminate the job; returns the job object."""
        if action_type != "terminate":
            raise UsageError("the only action is 'terminate'")
        return dict(self._jobs.stop(self.job_id))

    def get_job_log(self, task_id: str = "worker-0") -> str:
        """The log text of one worker (latest 5 MB)."""
        return str(self._jobs.logs(self.job_id, task_id).get("content") or "")

    def get_job_metrics(self, task_id: str = "worker-0") -> dict[str, Any]:
        return dict(self._jobs.metrics(self.job_id, task_id))

    def wait(self, timeout: float = 3600.0, poll: float | None = None, show_log: bool = False) -> dict[str, Any]:
        """Until a terminal phase; raises TaskFailedError for Failed/Abnormal."""
        return dict(self._jobs.wait(self.job_id, timeout=timeout, poll=POLL if poll is None else poll,
                                    show_log=show_log))


class Estimator(TrainingJob):
    """A training job description (see api.md §11.1 for every argument), or a handle
    on an existing job with ``Estimator(session, job_id=…)``."""

    def __init__(self, session: Any, job_id: str | None = None, training_files: TrainingFiles | None = None,
                 outputs: list[OutputData] | None = None, parameters: list[dict[str, Any]] | None = None,
                 train_instance_type: str | None = None, train_instance_count: int = 1,
                 framework_type: str | None = None, framework_version: str | None = None,
                 user_image_url: str | None = None, user_command: str | None = None, log_url: str | None = None,
                 local_code_dir: str | None = None, working_dir: str | None = None,
                 job_description: str | None = None, volumes: list[dict[str, Any]] | None = None,
                 env_variables: dict[str, str] | None = None, pool_id: str | None = None,
                 script_interpreter: str | None = None, poll: float | None = None, **_ignored: Any) -> None:
        super().__init__(session, job_id or "")
        self.training_files = training_files
        self.outputs = list(outputs or [])
        self.parameters = list(parameters or [])
        self.train_instance_type = train_instance_type
        self.train_instance_count = train_instance_count
        self.framework_type, self.framework_version = framework_type, framework_version
        self.user_image_url, self.user_command = user_image_url, user_command
        self.log_url = log_url
        self.local_code_dir, self.working_dir = local_code_dir, working_dir
        self.job_description = job_description
        self.volumes, self.env_variables, self.pool_id = volumes, env_variables, pool_id
        self.script_interpreter = script_interpreter
        self.poll = POLL if poll is None else poll

    def __repr__(self) -> str:
        return f"Estimator(job_id={self.job_id or None!r}, train_instance_type={self.train_instance_type!r})"

    def fit(self, inputs: list[InputData] | None = None, wait: bool = False, job_name: str | None = None,
            show_log: bool = False, dataset_id: str | None = None, dataset_version_id: str | None = None,
            timeout: float = 3600.0) -> Any:
        """Submit the job (or run it locally); returns a :class:`TrainingJob` (remote) or a
        :class:`mafmt.local_training.LocalResult` (local). With ``wait`` it polls until a
        terminal phase, streaming the log when ``show_log``."""
        if inputs and (dataset_id or dataset_version_id):
            raise UsageError("inputs and dataset_id/dataset_version_id cannot be used together")
        if self.train_instance_type == "local":
            return self._fit_local(inputs or [], job_name)
        files = self.training_files
        code_dir = boot_file = None
        if files is not None:
            code_dir, boot_file = files.code_dir, files.boot_file
            if "://" not in code_dir:  # local code: upload to obs_path first
                if not files.obs_path:
                    raise UsageError("a local code_dir needs TrainingFiles(obs_path=...) for a remote job")
                _obs_ready(self.session)
                from mafmt.local_training import upload

                upload(code_dir, files.obs_path)
                code_dir = files.obs_path
        for item in inputs or []:
            if item.is_local_source:
                if not item.local_path:
                    raise UsageError("is_local_source needs a local_path")
                _obs_ready(self.session)
                from mafmt.local_training import upload

                upload(item.local_path, item.obs_path)
        body = job_body(
            name=job_name, description=self.job_description, code_dir=code_dir, boot_file=boot_file,
            parameters=self.parameters,
            inputs=[{"name": i.name or "data_url", "obs_url": i.obs_path} for i in inputs or []],
            dataset_id=dataset_id, dataset_version_id=dataset_version_id,
            outputs=[{"name": o.name or "train_url", "obs_url": o.obs_path} for o in self.outputs if o.obs_path],
            framework_type=self.framework_type, framework_version=self.framework_version,
            user_image_url=self.user_image_url, user_command=self.user_command, env_variables=self.env_variables,
            local_code_dir=self.local_code_dir, working_dir=self.working_dir, flavor_id=self.train_instance_type,
            node_count=self.train_instance_count, pool_id=self.pool_id, log_url=self.log_url, volumes=self.volumes)
        job = _client(self.session).training_jobs.create(body)
        self.job_id = job.metadata["id"]
        handle = TrainingJob(self.session, self.job_id)
        if wait or show_log:
            handle.wait(timeout=timeout, poll=self.poll, show_log=show_log)
        return handle

    def _fit_local(self, inputs: list[InputData], job_name: str | None) -> Any:
        from mafmt.local_training import LocalJob, run_local

        if self.train_instance_count != 1:
            raise UsageError("local training runs on one node (train_instance_count=1)")
        if self.training_files is None:
            raise UsageError("local training needs training_files")
        for item in inputs:
            if not item.local_path:
                raise UsageError("local training needs InputData(local_path=...)")
        _obs_ready(self.session)
        job = LocalJob(
            code_dir=self.training_files.code_dir, boot_file=self.training_files.boot_file,
            job_name=job_name or "local-job",
            inputs=[(i.obs_path, i.local_path or "", i.name, i.is_local_source) for i in inputs],
            outputs=[(o.local_path, o.obs_path, o.name) for o in self.outputs if o.local_path],
            parameters=self.parameters, interpreter=self.script_interpreter, working_dir=self.working_dir,
            env=dict(self.env_variables or {}), log_url=self.log_url)
        if job.interpreter and not os.path.exists(job.interpreter):
            job.interpreter = sys.executable  # the SDK examples name a notebook's conda python
        return run_local(job)

    # ------------------------------------------------------------------ class-level calls

    @staticmethod
    def get_job_list(session: Any, offset: int = 0, limit: int = 10, sort_by: str = "create_time",
                     order: str = "desc", group_by: str | None = None,
                     filters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """One page of ``training-job-searches`` (``offset``: the page index, from 0)."""
        return dict(_client(session).training_jobs.search(offset=offset, limit=limit, sort_by=sort_by, order=order,
                                                          group_by=group_by, filters=filters))

    @staticmethod
    def delete_job_by_id(session: Any, job_id: str) -> None:
        _client(session).training_jobs.delete(job_id)

    @staticmethod
    def control_job_by_id(session: Any, job_id: str, action_type: str = "terminate") -> dict[str, Any]:
        return TrainingJob(session, job_id).control_job(action_type)

    @staticmethod
    def get_spec_list(session: Any, flavor_type: str | None = None) -> dict[str, Any]:
        """``{total_count, flavors}``."""
        return dict(_client(session).training_jobs.flavors(flavor_type))

    @staticmethod
    def get_train_instance_types(session: Any) -> list[dict[str, Any]]:
        """The flavors (each with ``flavor_id`` and ``max_num``)."""
        return list(_client(session).training_jobs.flavors().get("flavors") or [])

    @staticmethod
    def get_framework_list(session: Any) -> list[dict[str, Any]]:
        """``[{framework_type, framework_version}]`` of the preset engines."""
        return [{"framework_type": e.get("engine_name"), "framework_version": e.get("engine_version")}
                for e in _client(session).training_jobs.engines().get("items") or []]
