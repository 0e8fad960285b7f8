"""Handlers: training jobs, new version (api.md §11). A job goes Creating → Pending →
Running → Completed (or Failed when a failure was forced with ``fail_next("training")``),
one state per tick; while running it grows a log and metrics; at the end it writes the
log to ``log_export_path`` and a summary into each output folder. Terminate honours
the phase rules (Terminating → Terminated). Every phase change is an event.

Bodies follow the official ``Job`` model: ``kind`` and ``metadata.name`` required,
``kind`` from its enum, environment variable names of letters, digits and ``_`` (not
starting with a digit), a dataset input needs only its ``id``; the algorithm is either
code (``code_dir`` + ``boot_file``), an image + command, or a v2 algorithm's ``id``.
Answers use the official response types: ``algorithm.environments`` is a list of maps,
``flavor_info.disk.size`` a string."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from mafmt.client.training_bodies import ENV_NAME, KINDS
from mafmt.emulator import _validate as v
from mafmt.emulator._http import ApiError, Request, Response, Router
from mafmt.emulator._ml import ENGINES, FLAVORS, MLState, ml_state, write_obs
from mafmt.emulator._state import Store

__all__ = ["register"]

T = "/v2/{project_id}/training-jobs"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TERMINABLE = ("Creating", "Pending", "Running")


def _bad(msg: str, code: str = "ModelArts.2702") -> ApiError:
    return ApiError(400, code, msg, body={"error_code": code, "error_msg": msg,
                                          "error_solution": "Check the request body against the API reference."})


def _validate(store: Store, body: dict[str, Any]) -> None:
    if body.get("kind") not in KINDS:
        raise _bad(f"kind is required, one of {', '.join(KINDS)}")
    meta = body.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not _NAME.match(meta["name"]):
        raise _bad("metadata.name is required: 1-64 letters, digits, '_' or '-'")
    if len(meta.get("description") or "") > 256:
        raise _bad("metadata.description: at most 256 characters")
    algo = body.get("algorithm") or {}
    ways = [bool(algo.get("id")), bool(algo.get("subscription_id")), bool(algo.get("code_dir") or algo.get("boot_file")),
            bool((algo.get("engine") or {}).get("image_url") and algo.get("command"))]
    if ways[2] and not (algo.get("code_dir") and algo.get("boot_file")):
        raise _bad("algorithm.code_dir and algorithm.boot_file go together")
    if not any(ways):
        raise _bad("algorithm: give id, subscription_id + item_version_id, code_dir + boot_file, or an image + command")
    if algo.get("id") and algo["id"] not in ml_state(store).algorithms:
        raise _bad(f"algorithm {algo['id']} does not exist", "ModelArts.2701")
    engine = algo.get("engine") or {}
    if engine.get("engine_name") and engine.get("engine_version") and not any(
            e["engine_name"] == engine["engine_name"] and e["engine_version"] == engine["engine_version"]
            for e in ENGINES):
        raise _bad(f"engine {engine['engine_name']} {engine['engine_version']} does not exist", "ModelArts.2731")
    for key in ("inputs", "outputs"):
        for ch in algo.get(key) or []:
            remote = (ch or {}).get("remote") or {}
            if not ch.get("name") or not remote:
                raise _bad(f"algorithm.{key}[]: name and remote are required")
            if key == "inputs" and ("obs" in remote) == ("dataset" in remote):
                raise _bad("an input's remote is either obs or dataset")
            if "obs" in remote and not (remote["obs"] or {}).get("obs_url"):
                raise _bad(f"algorithm.{key}[{ch['name']}]: remote.obs.obs_url is required")
            ds = remote.get("dataset")
            if ds:
                rec = store.datasets.get(ds.get("id") or "")
                if rec is None:
                    raise _bad(f"dataset {ds.get('id')} not found", "ModelArts.2783")
                if ds.get("version_id") is not None and ds["version_id"] not in rec.versions:
                    raise _bad(f"dataset version {ds.get('version_id')} not found", "ModelArts.2782")
    env = algo.get("environments") or {}
    if not isinstance(env, dict) or len(env) > 100 or any(
            len(k) > 8192 or len(str(x)) > 4096 for k, x in env.items()):
        raise _bad("algorithm.environments: a map of at most 100 pairs, keys 8192 and values 4096 characters")
    bad = [k for k in env if not ENV_NAME.match(k)]
    if bad:
        raise _bad(f"algorithm.environments: {bad[0]!r} is not a variable name (letters, digits and '_', "
                   "starting with a letter or '_')")
    res = (body.get("spec") or {}).get("resource") or {}
    count = res.get("node_count", 1)
    if not isinstance(count, int) or count < 1:
        raise _bad("spec.resource.node_count must be an integer >= 1")
    flavor = next((f for f in FLAVORS if f["flavor_id"] == res.get("flavor_id")), None)
    if not res.get("pool_id"):
        if flavor is None:
            raise _bad(f"flavor {res.get('flavor_id')!r} does not exist", "ModelArts.2763")
        if count > flavor["max_num"]:
            raise _bad(f"flavor {flavor['flavor_id']} allows at most {flavor['max_num']} nodes", "ModelArts.2763")


#: the phases a job passes through before it ends, in order
_ORDER = ("Creating", "Pending", "Running")


def _advance(store: Store, ml: MLState, job: dict[str, Any]) -> None:
    """Move a job along the clock (called under the store lock)."""
    st = job["status"]
    if st["phase"] in ("Completed", "Failed", "Terminated", "Abnormal"):
        return
    if job["_stop_at"] is not None:
        phase = "Terminating" if ml.ticks(store, job["_stop_at"]) < 1 else "Terminated"
    else:
        n = ml.ticks(store, job["_created"])
        end = 2 + ml.run_ticks
        phase = "Creating" if n < 1 else "Pending" if n < 2 else "Running" if n < end else (
            "Failed" if job["_failure"] else "Completed")
        if phase == "Running" or n >= end:
            st["start_time"] = st.get("start_time") or int((job["_created"] + 2 * ml.tick) * 1000)
            ran = min(int(n - 2) + 1, ml.run_ticks)
            while job["_lines"] < ran:
                job["_lines"] += 1
                i = job["_lines"]
                job["_log"] += f"[worker-0] epoch {i}/{ml.run_ticks} loss={1.0 / (i + 1):.4f}\n"
                for m in job["_metrics"]:
                    m["value"].append(round(10.0 + 7 * i + len(m["metric"]), 1))
    if phase != st["phase"]:  # one event per phase the job went through, also between two polls
        was = st["phase"]
        steps = [phase]  # a stop goes straight to Terminating / Terminated
        if was in _ORDER and phase not in ("Terminating", "Terminated"):
            later = list(_ORDER[_ORDER.index(was) + 1:])
            steps = later[:later.index(phase) + 1] if phase in later else [*later, phase]
        for step in steps:
            level = "Error" if step in ("Failed", "Abnormal") else "Info"
            job["_events"].append(event(store, level, f"Job phase changed from {was} to {step}"))
            was = step
    st["phase"] = st["secondary_phase"] = phase
    st["duration"] = max(0, int((store.clock() - job["_created"]) * 1000))
    if phase in ("Completed", "Failed", "Terminated"):
        _finish(store, job, phase)


def _finish(store: Store, job: dict[str, Any], phase: str) -> None:
    failure = job["_failure"]
    if phase == "Failed":
        msg = (failure or {}).get("error_msg", "the training script exited with code 1")
        job["_log"] += f"[worker-0] ERROR {msg}\n"
        job["status"]["task_statuses"] = [{"task": "worker-0", "exit_code": 1, "message": msg}]
    else:
        job["_log"] += f"[worker-0] training {'terminated' if phase == 'Terminated' else 'finished'}\n"
        job["status"]["task_statuses"] = [{"task": "worker-0", "exit_code": 0 if phase == "Completed" else 137,
                                           "message": ""}]
    log_path = ((job["spec"].get("log_export_path") or {}).get("obs_url") or "")
    if log_path:
        write_obs(store, log_path.rstrip("/") + f"/{job['metadata']['name']}-worker-0.log", job["_log"].encode())
    if phase == "Completed":
        for out in job["algorithm"].get("outputs") or []:
            url = out["remote"]["obs"]["obs_url"]
            summary = {"job_id": job["metadata"]["id"], "output": out["name"],
                       "parameters": job["algorithm"].get("parameters") or []}
            write_obs(store, url.rstrip("/") + "/training_summary.json", json.dumps(summary).encode())


def event(store: Store, level: str, message: str, source: str = "Job") -> dict[str, Any]:
    """A training-job event (the official ``Event`` model; time as local ISO 8601)."""
    from datetime import datetime

    when = datetime.fromtimestamp(store.clock()).astimezone().isoformat(timespec="seconds")
    return {"time": when, "level": level, "message": message, "source": source}


def _job_flavor_info(info: dict[str, Any]) -> dict[str, Any]:
    """A flavor's ``flavor_info`` as job answers carry it (``disk.size`` a string)."""
    out = json.loads(json.dumps(info))
    if isinstance(out.get("disk"), dict) and "size" in out["disk"]:
        out["disk"]["size"] = str(out["disk"]["size"])
    return out


