"""Handlers: legacy training (api.md §12) — jobs and versions (status 1 → 7 → 8 → 10,
one per tick; 11 when a failure was forced; stop → 9 → 12), configurations with the
rules of seeds 002/003, visualization jobs, built-in algorithms, specs and engines.
Every answer carries the ``is_success`` envelope."""

from __future__ import annotations

import re
from typing import Any

from mafmt.client.training_v1 import ConfigRuleError, check_job_config
from mafmt.emulator import _validate as v
from mafmt.emulator._http import ApiError, Request, Response, Router
from mafmt.emulator._ml import BUILTIN, V1_ENGINES, V1_SPECS, MLState, ml_state, v1_error, write_obs
from mafmt.emulator._state import Store

__all__ = ["register"]

P = "/v1/{project_id}"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_VIS_NAME = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
FINAL = {3, 5, 6, 10, 11, 12, 13, 14, 16, 17, 20, 21, 22}


def ok(**body: Any) -> Response:
    return Response(200, {"is_success": True, **body})


def _body(req: Request) -> dict[str, Any]:
    try:
        return v.body(req)
    except ApiError as exc:
        raise v1_error(400, "ModelArts.0101", exc.msg) from None


def _check(store: Store, cfg: dict[str, Any], *, name_required: bool = False) -> dict[str, Any]:
    spec = next((s for s in V1_SPECS if s["spec_id"] == cfg.get("spec_id")), None)
    if cfg.get("spec_id") is not None and spec is None and not cfg.get("pool_id"):
        raise v1_error(400, "ModelArts.0105", f"rule 4 (workers and spec): spec_id {cfg.get('spec_id')} does not exist")
    try:
        check_job_config(cfg, name_required=name_required, max_num=int(spec["max_num"]) if spec else None)
    except ConfigRuleError as exc:
        raise v1_error(400, "ModelArts.0105", str(exc)) from None
    if cfg.get("engine_id") is not None and not any(e["engine_id"] == cfg["engine_id"] for e in V1_ENGINES):
        raise v1_error(400, "ModelArts.0105", f"engine_id {cfg['engine_id']} does not exist")
    if cfg.get("dataset_id"):
        rec = store.datasets.get(cfg["dataset_id"])
        if rec is None or cfg.get("dataset_version_id") not in rec.versions:
            raise v1_error(400, "ModelArts.0105", "dataset or dataset version does not exist")
    return spec or {}


def _version_record(store: Store, ml: MLState, job: dict[str, Any], cfg: dict[str, Any], spec: dict[str, Any],
                    pre: int | None) -> dict[str, Any]:
    vid = next(ml.ids)
    eng = next((e for e in V1_ENGINES if e["engine_id"] == cfg.get("engine_id", 1)), V1_ENGINES[0])
    version = {
        **{k: x for k, x in cfg.items() if k != "pre_version_id"},
        "version_id": vid, "version_name": f"V{len(job['versions']) + 1:04d}", "pre_version_id": pre,
        "engine_type": eng["engine_type"], "engine_name": eng["engine_name"], "engine_id": eng["engine_id"],
        "engine_version": eng["engine_version"], "status": 1, "create_time": store.now_ms(), "duration": 0,
        "spec_code": spec.get("spec_code", ""), "core": spec.get("core", ""), "cpu": spec.get("cpu", ""),
        "gpu": bool(spec.get("gpu_num")), "gpu_num": spec.get("gpu_num", 0), "gpu_type": spec.get("gpu_type", ""),
        "model_metric_list": "", "system_metric_list": {"cpuUsage": [], "memUsage": [], "gpuUtil": []},
        "_created": store.clock(), "_stop_at": None, "_failure": store.take_failure("training"),
    }
    job["versions"][vid] = version
    return version


def _advance(store: Store, ml: MLState, job: dict[str, Any], version: dict[str, Any]) -> None:
    if version["status"] in FINAL:
        return
    if version["_stop_at"] is not None:
        version["status"] = 9 if ml.ticks(store, version["_stop_at"]) < 1 else 12
    else:
        n = ml.ticks(store, version["_created"])
        end = 2 + ml.run_ticks
        version["status"] = 1 if n < 1 else 7 if n < 2 else 8 if n < end else (11 if version["_failure"] else 10)
        if n >= 2:
            done = min(int(n - 2) + 1, ml.run_ticks)
            for key in ("cpuUsage", "memUsage", "gpuUtil"):
                series = version["system_metric_list"][key]
                series.extend([12.5 + len(series)] * (done - len(series)))
    version["duration"] = int((store.clock() - version["_created"]) * 1000)
    if version["status"] in FINAL and version.get("log_url"):
        write_obs(store, version["log_url"].rstrip("/") + f"/{job['job_name']}.0", _log(job, version).encode())


