"""Wire bodies of training jobs, new version (api.md §11.2; the official ``Job``
model), built from SDK-style options and checked before anything is sent: phases,
channels, parameters, environment variables, and the algorithm (code, image, or a v2
algorithm's id)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from mafmt.errors import UsageError

__all__ = ["ENV_NAME", "FAILED_PHASES", "KINDS", "PHASES", "TERMINAL_PHASES", "job_body", "job_done", "parameters_wire", "phase_of"]

#: ``status.phase`` values (api.md §1.6)
PHASES = ("Creating", "Pending", "Running", "Completed", "Failed", "Terminating", "Terminated", "Abnormal")
TERMINAL_PHASES = frozenset({"Completed", "Failed", "Terminated", "Abnormal"})
FAILED_PHASES = frozenset({"Failed", "Abnormal"})
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: environment variable names the official model allows
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: ``Job.kind`` values of the official model
KINDS = ("job", "federated_pool_job", "edge_job", "hetero_job", "mrs_job", "autosearch_job", "diag_job",
         "visualization_job")


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
        for key in ("description", "constraint", "i18n_description"):
            if p.get(key) is not None:
                item[key] = p[key]
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
    algorithm_id: str | None = None,
    kind: str = "job",
) -> dict[str, Any]:
    """The wire body of ``POST …/training-jobs`` (api.md §11.2), validated first."""
    name = name or "job-" + datetime.now().strftime("%Y%m%d-%H%M%S")
    if not _NAME.match(name):
        raise UsageError(f"job name {name!r}: 1-64 letters, digits, '_' or '-'")
    if description is not None and len(description) > 256:
        raise UsageError("job description: at most 256 characters")
    if inputs and (dataset_id or dataset_version_id):
        raise UsageError("give inputs or dataset_id (+ dataset_version_id), not both")
    if dataset_version_id and not dataset_id:
        raise UsageError("dataset_version_id needs dataset_id")
    if bool(code_dir) != bool(boot_file):
        raise UsageError("code_dir and boot_file go together")
    if bool(user_image_url) != bool(user_command) and not (user_image_url and framework_type):
        raise UsageError("a custom image needs both user_image_url and user_command")
    if not user_image_url and not framework_type and not algorithm_id:
        raise UsageError("give framework_type/framework_version, user_image_url/user_command or algorithm_id")
    if algorithm_id and (code_dir or user_image_url):
        raise UsageError("algorithm_id brings its own code: do not give code_dir or user_image_url too")
    if kind not in KINDS:
        raise UsageError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if int(node_count) < 1:
        raise UsageError("train_instance_count must be at least 1")
    if not flavor_id and not pool_id:
        raise UsageError("train_instance_type (a flavor ID) is required")
    if env_variables and len(env_variables) > 100:
        raise UsageError("at most 100 environment variables")
    for var in env_variables or {}:
        if not ENV_NAME.match(var):
            raise UsageError(f"environment variable {var!r}: letters, digits and '_', starting with a letter or '_'")
    algorithm: dict[str, Any] = {"id": algorithm_id} if algorithm_id else {}
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
        dataset = {"id": dataset_id, **({"version_id": dataset_version_id} if dataset_version_id else {})}
        chans = [{"name": "data_url", "remote": {"dataset": dataset}}]
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
    if engine:
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
    return {"kind": kind, "metadata": metadata, "algorithm": algorithm, "spec": spec}
