"""Training jobs, new version (api.md §11): create, search, get, update, delete,
terminate, logs, metrics, flavors and engines, with a waiter that can stream logs."""

from __future__ import annotations

import re
import sys
import time
from datetime import datetime
from typing import Any, TextIO

from mafmt.client._errors import TaskFailedError, WaitTimeoutError
from mafmt.client._pages import PAGING, Page
from mafmt.client._resource import APIObject, Resource, Task, check_id
from mafmt.errors import UsageError

__all__ = ["FAILED_PHASES", "PHASES", "TERMINAL_PHASES", "TrainingJobs", "job_body", "job_done", "phase_of"]

BASE = "/v2/{project_id}/training-jobs"
#: ``status.phase`` values (api.md §1.6)
PHASES = ("Creating", "Pending", "Running", "Completed", "Failed", "Terminating", "Terminated", "Abnormal")
TERMINAL_PHASES = frozenset({"Completed", "Failed", "Terminated", "Abnormal"})
FAILED_PHASES = frozenset({"Failed", "Abnormal"})
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def phase_of(job: dict[str, Any]) -> str | None:
    """The job's ``status.phase``."""
    return (job.get("status") or {}).get("phase")


def job_done(job: dict[str, Any]) -> bool | None:
    """Waiter verdict: True completed (or terminated on request), False failed, None running."""
    phase = phase_of(job)
    if phase in FAILED_PHASES:
        return False
    if phase in ("Completed", "Terminated"):
        return True
    return None


def _channel(item: Any, kind: str) -> dict[str, Any]:
    """An input/output channel from ``{"name", "obs_url"|"obs_path"}`` or an object with those attributes."""
    if isinstance(item, dict):
        name, url = item.get("name"), item.get("obs_url") or item.get("obs_path")
        remote = item.get("remote")
    else:
        name, url, remote = getattr(item, "name", None), getattr(item, "obs_path", None), None
    if not name:
        raise UsageError(f"each {kind} needs a name (the argument the script receives)")
    if remote:
        return {"name": name, "remote": remote}
    if not url:
        raise UsageError(f"{kind} {name!r} needs an OBS path")
    return {"name": name, "remote": {"obs": {"obs_url": url}}}