def _algorithm_of(ml: MLState, algo: dict[str, Any]) -> dict[str, Any]:
    """The job's algorithm: with an ``id``, the stored v2 algorithm's code, engine and
    parameters, overridden by what the job gives."""
    if not algo.get("id"):
        return algo
    stored = ml.algorithms[algo["id"]]
    base = {k: json.loads(json.dumps(x)) for k, x in (stored.get("job_config") or {}).items()
            if k in ("code_dir", "boot_file", "command", "engine", "parameters", "inputs", "outputs")}
    base["name"] = stored["metadata"]["name"]
    merged = {**base, **{k: x for k, x in algo.items() if x not in (None, [], {})}}
    for key in ("inputs", "outputs"):  # the algorithm declares channels; the job gives their remotes
        chans = [ch for ch in merged.get(key) or [] if ch.get("remote")]
        if chans:
            merged[key] = chans
        else:
            merged.pop(key, None)
    return merged


def _view(job: dict[str, Any]) -> dict[str, Any]:
    return {k: x for k, x in job.items() if not k.startswith("_")}


def register(router: Router, store: Store) -> None:
    """Add the v2 training routes."""
    ml = ml_state(store)

    def job_of(req: Request) -> dict[str, Any]:
        job = ml.jobs.get(req.route["job_id"])
        if job is None:
            raise ApiError(404, "ModelArts.2752", f"training job {req.route['job_id']} does not exist")
        _advance(store, ml, job)
        return job

    def create(req: Request) -> Response:
        body = v.body(req, "training-job")
        with store.lock:
            _validate(store, body)
            job_id = str(uuid.uuid4())
            now = store.clock()
            res = body.get("spec", {}).get("resource", {})
            flavor = next((f for f in FLAVORS if f["flavor_id"] == res.get("flavor_id")), None)
            algo = _algorithm_of(ml, json.loads(json.dumps(body.get("algorithm") or {})))
            for ch in algo.get("inputs") or []:
                ds = ch["remote"].get("dataset")
                if ds:
                    rec = store.datasets[ds["id"]]
                    ds.setdefault("version_id", rec.wire.get("current_version_id") or "")
                    ds["obs_url"] = "obs:/" + rec.wire.get("work_path", "/").rstrip("/") + "/"
            if isinstance(algo.get("environments"), dict):  # the answer's type: a list of maps
                algo["environments"] = [{k: x} for k, x in algo["environments"].items()]
            nodes = res.get("node_count", 1)
            job = {
                "kind": body["kind"],
                "metadata": {"id": job_id, "name": body["metadata"]["name"],
                             "workspace_id": body["metadata"].get("workspace_id", "0"),
                             "description": body["metadata"].get("description", ""),
                             "create_time": int(now * 1000), "user_name": req.identity.get("user", "mafmt"),
                             "annotations": body["metadata"].get("annotations", {})},
                "status": {"phase": "Creating", "secondary_phase": "Creating", "duration": 0,
                           "tasks": [f"worker-{i}" for i in range(nodes)], "task_statuses": [],
                           "node_count_metrics": [[int(now * 1000), nodes]], "running_records": []},
                "algorithm": algo,
                "spec": {**json.loads(json.dumps(body.get("spec") or {})),
                         "resource": {**res, **({"flavor_name": flavor["flavor_name"], "flavor_detail": {
                             "flavor_type": flavor["flavor_type"], "billing": flavor["billing"],
                             "flavor_info": _job_flavor_info(flavor["flavor_info"])}} if flavor else {})}},
                "_created": now, "_stop_at": None, "_failure": store.take_failure("training"), "_lines": 0,
                "_log": f"[worker-0] job {body['metadata']['name']} started on {res.get('flavor_id')}\n",
                "_events": [event(store, "Info", f"Job {body['metadata']['name']} created")], "_tags": [],
                "_metrics": [{"metric": m, "value": []} for m in ("cpuUsage", "memUsage", "gpuUtil", "gpuMemUsage")],
            }
            ml.jobs[job_id] = job
            return Response(201, _view(job))

    def search(req: Request) -> Response:
        body = v.body(req)
        offset, limit = body.get("offset", 0), body.get("limit", 10)
        if not isinstance(offset, int) or offset < 0 or not isinstance(limit, int) or not 1 <= limit <= 50:
            raise _bad("offset must be >= 0 and limit within 1..50", "ModelArts.2701")
        sort_by = body.get("sort_by", "create_time")
        order = body.get("order", "desc")
        if order not in ("asc", "desc"):
            raise _bad("order must be asc or desc", "ModelArts.2701")
        with store.lock:
            for job in ml.jobs.values():
                _advance(store, ml, job)
            items = [_view(j) for j in ml.jobs.values()]
        fields = {"name": lambda j: j["metadata"]["name"], "phase": lambda j: j["status"]["phase"],
                  "create_time": lambda j: str(j["metadata"]["create_time"]), "kind": lambda j: j["kind"],
                  "algorithm_name": lambda j: j["algorithm"].get("name", "")}
        for f in body.get("filters") or []:
            get = fields.get(f.get("key"))
            if get is None:
                raise _bad(f"unknown filter key {f.get('key')!r}", "ModelArts.2701")
            values = [str(x) for x in f.get("value") or []]
            op = f.get("operator", "in")
            if op == "like":
                items = [j for j in items if any(x.lower() in get(j).lower() for x in values)]
            elif op == "not":
                items = [j for j in items if get(j) not in values]
            elif op == "between" and len(values) == 2:
                items = [j for j in items if values[0] <= get(j) <= values[1]]
            else:
                items = [j for j in items if get(j) in values]
        key = {"name": lambda j: j["metadata"]["name"]}.get(sort_by, lambda j: j["metadata"]["create_time"])
        items.sort(key=lambda j: (key(j), j["metadata"]["id"]), reverse=order == "desc")
        return Response(200, {"total": len(ml.jobs), "count": len(items), "limit": limit, "offset": offset,
                              "sort_by": sort_by, "order": order, "group_by": body.get("group_by", ""),
                              "workspace_id": "0", "ai_project": "default-ai-project",
                              "items": v.page(items, offset, limit, "ListTrainingJobs")})

    def get(req: Request) -> Response:
        with store.lock:
            return Response(200, _view(job_of(req)))

    def update(req: Request) -> Response:
        body = v.body(req, "training-job-update")  # every field optional (official JobUpdateRequestBody)
        desc = body.get("description")
        if desc is not None and (not isinstance(desc, str) or len(desc) > 256):
            raise _bad("description: a string of at most 256 characters")
        with store.lock:
            job = job_of(req)
            if desc is not None:
                job["metadata"]["description"] = desc
            for key, x in ((body.get("metadata") or {}).get("annotation") or {}).items():
                job["metadata"].setdefault("annotations", {})[key] = x
            notification = (body.get("spec") or {}).get("notification")
            if notification is not None:
                job["spec"]["notification"] = notification
        return Response(200)

    def delete(req: Request) -> Response:
        with store.lock:
            job_of(req)
            del ml.jobs[req.route["job_id"]]
        return Response(202)

    def action(req: Request) -> Response:
        body = v.body(req)
        if body.get("action_type") != "terminate":
            raise _bad("action_type must be terminate")
        with store.lock:
            job = job_of(req)
            if job["status"]["phase"] not in TERMINABLE:
                raise ApiError(409, "ModelArts.2796", f"a {job['status']['phase']} job cannot be terminated")
            job["_stop_at"] = store.clock()
            _advance(store, ml, job)
            return Response(202, _view(job))

    def task_of(req: Request, job: dict[str, Any]) -> str:
        task = req.route["task_id"]
        if task not in job["status"]["tasks"]:
            raise ApiError(404, "ModelArts.2752", f"task {task} does not exist")
        return task

    def log_preview(req: Request) -> Response:
        with store.lock:
            job = job_of(req)
            task = task_of(req, job)
            text = job["_log"] if task == "worker-0" else job["_log"].replace("[worker-0]", f"[{task}]")
        data = text.encode()[-5 * 1024 * 1024:].decode(errors="ignore")
        return Response(200, {"content": data, "current_size": len(data.encode()), "full_size": len(text.encode())})

    def log_url(req: Request) -> Response:
        with store.lock:
            job = job_of(req)
            task = task_of(req, job)
            where = (job["spec"].get("log_export_path") or {}).get("obs_url")
            if not where or job["status"]["phase"] not in ("Completed", "Failed", "Terminated"):
                raise ApiError(400, "ModelArts.2776", "the log is not exported yet (no log_export_path, or running)")
        return Response(200, {"obs_url": where.rstrip("/") + f"/{job['metadata']['name']}-{task}.log"})

    def metrics(req: Request) -> Response:
        with store.lock:
            job = job_of(req)
            task_of(req, job)
            return Response(200, {"metrics": json.loads(json.dumps(job["_metrics"]))})

    def flavors(req: Request) -> Response:
        kind = v.choice_param(req, "flavor_type", None, ("CPU", "GPU", "Ascend"))
        items = [f for f in FLAVORS if kind is None or f["flavor_type"] == kind]
        return Response(200, {"total_count": len(items), "flavors": items})

    router.add("POST", T, create)
    router.add("POST", "/v2/{project_id}/training-job-searches", search)
    router.add("GET", T + "/{job_id}", get)
    router.add("PUT", T + "/{job_id}", update)
    router.add("DELETE", T + "/{job_id}", delete)
    router.add("POST", T + "/{job_id}/actions", action)
    router.add("GET", T + "/{job_id}/tasks/{task_id}/logs/preview", log_preview)
    router.add("GET", T + "/{job_id}/tasks/{task_id}/logs/url", log_url)
    router.add("GET", T + "/{job_id}/metrics/{task_id}", metrics)
    router.add("GET", "/v2/{project_id}/training-job-flavors", flavors)
    router.add("GET", "/v2/{project_id}/training-job-engines",
               lambda r: Response(200, {"total": len(ENGINES), "items": ENGINES}))