def _log(job: dict[str, Any], version: dict[str, Any]) -> str:
    lines = [f"job {job['job_name']} version {version['version_name']} status {version['status']}"]
    lines += [f"step {i + 1} cpu {x}" for i, x in enumerate(version["system_metric_list"]["cpuUsage"])]
    if version["_failure"]:
        lines.append(f"ERROR {version['_failure'].get('error_msg', 'failed')}")
    return "\n".join(lines) + "\n"


def _public(d: dict[str, Any]) -> dict[str, Any]:
    return {k: x for k, x in d.items() if not k.startswith("_")}


def _paged(req: Request, items: list[dict[str, Any]], keys: tuple[str, ...], default_key: str,
           default_order: str, hi: int = 1000) -> list[dict[str, Any]]:
    per_page = v.int_param(req, "per_page", 10, 1, hi) or 10
    page = v.int_param(req, "page", 1, 0, 65535)
    key = req.params.get("sortBy") or req.params.get("sort_by") or default_key
    if key not in keys:
        raise v1_error(400, "ModelArts.0104", f"sortBy must be one of {', '.join(keys)}")
    order = v.choice_param(req, "order", default_order, ("asc", "desc"))
    search = (req.params.get("search_content") or "").lower()
    name_key = "config_name" if "config_name" in keys else "model_name" if "model_name" in keys else "job_name"
    items = [i for i in items if search in str(i.get(name_key, "")).lower()]
    items.sort(key=lambda i: (str(i.get(key, "")) if not isinstance(i.get(key), int) else i[key]),
               reverse=order == "desc")
    return items if not page else items[(page - 1) * per_page: page * per_page]