def parameters_wire(parameters: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """SDK parameters (value str or int, or none for a boolean flag) as wire parameters."""
    out = []
    for p in parameters or []:
        if not isinstance(p, dict) or not p.get("name"):
            raise UsageError(f"a parameter must be a dict with a name, got {p!r}")
        item: dict[str, Any] = {"name": str(p["name"])}
        if p.get("value") is not None:
            item["value"] = str(p["value"])
        out.append(item)
    return out


def job_body(
    *,
    name: str | None = None,
    description: str | None = None,
    code_dir: str | None = None,
    boot_file: str | None = None,
    parameters: list[dict[str, Any]] | None = None,
    inputs: list[Any] | None = None,
    dataset_id: str | None = None,
    dataset_version_id: str | None = None,
    outputs: list[Any] | None = None,
    framework_type: str | None = None,
    framework_version: str | None = None,
    user_image_url: str | None = None,
    user_command: str | None = None,
    env_variables: dict[str, str] | None = None,
    local_code_dir: str | None = None,
    working_dir: str | None = None,
    flavor_id: str | None = None,
    node_count: int = 1,
    pool_id: str | None = None,
    log_url: str | None = None,
    volumes: list[dict[str, Any]] | None = None,
    workspace_id: str = "0",
) -> dict[str, Any]:
    """The wire body of ``POST …/training-jobs`` (api.md §11.2), validated first."""
    name = name or "job-" + datetime.now().strftime("%Y%m%d-%H%M%S")
    if not _NAME.match(name):
        raise UsageError(f"job name {name!r}: 1-64 letters, digits, '_' or '-'")
    if description is not None and len(description) > 256:
        raise UsageError("job description: at most 256 characters")
    if inputs and (dataset_id or dataset_version_id):
        raise UsageError("give inputs or dataset_id + dataset_version_id, not both")
    if bool(dataset_id) != bool(dataset_version_id):
        raise UsageError("dataset_id and dataset_version_id go together")
    if bool(code_dir) != bool(boot_file):
        raise UsageError("code_dir and boot_file go together")
    if bool(user_image_url) != bool(user_command) and not (user_image_url and framework_type):
        raise UsageError("a custom image needs both user_image_url and user_command")
    if not user_image_url and not framework_type:
        raise UsageError("give framework_type/framework_version or user_image_url/user_command")
    if int(node_count) < 1:
        raise UsageError("train_instance_count must be at least 1")
    if not flavor_id and not pool_id:
        raise UsageError("train_instance_type (a flavor ID) is required")
    if env_variables and len(env_variables) > 100:
        raise UsageError("at most 100 environment variables")
    algorithm: dict[str, Any] = {}
    if code_dir:
        assert boot_file is not None
        algorithm["code_dir"] = code_dir
        algorithm["boot_file"] = boot_file if "://" in boot_file or boot_file.startswith("/") else (
            code_dir.rstrip("/") + "/" + boot_file)
    if user_command:
        algorithm["command"] = user_command
    if parameters:
        algorithm["parameters"] = parameters_wire(parameters)
    chans = [_channel(i, "input") for i in inputs or []]
    if dataset_id:
        chans = [{"name": "data_url", "remote": {"dataset": {"id": dataset_id, "version_id": dataset_version_id}}}]
    if chans:
        algorithm["inputs"] = chans
    if outputs:
        algorithm["outputs"] = [_channel(o, "output") for o in outputs]
    engine: dict[str, Any] = {}
    if framework_type:
        engine["engine_name"] = framework_type
    if framework_version:
        engine["engine_version"] = framework_version
    if user_image_url:
        engine["image_url"] = user_image_url
    algorithm["engine"] = engine
    for key, value in (("environments", env_variables), ("local_code_dir", local_code_dir),
                       ("working_dir", working_dir)):
        if value:
            algorithm[key] = value
    resource: dict[str, Any] = {"node_count": int(node_count)}
    if flavor_id:
        resource["flavor_id"] = flavor_id
    if pool_id:
        resource["pool_id"] = pool_id
    spec: dict[str, Any] = {"resource": resource}
    if log_url:
        spec["log_export_path"] = {"obs_url": log_url}
    if volumes:
        spec["volumes"] = volumes
    metadata: dict[str, Any] = {"name": name, "workspace_id": workspace_id}
    if description is not None:
        metadata["description"] = description
    return {"kind": "job", "metadata": metadata, "algorithm": algorithm, "spec": spec}


class TrainingJobs(Resource):
    """``client.training_jobs`` (v2)."""

    def create(self, body: dict[str, Any] | None = None, *, wait: bool = False, timeout: float = 3600.0,
               poll: float = 1.0, **options: Any) -> Task:
        """Create a job from a wire ``body`` or from :func:`job_body` options; returns the
        job object (waitable)."""
        body = body or job_body(**options)
        name = body["metadata"]["name"]

        def reconcile() -> dict[str, Any] | None:
            found = self.list(filters=[{"key": "name", "operator": "in", "value": [name]}], max_items=1).first_page()
            return dict(found[0]) if found else None

        job = self._task(APIObject(self._post(BASE, body, reconcile=reconcile)))
        if wait:
            job.wait(timeout=timeout, poll=poll)
        return job

    def _task(self, data: dict[str, Any]) -> Task:
        job_id = data["metadata"]["id"]
        return Task(data).bind(lambda: self.get(job_id), job_done, f"training job {job_id}")

    def search(self, *, offset: int = 0, limit: int = 10, sort_by: str | None = None, order: str | None = None,
               group_by: str | None = None, filters: list[dict[str, Any]] | None = None) -> APIObject:
        """One page of ``training-job-searches`` (``offset`` is a page index from 0, as the
        official ``JobSearches`` model says)."""
        body = {k: v for k, v in {"offset": offset, "limit": limit, "sort_by": sort_by, "order": order,
                                  "group_by": group_by, "filters": filters}.items() if v is not None}
        return APIObject(self._t.request("POST", "/v2/{project_id}/training-job-searches", json_body=body,
                                         idempotent=True) or {})

    def list(self, *, filters: list[dict[str, Any]] | None = None, sort_by: str | None = None,
             order: str | None = None, limit: int = 50, offset: int | None = None,
             max_items: int | None = None) -> Page[APIObject]:
        """All matching jobs (lazy pages)."""

        def fetch(p: dict[str, Any]) -> dict[str, Any]:
            return self.search(offset=p["offset"], limit=p["limit"], sort_by=sort_by, order=order, filters=filters)

        return Page(fetch, items_key="items", total_key="count", id_key=None, limit=limit,
                    style=PAGING["ListTrainingJobs"], start=offset, convert=APIObject, max_items=max_items,
                    id_of=lambda j: (j.get("metadata") or {}).get("id"))

    def get(self, job_id: str) -> Task:
        """One job."""
        return self._task(APIObject(self._get(f"{BASE}/{check_id('job_id', job_id)}")))

    def update(self, job_id: str, description: str) -> None:
        """Change the description (0–256 characters)."""
        if len(description) > 256:
            raise UsageError("description: at most 256 characters")
        self._put(f"{BASE}/{check_id('job_id', job_id)}", {"description": description})

    def delete(self, job_id: str) -> None:
        self._delete(f"{BASE}/{check_id('job_id', job_id)}")

    def stop(self, job_id: str) -> APIObject:
        """Terminate a job (Creating, Pending or Running); returns the job object."""
        return APIObject(self._t.request("POST", f"{BASE}/{check_id('job_id', job_id)}/actions",
                                         json_body={"action_type": "terminate"}, idempotent=True) or {})

    def logs(self, job_id: str, task_id: str = "worker-0") -> APIObject:
        """Log preview ``{content, current_size, full_size}`` (latest 5 MB)."""
        body = self._get(f"{BASE}/{check_id('job_id', job_id)}/tasks/{check_id('task_id', task_id)}/logs/preview")
        body = APIObject(body or {"content": "", "current_size": 0, "full_size": 0})
        if "content" not in body and "context" in body:  # deployments before 2022-03
            body["content"] = body["context"]
        return body

    def log_url(self, job_id: str, task_id: str = "worker-0") -> str:
        """A short-lived link to the full log."""
        return (self._get(f"{BASE}/{check_id('job_id', job_id)}/tasks/{check_id('task_id', task_id)}/logs/url")
                or {}).get("obs_url", "")

    def metrics(self, job_id: str, task_id: str = "worker-0") -> APIObject:
        """``{metrics: [{metric, value: [...]}]}``."""
        return APIObject(self._get(f"{BASE}/{check_id('job_id', job_id)}/metrics/{check_id('task_id', task_id)}")
                         or {"metrics": []})

    def flavors(self, flavor_type: str | None = None) -> APIObject:
        """``{total_count, flavors}``; ``flavor_type``: CPU, GPU or Ascend."""
        return APIObject(self._get("/v2/{project_id}/training-job-flavors", flavor_type=flavor_type) or {})

    def engines(self) -> APIObject:
        """``{total, items}`` of preset engines."""
        return APIObject(self._get("/v2/{project_id}/training-job-engines") or {})

    def wait(self, job_id: str, *, timeout: float = 3600.0, poll: float = 1.0, show_log: bool | TextIO = False,
             max_poll: float = 10.0) -> APIObject:
        """Poll until a terminal phase, printing new log text when ``show_log``.

        Raises:
            TaskFailedError: the job ended Failed or Abnormal.
            WaitTimeoutError: ``timeout`` passed first.
        """
        out = (sys.stdout if show_log is True else show_log) or None
        deadline = time.monotonic() + timeout
        shown = 0
        delay = poll
        while True:
            job = self.get(job_id)
            if out is not None:
                text = self.logs(job_id).get("content") or ""
                if len(text) > shown:
                    out.write(text[shown:])
                    out.flush()
                    shown = len(text)
            verdict = job_done(job)
            if verdict is True:
                return job
            if verdict is False:
                msgs = [t.get("message") for t in (job.get("status") or {}).get("task_statuses") or []]
                msg = "; ".join(m for m in msgs if m) or "training job failed"
                raise TaskFailedError(f"training job {job_id} {phase_of(job)}: {msg}", result=job)
            if time.monotonic() + delay > deadline:
                raise WaitTimeoutError(f"training job {job_id} still {phase_of(job)} after {timeout:g}s", result=job)
            time.sleep(delay)
            delay = min(max_poll, delay * 2)
