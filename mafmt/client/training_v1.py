"""Legacy training (v1, api.md §12): jobs, versions, configurations with the seed 002/003
rules checked client-side, visualization jobs, built-in algorithms, specs, engines, and
the 0–22 job status table."""

from __future__ import annotations

import re
from datetime import datetime
from enum import IntEnum
from typing import Any

from mafmt.client._create import Identity
from mafmt.client._pages import PAGING, Page
from mafmt.client._resource import APIObject, Resource, Task, check_id
from mafmt.errors import UsageError

__all__ = ["ConfigRuleError", "JobStatus", "TrainingV1", "check_job_config", "v1_done"]

V1 = "/v1/{project_id}"


class JobStatus(IntEnum):
    """v1 training / visualization job status (api.md §12.8)."""

    JOBSTAT_UNKNOWN = 0
    JOBSTAT_INIT = 1
    JOBSTAT_IMAGE_CREATING = 2
    JOBSTAT_IMAGE_FAILED = 3
    JOBSTAT_SUBMIT_TRYING = 4
    JOBSTAT_SUBMIT_FAILED = 5
    JOBSTAT_DELETE_FAILED = 6
    JOBSTAT_WAITING = 7
    JOBSTAT_RUNNING = 8
    JOBSTAT_KILLING = 9
    JOBSTAT_COMPLETED = 10
    JOBSTAT_FAILED = 11
    JOBSTAT_KILLED = 12
    JOBSTAT_CANCELED = 13
    JOBSTAT_LOST = 14
    JOBSTAT_SCALING = 15
    JOBSTAT_SUBMIT_MODEL_FAILED = 16
    JOBSTAT_DEPLOY_SERVICE_FAILED = 17
    JOBSTAT_CHECK_INIT = 18
    JOBSTAT_CHECK_RUNNING = 19
    JOBSTAT_CHECK_RUNNING_COMPLETED = 20
    JOBSTAT_CHECK_FAILED = 21
    MOUNT_FAILED = 22

    @property
    def terminal(self) -> bool:
        return self in _SUCCESS or self in _FAILURE

    @property
    def failed(self) -> bool:
        return self in _FAILURE


_SUCCESS = {JobStatus.JOBSTAT_COMPLETED, JobStatus.JOBSTAT_KILLED, JobStatus.JOBSTAT_CANCELED,
            JobStatus.JOBSTAT_CHECK_RUNNING_COMPLETED}
_FAILURE = {JobStatus.JOBSTAT_IMAGE_FAILED, JobStatus.JOBSTAT_SUBMIT_FAILED, JobStatus.JOBSTAT_DELETE_FAILED,
            JobStatus.JOBSTAT_FAILED, JobStatus.JOBSTAT_LOST, JobStatus.JOBSTAT_SUBMIT_MODEL_FAILED,
            JobStatus.JOBSTAT_DEPLOY_SERVICE_FAILED, JobStatus.JOBSTAT_CHECK_FAILED, JobStatus.MOUNT_FAILED}


def v1_done(state: dict[str, Any]) -> bool | None:
    """Waiter verdict for a v1 job version."""
    try:
        status = JobStatus(int(state.get("status", 0)))
    except ValueError:
        return None
    if status.failed:
        return False
    return True if status.terminal else None