def register(router: Router, store: Store) -> None:
    """Add the v1 training, configuration, visualization and catalogue routes."""
    ml = ml_state(store)

    def job_of(req: Request) -> dict[str, Any]:
        try:
            job = ml.v1_jobs.get(int(req.route["job_id"]))
        except ValueError:
            job = None
        if job is None:
            raise v1_error(404, "ModelArts.0105", f"training job {req.route['job_id']} does not exist")
        return job

    def version_of(req: Request) -> tuple[dict[str, Any], dict[str, Any]]:
        job = job_of(req)
        try:
            version = job["versions"].get(int(req.route["version_id"]))
        except ValueError:
            version = None
        if version is None:
            raise v1_error(404, "ModelArts.0105", f"job version {req.route['version_id']} does not exist")
        _advance(store, ml, job, version)
        return job, version

    def summary(job: dict[str, Any]) -> dict[str, Any]:
        latest = job["versions"][max(job["versions"])] if job["versions"] else {}
        if latest:
            _advance(store, ml, job, latest)
        return {"job_id": job["job_id"], "job_name": job["job_name"], "job_desc": job["job_desc"],
                "version_id": latest.get("version_id"), "status": latest.get("status", 0),
                "create_time": job["create_time"], "duration": latest.get("duration", 0),
                "version_count": len(job["versions"])}

    def create_job(req: Request) -> Response:
        body = _body(req)
        name, cfg = body.get("job_name"), body.get("config")
        if not isinstance(name, str) or not _NAME.match(name):
            raise v1_error(400, "ModelArts.0104", "job_name: 1-64 letters, digits, '_' or '-'")
        if not isinstance(cfg, dict):
            raise v1_error(400, "ModelArts.0104", "config is required")
        with store.lock:
            if any(j["job_name"] == name for j in ml.v1_jobs.values()):
                raise v1_error(400, "ModelArts.0103", f"job name {name} already exists")
            spec = _check(store, cfg)
            job = {"job_id": next(ml.ids), "job_name": name, "job_desc": body.get("job_desc", ""),
                   "create_time": store.now_ms(), "versions": {}}
            ml.v1_jobs[job["job_id"]] = job
            ver = _version_record(store, ml, job, cfg, spec, None)
            return ok(job_id=job["job_id"], job_name=name, status=ver["status"], create_time=ver["create_time"],
                      version_id=ver["version_id"], version_name=ver["version_name"],
                      resource_id=f"jobs{job['job_id']}")

    def list_jobs(req: Request) -> Response:
        status = v.int_param(req, "status", None)
        with store.lock:
            items = [summary(j) for j in ml.v1_jobs.values()]
        items = [i for i in items if status is None or i["status"] == status]
        total = len(items)
        items = _paged(req, items, ("job_name", "job_desc", "status", "duration", "version_count", "create_time",
                                    "engine_type"), "job_name", "desc")
        return ok(job_total_count=total, job_count_limit=max(0, 1000 - len(ml.v1_jobs)), quotas=100, jobs=items)

    def update_job(req: Request) -> Response:
        desc = _body(req).get("job_desc")
        if not isinstance(desc, str) or len(desc) > 256:
            raise v1_error(400, "ModelArts.0104", "job_desc: at most 256 characters")
        with store.lock:
            job_of(req)["job_desc"] = desc
        return ok()

    def delete_job(req: Request) -> Response:
        with store.lock:
            del ml.v1_jobs[job_of(req)["job_id"]]
        return ok()

    def create_version(req: Request) -> Response:
        body = _body(req)
        cfg = dict(body.get("config") or {})
        with store.lock:
            job = job_of(req)
            try:
                pre = int(cfg.get("pre_version_id"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise v1_error(400, "ModelArts.0104", "config.pre_version_id is required") from None
            if pre not in job["versions"]:
                raise v1_error(400, "ModelArts.0105", f"pre_version_id {pre} does not exist")
            prev = job["versions"][pre]
            code = ("app_url", "boot_file_url", "engine_id", "model_id", "user_image_url", "user_command")
            data = ("data_url", "dataset_id", "dataset_version_id", "data_source")
            keep: tuple[str, ...] = ("spec_id", "worker_server_num", "train_url", "log_url", "parameter")
            keep += () if any(cfg.get(k) for k in code) else code  # a new code source replaces the old one
            keep += () if any(cfg.get(k) for k in data) else data
            merged = {**{k: prev[k] for k in keep if prev.get(k) not in (None, "")}, **cfg}
            spec = _check(store, merged)
            if body.get("job_desc") is not None:
                job["job_desc"] = body["job_desc"]
            ver = _version_record(store, ml, job, merged, spec, pre)
            return ok(job_id=job["job_id"], job_name=job["job_name"], status=ver["status"],
                      create_time=ver["create_time"], version_id=ver["version_id"],
                      version_name=ver["version_name"])

    def list_versions(req: Request) -> Response:
        with store.lock:
            job = job_of(req)
            for ver in job["versions"].values():
                _advance(store, ml, job, ver)
            items = sorted((_public(x) for x in job["versions"].values()), key=lambda x: -x["version_id"])
        per_page = v.int_param(req, "per_page", 10, 1, 1000) or 10
        page = v.int_param(req, "page", 0, 0) or 0
        shown = items if page == 0 else items[(page - 1) * per_page: page * per_page]
        return ok(job_id=job["job_id"], job_name=job["job_name"], job_desc=job["job_desc"],
                  version_count=len(items), versions=shown)

    def get_version(req: Request) -> Response:
        with store.lock:
            job, ver = version_of(req)
            return ok(job_id=job["job_id"], job_name=job["job_name"], job_desc=job["job_desc"], **_public(ver))

    def stop_version(req: Request) -> Response:
        with store.lock:
            job, ver = version_of(req)
            if ver["status"] not in (1, 2, 4, 7, 8, 15):
                raise v1_error(400, "ModelArts.0105", f"only a running version can be stopped (status {ver['status']})")
            ver["_stop_at"] = store.clock()
            _advance(store, ml, job, ver)
        return ok()

    def delete_version(req: Request) -> Response:
        with store.lock:
            job, ver = version_of(req)
            del job["versions"][ver["version_id"]]
        return ok()

    def log_files(req: Request) -> Response:
        with store.lock:
            job, ver = version_of(req)
            n = ver.get("worker_server_num", 1) or 1
        return ok(log_file_list=[f"{job['job_name']}.{i}" for i in range(n)])

    def aom_log(req: Request) -> Response:
        name = req.params.get("log_file")
        lines = v.int_param(req, "lines", 50, 0, 500) or 0
        with store.lock:
            job, ver = version_of(req)
            if not name or not name.startswith(job["job_name"] + "."):
                raise v1_error(400, "ModelArts.0104", f"log_file {name!r} does not exist")
            text = _log(job, ver).splitlines()
        start = int(req.params.get("base_line") or 0)
        chosen = text[start:start + lines] if req.params.get("order", "desc") == "desc" else text[max(0, start - lines):start]
        return ok(content="\n".join(chosen), lines=len(chosen), start_line=str(start),
                  end_line=str(start + len(chosen)))

    # ---------------------------------------------------------------- configurations

    def create_config(req: Request) -> Response:
        body = _body(req)
        with store.lock:
            _check(store, body, name_required=True)
            try:
                v.body(req, "training-job-config")
            except ApiError as exc:
                raise v1_error(400, "ModelArts.0101", exc.msg) from None
            if body["config_name"] in ml.v1_configs:
                raise v1_error(400, "ModelArts.0103", f"rule 5 (config_name): {body['config_name']} already exists")
            ml.v1_configs[body["config_name"]] = _config_record(store, body)
        return ok()

    def list_configs(req: Request) -> Response:
        ctype = v.choice_param(req, "config_type", "custom", ("custom", "sample"))
        with store.lock:
            items = [{k: c.get(k) for k in ("config_name", "config_desc", "create_time", "engine_type", "engine_name",
                                            "engine_id", "engine_version", "user_image_url", "user_command")}
                     for c in ml.v1_configs.values() if ctype == "custom"]
        total = len(items)
        items = _paged(req, items, ("config_name", "config_desc", "create_time"), "config_name", "desc")
        return ok(config_total_count=total, configs=items)

    def config_of(req: Request) -> dict[str, Any]:
        cfg = ml.v1_configs.get(req.route["config_name"])
        if cfg is None:
            raise v1_error(404, "ModelArts.0105", f"configuration {req.route['config_name']} does not exist")
        return cfg

    def get_config(req: Request) -> Response:
        with store.lock:
            return ok(**config_of(req))

    def update_config(req: Request) -> Response:
        body = _body(req)
        with store.lock:
            old = config_of(req)
            _check(store, body)
            ml.v1_configs[old["config_name"]] = _config_record(store, {**body, "config_name": old["config_name"]},
                                                               old["create_time"])
        return ok()

    def delete_config(req: Request) -> Response:
        with store.lock:
            del ml.v1_configs[config_of(req)["config_name"]]
        return ok()

    # ---------------------------------------------------------------- visualization jobs

    def vis_of(req: Request) -> dict[str, Any]:
        try:
            job = ml.vis_jobs.get(int(req.route["job_id"]))
        except ValueError:
            job = None
        if job is None:
            raise v1_error(404, "ModelArts.0105", f"visualization job {req.route['job_id']} does not exist")
        if job["status"] == 1 and ml.ticks(store, job["_created"]) >= 1:
            job["status"] = 8
        job["duration"] = int((store.clock() - job["_created"]) * 1000)
        return job

    def create_vis(req: Request) -> Response:
        body = _body(req)
        name, url = body.get("job_name"), body.get("train_url")
        if not isinstance(name, str) or not _VIS_NAME.match(name):
            raise v1_error(400, "ModelArts.0104", "job_name: 1-20 letters, digits, '_' or '-'")
        if not isinstance(url, str) or not url:
            raise v1_error(400, "ModelArts.0104", "train_url is required")
        if body.get("job_type", "tensorboard") not in ("tensorboard", "mindinsight"):
            raise v1_error(400, "ModelArts.0104", "job_type must be tensorboard or mindinsight")
        with store.lock:
            if any(j["job_name"] == name for j in ml.vis_jobs.values()):
                raise v1_error(400, "ModelArts.0103", f"job name {name} already exists")
            jid = next(ml.ids)
            host = req.header("host") or "127.0.0.1"
            job = {"job_id": jid, "job_name": name, "job_desc": body.get("job_desc", ""), "status": 1,
                   "create_time": store.now_ms(), "duration": 0, "train_url": url,
                   "service_url": f"http://{host}/tensorboard/{jid}/", "resource_id": f"vis{jid}",
                   "job_type": body.get("job_type", "tensorboard"), "_created": store.clock()}
            ml.vis_jobs[jid] = job
            return ok(**{k: job[k] for k in ("job_id", "job_name", "status", "create_time", "service_url")})

    def list_vis(req: Request) -> Response:
        status = v.int_param(req, "status", None)
        with store.lock:
            items = [_public(vis_of(_Route(j["job_id"]))) for j in list(ml.vis_jobs.values())]  # type: ignore[arg-type]
        items = [i for i in items if status is None or i["status"] == status]
        total = len(items)
        items = _paged(req, items, ("job_id", "job_name", "job_desc", "create_time", "status", "duration", "log_dir"),
                       "job_id", "asc")
        return ok(job_total_count=total, job_count_limit=1000 - total, quotas=100, jobs=items)

    def vis_update(req: Request) -> Response:
        desc = _body(req).get("job_desc")
        if not isinstance(desc, str) or len(desc) > 256:
            raise v1_error(400, "ModelArts.0104", "job_desc: at most 256 characters")
        with store.lock:
            vis_of(req)["job_desc"] = desc
        return ok()

    def vis_stop(req: Request) -> Response:
        with store.lock:
            job = vis_of(req)
            if job["status"] not in (1, 7, 8):
                raise v1_error(400, "ModelArts.0105", "the visualization job is not running")
            job["status"] = 12
        return ok()

    def vis_restart(req: Request) -> Response:
        with store.lock:
            job = vis_of(req)
            if job["status"] in (1, 7, 8):
                raise v1_error(400, "ModelArts.0105", "the visualization job is already running")
            job["status"], job["_created"] = 1, store.clock()
        return ok()

    def vis_delete(req: Request) -> Response:
        with store.lock:
            del ml.vis_jobs[vis_of(req)["job_id"]]
        return ok()

    def builtin(req: Request) -> Response:
        items = _paged(req, [dict(b) for b in BUILTIN], ("engine", "model_name", "model_usage", "model_precision",
                                                        "model_size", "create_time", "parameter"), "model_name",
                       "desc", hi=100)
        return ok(model_total_count=len(BUILTIN), models=items)

    def specs(req: Request) -> Response:
        v.choice_param(req, "job_type", "train", ("train", "inference"))
        return ok(spec_total_count=len(V1_SPECS), specs=V1_SPECS)

    r = router.add
    r("POST", P + "/training-jobs", create_job)
    r("GET", P + "/training-jobs", list_jobs)
    r("PUT", P + "/training-jobs/{job_id}", update_job)
    r("DELETE", P + "/training-jobs/{job_id}", delete_job)
    r("POST", P + "/training-jobs/{job_id}/versions", create_version)
    r("GET", P + "/training-jobs/{job_id}/versions", list_versions)
    r("GET", P + "/training-jobs/{job_id}/versions/{version_id}", get_version)
    r("DELETE", P + "/training-jobs/{job_id}/versions/{version_id}", delete_version)
    r("POST", P + "/training-jobs/{job_id}/versions/{version_id}/stop", stop_version)
    r("GET", P + "/training-jobs/{job_id}/versions/{version_id}/log/file-names", log_files)
    r("GET", P + "/training-jobs/{job_id}/versions/{version_id}/aom-log", aom_log)
    r("POST", P + "/training-job-configs", create_config)
    r("GET", P + "/training-job-configs", list_configs)
    r("GET", P + "/training-job-configs/{config_name}", get_config)
    r("PUT", P + "/training-job-configs/{config_name}", update_config)
    r("DELETE", P + "/training-job-configs/{config_name}", delete_config)
    r("POST", P + "/visualization-jobs", create_vis)
    r("GET", P + "/visualization-jobs", list_vis)
    r("GET", P + "/visualization-jobs/{job_id}", lambda q: _locked(store, lambda: ok(**_public(vis_of(q)))))
    r("PUT", P + "/visualization-jobs/{job_id}", vis_update)
    r("POST", P + "/visualization-jobs/{job_id}/stop", vis_stop)
    r("POST", P + "/visualization-jobs/{job_id}/restart", vis_restart)
    r("DELETE", P + "/visualization-jobs/{job_id}", vis_delete)
    r("GET", P + "/built-in-algorithms", builtin)
    r("GET", P + "/job/resource-specs", specs)
    r("GET", P + "/job/ai-engines", lambda q: ok(engines=V1_ENGINES))


class _Route:
    """A stand-in request carrying only a route (to reuse ``vis_of`` in listings)."""

    def __init__(self, job_id: int) -> None:
        self.route = {"job_id": str(job_id)}


def _locked(store: Store, fn: Any) -> Response:
    with store.lock:
        return fn()


def _config_record(store: Store, body: dict[str, Any], created: int | None = None) -> dict[str, Any]:
    eng = next((e for e in V1_ENGINES if e["engine_id"] == body.get("engine_id", 1)), V1_ENGINES[0])
    spec = next((s for s in V1_SPECS if s["spec_id"] == body.get("spec_id")), {})
    return {**body, "engine_type": eng["engine_type"], "engine_name": eng["engine_name"],
            "engine_id": eng["engine_id"], "engine_version": eng["engine_version"],
            "spec_code": spec.get("spec_code", ""), "core": spec.get("core", ""), "cpu": spec.get("cpu", ""),
            "gpu_num": spec.get("gpu_num", 0), "gpu_type": spec.get("gpu_type", ""),
            "create_time": created or store.now_ms(), "dataset_name": "", "dataset_version_name": "",
            "pool_id": body.get("pool_id", ""), "pool_name": "", "volumes": body.get("volumes", [])}