class ConfigRuleError(UsageError):
    """A v1 job configuration breaks one of the rules of api.md §12.4; ``rule`` names it."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule


RULES = {1: "rule 1 (code source)", 2: "rule 2 (data source)", 3: "rule 3 (data_source element)",
         4: "rule 4 (workers and spec)", 5: "rule 5 (config_name)"}
_CFG_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_RUN_TRAIN = re.compile(r"run_train\.sh\s+python")


def check_job_config(cfg: dict[str, Any], *, name_required: bool = False, max_num: int | None = None,
                     partial: bool = False) -> None:
    """Enforce the mutual-exclusion and co-requirement rules of seeds 002/003 (api.md §12.4).
    ``partial`` (a new job version, which inherits from its previous version): a rule is
    checked only when the configuration names one of its fields.

    Raises:
        ConfigRuleError: naming the broken rule (``rule 1 (code source)`` …).
    """
    has = {k: cfg.get(k) not in (None, "", []) for k in (
        "model_id", "app_url", "boot_file_url", "user_image_url", "user_command", "data_url", "dataset_id",
        "dataset_version_id", "data_source")}
    _check_fields(cfg)
    if has["app_url"] != has["boot_file_url"]:
        raise ConfigRuleError(RULES[1], "app_url and boot_file_url must be given together")
    if has["user_image_url"] != has["user_command"]:
        raise ConfigRuleError(RULES[1], "user_image_url and user_command must be given together")
    sources = [has["model_id"], has["app_url"] and not has["user_image_url"], has["user_image_url"]]
    if sum(sources) != 1 and not (partial and not any(sources)):
        raise ConfigRuleError(RULES[1], "exactly one of model_id, app_url+boot_file_url(+engine_id) or "
                                        f"user_image_url+user_command is required ({sum(sources)} given)")
    if has["app_url"] and has["boot_file_url"] and not str(cfg["boot_file_url"]).startswith(
            str(cfg["app_url"]).rstrip("/") + "/"):
        raise ConfigRuleError(RULES[1], "boot_file_url must lie in the code directory app_url")
    if has["user_command"] and not _RUN_TRAIN.search(str(cfg["user_command"])):
        raise ConfigRuleError(RULES[1], "user_command must invoke run_train.sh followed by python "
                                        "(bash /home/work/run_train.sh python … {python_file_parameter})")
    if has["dataset_id"] != has["dataset_version_id"]:
        raise ConfigRuleError(RULES[2], "dataset_id and dataset_version_id must be given together")
    forms = [has["data_url"], has["dataset_id"], has["data_source"]]
    if sum(forms) != 1 and not (partial and not any(forms)):
        raise ConfigRuleError(RULES[2], "exactly one of data_url, dataset_id+dataset_version_id or data_source "
                                        f"is required ({sum(forms)} given)")
    for i, el in enumerate(cfg.get("data_source") or []):
        kind = el.get("type") if isinstance(el, dict) else None
        keys = {k for k, v in (el or {}).items() if v not in (None, "") and k != "type"} if kind else set()
        if kind == "obs" and keys == {"data_url"}:
            continue
        if kind == "dataset" and keys == {"dataset_id", "dataset_version"}:
            continue
        raise ConfigRuleError(RULES[3], f"data_source[{i}] must be type 'obs' with data_url only, or type "
                                        "'dataset' with dataset_id and dataset_version only")
    workers = cfg.get("worker_server_num")
    if partial and workers is None and cfg.get("spec_id") is None:
        return
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ConfigRuleError(RULES[4], "worker_server_num must be an integer >= 1")
    if max_num is not None and workers > max_num:
        raise ConfigRuleError(RULES[4], f"worker_server_num {workers} exceeds the spec's max_num {max_num}")
    if cfg.get("spec_id") is None and not cfg.get("pool_id"):
        raise ConfigRuleError(RULES[4], "spec_id is required (or pool_id for a dedicated pool)")
    if name_required and not _CFG_NAME.match(str(cfg.get("config_name") or "")):
        raise ConfigRuleError(RULES[5], "config_name must be 1-64 letters, digits, '_' or '-'")


def _check_fields(cfg: dict[str, Any]) -> None:
    """The per-field constraints of the same table (lengths and types)."""
    if len(str(cfg.get("config_desc") or "")) > 256:
        raise ConfigRuleError("config_desc", "at most 256 characters")
    for i, p in enumerate(cfg.get("parameter") or []):
        if not isinstance(p, dict) or not all(isinstance(p.get(k, ""), str) for k in ("label", "value")):
            raise ConfigRuleError("parameter", f"parameter[{i}] must be {{label, value}} with string values")


def default_name(prefix: str) -> str:
    return f"{prefix}-{datetime.now():%Y%m%d%H%M%S}"


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


class TrainingV1(Resource):
    """``client.training_v1``: every v1 call returns the ``is_success`` envelope as an object."""

    # ------------------------------------------------------------------ jobs

    def create_job(self, job_name: str | None, config: dict[str, Any], *, job_desc: str | None = None,
                   workspace_id: str | None = None, wait: bool = False, timeout: float = 3600.0,
                   poll: float = 1.0) -> Task:
        """Create a job (its first version); returns ``{job_id, version_id, status, …}``."""
        check_job_config(config)
        name = job_name or default_name("job")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise UsageError(f"job_name {name!r}: 1-64 letters, digits, '_' or '-'")
        body = _clean({"job_name": name, "job_desc": job_desc, "workspace_id": workspace_id, "config": config})

        ident = Identity("v1 training job", name, find=lambda: self.list_jobs(search_content=name).get("jobs") or [],
                         created=lambda job: job.get("create_time"), matches=lambda job: job.get("job_name") == name,
                         result=lambda job: dict(job, is_success=True), exists_codes=frozenset({"ModelArts.0103"}))
        out = APIObject(self._post(f"{V1}/training-jobs", body, create=ident))
        return self._version_task(out, wait, timeout, poll)

    def _version_task(self, out: dict[str, Any], wait: bool, timeout: float, poll: float) -> Task:
        job_id, version_id = out["job_id"], out["version_id"]
        task = Task(out).bind(lambda: self.get_version(job_id, version_id), v1_done,
                              f"training job {job_id} version {version_id}")
        if wait:
            task.wait(timeout=timeout, poll=poll)
        return task

    def list_jobs(self, *, status: int | None = None, per_page: int = 10, page: int = 1, sort_by: str | None = None,
                  order: str | None = None, search_content: str | None = None,
                  workspace_id: str | None = None) -> APIObject:
        """One page: ``{job_total_count, job_count_limit, quotas, jobs}``."""
        return APIObject(self._get(f"{V1}/training-jobs", status=status, per_page=per_page, page=page,
                                   sortBy=sort_by, order=order, search_content=search_content,
                                   workspace_id=workspace_id))

    def iter_jobs(self, *, per_page: int = 100, **query: Any) -> Page[APIObject]:
        """Every job (lazy, 1-based pages)."""
        return Page(lambda p: self.list_jobs(**query, **p), items_key="jobs", total_key="job_total_count",
                    id_key="job_id", limit=per_page, style=PAGING["ListTrainingJobsV1"], convert=APIObject)

    def update_job(self, job_id: Any, job_desc: str) -> APIObject:
        return APIObject(self._put(f"{V1}/training-jobs/{job_id}", {"job_desc": job_desc}))

    def delete_job(self, job_id: Any) -> APIObject:
        return APIObject(self._delete(f"{V1}/training-jobs/{job_id}"))

    # ------------------------------------------------------------------ versions

    def create_version(self, job_id: Any, config: dict[str, Any], *, job_desc: str | None = None,
                       wait: bool = False, timeout: float = 3600.0, poll: float = 1.0) -> Task:
        """A new version from ``config`` (which carries ``pre_version_id``)."""
        if config.get("pre_version_id") is None:
            raise UsageError("pre_version_id is required to create a job version")
        check_job_config(config, partial=True)
        out = APIObject(self._post(f"{V1}/training-jobs/{job_id}/versions",
                                   _clean({"job_desc": job_desc, "config": config})))
        return self._version_task(out, wait, timeout, poll)

    def list_versions(self, job_id: Any, *, per_page: int = 10, page: int = 0) -> APIObject:
        """``{job_id, job_name, version_count, versions}`` (``page=0``: all)."""
        return APIObject(self._get(f"{V1}/training-jobs/{job_id}/versions", per_page=per_page, page=page))

    def get_version(self, job_id: Any, version_id: Any) -> APIObject:
        return APIObject(self._get(f"{V1}/training-jobs/{job_id}/versions/{version_id}"))

    def stop_version(self, job_id: Any, version_id: Any) -> APIObject:
        return APIObject(self._t.request("POST", f"{V1}/training-jobs/{job_id}/versions/{version_id}/stop",
                                         idempotent=True))

    def delete_version(self, job_id: Any, version_id: Any) -> APIObject:
        return APIObject(self._delete(f"{V1}/training-jobs/{job_id}/versions/{version_id}"))

    def log_files(self, job_id: Any, version_id: Any) -> list[str]:
        body = self._get(f"{V1}/training-jobs/{job_id}/versions/{version_id}/log/file-names")
        return list(body.get("log_file_list") or [])

    def log(self, job_id: Any, version_id: Any, log_file: str, *, start_byte: int = 0,
            offset: int = 2048) -> APIObject:
        """Log lines; SDK ``start_byte``/``offset`` translated to ``base_line``/``lines``/``order``
        (api.md §12.5)."""
        if start_byte < -1 or not -2048 <= offset <= 2048:
            raise UsageError("start_byte must be >= -1 and offset within -2048..2048")
        params = {"log_file": check_id("log_file", log_file), "lines": min(abs(offset), 500),
                  "order": "asc" if offset < 0 else "desc"}
        if start_byte >= 0:
            params["base_line"] = str(start_byte)
        return APIObject(self._get(f"{V1}/training-jobs/{job_id}/versions/{version_id}/aom-log", **params))

    # ------------------------------------------------------------------ configurations

    def create_config(self, config: dict[str, Any]) -> APIObject:
        """Create a job configuration (``config_name`` generated when absent)."""
        config = dict(config)
        config.setdefault("config_name", default_name("config"))
        check_job_config(config, name_required=True)
        return APIObject(self._post(f"{V1}/training-job-configs", config))

    def list_configs(self, *, per_page: int = 10, page: int = 1, sort_by: str | None = None,
                     order: str | None = None, search_content: str | None = None,
                     config_type: str | None = None) -> APIObject:
        return APIObject(self._get(f"{V1}/training-job-configs", per_page=per_page, page=page, sortBy=sort_by,
                                   order=order, search_content=search_content, config_type=config_type))

    def get_config(self, config_name: str, config_type: str | None = None) -> APIObject:
        return APIObject(self._get(f"{V1}/training-job-configs/{check_id('config_name', config_name)}",
                                   config_type=config_type))

    def update_config(self, config_name: str, config: dict[str, Any]) -> APIObject:
        body = {k: v for k, v in config.items() if k != "config_name"}
        check_job_config(body)
        return APIObject(self._put(f"{V1}/training-job-configs/{check_id('config_name', config_name)}", body))

    def delete_config(self, config_name: str) -> APIObject:
        return APIObject(self._delete(f"{V1}/training-job-configs/{check_id('config_name', config_name)}"))

    # ------------------------------------------------------------------ visualization jobs

    def create_visualization(self, train_url: str, *, job_name: str | None = None, job_desc: str | None = None,
                             job_type: str | None = None, schedule: Any = None) -> APIObject:
        name = job_name or default_name("vis")[:20]
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", name):
            raise UsageError(f"visualization job_name {name!r}: 1-20 letters, digits, '_' or '-'")
        if not train_url:
            raise UsageError("train_url is required")
        body = _clean({"job_name": name, "job_desc": job_desc, "train_url": train_url, "job_type": job_type,
                       "schedule": schedule})
        return APIObject(self._post(f"{V1}/visualization-jobs", body))

    def list_visualizations(self, *, status: int | None = None, per_page: int = 10, page: int = 1,
                            sort_by: str | None = None, order: str | None = None,
                            search_content: str | None = None) -> APIObject:
        return APIObject(self._get(f"{V1}/visualization-jobs", status=status, per_page=per_page, page=page,
                                   sortBy=sort_by, order=order, search_content=search_content))

    def get_visualization(self, job_id: Any) -> APIObject:
        return APIObject(self._get(f"{V1}/visualization-jobs/{job_id}"))

    def update_visualization(self, job_id: Any, job_desc: str) -> APIObject:
        return APIObject(self._put(f"{V1}/visualization-jobs/{job_id}", {"job_desc": job_desc}))

    def stop_visualization(self, job_id: Any) -> APIObject:
        return APIObject(self._t.request("POST", f"{V1}/visualization-jobs/{job_id}/stop", idempotent=True))

    def restart_visualization(self, job_id: Any) -> APIObject:
        return APIObject(self._t.request("POST", f"{V1}/visualization-jobs/{job_id}/restart", idempotent=True))

    def delete_visualization(self, job_id: Any) -> APIObject:
        return APIObject(self._delete(f"{V1}/visualization-jobs/{job_id}"))

    # ------------------------------------------------------------------ catalogues

    def builtin_algorithms(self, *, per_page: int = 100, page: int = 1, **query: Any) -> APIObject:
        return APIObject(self._get(f"{V1}/built-in-algorithms", per_page=per_page, page=page, **query))

    def resource_specs(self, job_type: str = "train", **query: Any) -> APIObject:
        return APIObject(self._get(f"{V1}/job/resource-specs", job_type=job_type, **query))

    def engines(self, job_type: str = "train") -> APIObject:
        return APIObject(self._get(f"{V1}/job/ai-engines", job_type=job_type))

    def spec_id(self, spec_code: str) -> tuple[int, int]:
        """(spec_id, max_num) of a flavor code such as ``modelarts.vm.cpu.2u``."""
        for spec in self.resource_specs().get("specs") or []:
            if spec.get("spec_code") == spec_code:
                return int(spec["spec_id"]), int(spec.get("max_num") or 1)
        raise UsageError(f"unknown train_instance_type {spec_code!r}")

    def engine_id(self, name: str, version: str | None) -> int:
        """The ``engine_id`` of an engine name (+ version)."""
        for eng in self.engines().get("engines") or []:
            if eng.get("engine_name") == name and (version is None or eng.get("engine_version") == version):
                return int(eng["engine_id"])
        raise UsageError(f"unknown framework {name!r} {version or ''}".rstrip())

    def model_id(self, model_name: str) -> int:
        """The ``model_id`` of a built-in algorithm name."""
        for algo in self.builtin_algorithms(search_content=model_name).get("models") or []:
            if algo.get("model_name") == model_name:
                return int(algo["model_id"])
        raise UsageError(f"unknown built-in algorithm {model_name!r}")
