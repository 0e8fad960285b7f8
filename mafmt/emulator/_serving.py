"""Handlers: models (api.md §13: publishing → published one tick later, failed when
the OBS location is missing or a failure was forced with ``fail_next("model")``) and
services (§14: deploying → running over two ticks; batch services then run for real —
one result per input file or CSV line in ``dest_path`` — and end ``finished``), with
monitor, update logs, events, and an inference endpoint at
``/v1/{project_id}/infers/{service_id}`` (the service's ``access_address``; the cloud's
has no project ID in it). Inference answers with an echo of the request, or — with
``MLState.run_models`` / ``MAFMT_EMULATOR_RUN_MODELS=1`` — with the model's own
``customize_service.py`` run in this process."""

from __future__ import annotations

import csv
import email.parser
import email.policy
import io
import json
import os
import re
import uuid
from typing import Any

from mafmt.client.models import MODEL_TYPES, model_body
from mafmt.client.services import check_configs
from mafmt.emulator import _validate as v
from mafmt.emulator._http import ApiError, Request, Response, Router
from mafmt.emulator._ml import MLState, ml_state, obs_exists, obs_files, write_obs
from mafmt.emulator._state import Store
from mafmt.errors import UsageError

__all__ = ["register"]

M = "/v1/{project_id}/models"
S = "/v1/{project_id}/services"
RUNTIMES = {"TensorFlow": ["python3.6", "python3.7", "tf2.1-python3.7"], "PyTorch": ["python3.6", "python3.7"],
            "MXNet": ["python3.6", "python3.7"], "Scikit_Learn": ["python3.6"], "XGBoost": ["python3.6"],
            "Spark_MLlib": ["python3.6"], "MindSpore": ["python3.7"], "Caffe": ["python3.6"]}
SPECS = ["modelarts.vm.cpu.2u", "modelarts.vm.gpu.p4", "modelarts.vm.ai1.a310", "custom"]


def _public(d: dict[str, Any]) -> dict[str, Any]:
    return {k: x for k, x in d.items() if not k.startswith("_")}


def _advance_model(store: Store, ml: MLState, m: dict[str, Any]) -> None:
    if m["model_status"] != "publishing" or ml.ticks(store, m["_created"]) < 1:
        return
    failure = m["_failure"]
    if failure is None and m["model_type"] != "Image" and not obs_exists(store, m["source_location"]):
        failure = {"error_msg": f"model files not found at {m['source_location']}"}
    m["model_status"] = "failed" if failure else "published"
    if failure:
        m["failed_reason"] = failure.get("error_msg", "publishing failed")


def _advance_service(store: Store, ml: MLState, s: dict[str, Any]) -> None:
    if s["status"] == "running" and s.get("due_time") and store.now_ms() >= s["due_time"]:
        s["status"], s["transition_at"] = "stopped", store.now_ms()  # the schedule's stop time came
        return
    if s["status"] != "deploying":
        return
    n = ml.ticks(store, s["_since"])
    s["progress"] = min(100, int(n * 50))
    if n < 2:
        return
    if s["_failure"]:
        s["status"], s["error_msg"] = "failed", s["_failure"].get("error_msg", "deployment failed")
        s["_log"]["result"] = "FAIL"
        return
    s["_log"]["result"] = "SUCCESS"
    for c in s["config"]:
        c["status"] = "ready"
    if s["infer_type"] == "batch":
        _run_batch(store, s)
        s["status"] = "finished"
        s["config"][0]["finished_time"] = store.now_ms()
    else:
        s["status"] = "running"
    s["transition_at"] = store.now_ms()


def _rule_values(rule: Any, row: list[str]) -> Any:
    """Fill a csv ``mapping_rule`` (JSON-schema-like, leaves carry ``index``) from one row."""
    if not isinstance(rule, dict):
        return None
    if "properties" in rule:
        return {k: _rule_values(x, row) for k, x in rule["properties"].items()
                if not (isinstance(x, dict) and x.get("index") == -1)}
    if "items" in rule:
        items = rule["items"] if isinstance(rule["items"], list) else [rule["items"]]
        return [_rule_values(x, row) for x in items]
    idx = rule.get("index", -1)
    raw = row[idx] if 0 <= idx < len(row) else None
    if raw is not None and rule.get("type") in ("number", "integer"):
        try:
            return int(raw) if rule["type"] == "integer" else float(raw)
        except ValueError:
            return raw
    return raw


def _run_batch(store: Store, s: dict[str, Any]) -> None:
    c = s["config"][0]
    dest = c["dest_path"].rstrip("/") + "/"
    for name, data in obs_files(store, c["src_path"]):
        if c["mapping_type"] == "csv":
            if not name.endswith(".csv"):
                continue
            rows = list(csv.reader(io.StringIO(data.decode("utf-8", errors="replace"))))
            results = [{"request": _rule_values(c["mapping_rule"], row), "result": _predict(s, c["model_id"])}
                       for row in rows if row]
            write_obs(store, dest + name + ".result", "\n".join(json.dumps(r) for r in results).encode())
        else:
            result = {"file": name, "size": len(data), "result": _predict(s, c["model_id"])}
            write_obs(store, dest + name + ".result", json.dumps(result).encode())


def _predict(s: dict[str, Any], model_id: str) -> dict[str, Any]:
    return {"model_id": model_id, "predicted_label": "emulated", "scores": [["emulated", 1.0]]}


def _model_code(store: Store, ml: MLState, model_id: str) -> Any:
    """The model's ``customize_service.py`` loaded from its OBS folder (cached), or None
    when it has none that loads (then the echo answer is used)."""
    if model_id in ml.services_code:
        return ml.services_code[model_id]
    import tempfile

    from mafmt.modelarts._local_serving import LocalService

    model = ml.models.get(model_id) or {}
    service = None
    local = tempfile.mkdtemp(prefix="mafmt-emulator-model-")
    loc = str(model.get("source_location") or "")
    files = obs_files(store, loc.rstrip("/") + "/model/") if loc and model.get("model_type") != "Image" else []
    for name, data in files:
        target = os.path.realpath(os.path.join(local, name))
        if target.startswith(os.path.realpath(local) + os.sep):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as fh:
                fh.write(data)
    try:
        service = LocalService(local, model.get("model_name") or "model") if files else None
    except Exception:  # noqa: BLE001 - no usable customize_service.py: echo instead
        service = None
    ml.services_code[model_id] = service
    return service


def register(router: Router, store: Store) -> None:
    """Add the model, service and inference routes."""
    ml = ml_state(store)

    def model_of(req: Request) -> dict[str, Any]:
        m = ml.models.get(req.route["model_id"])
        if m is None:
            raise ApiError(404, "ModelArts.3001", f"model {req.route['model_id']} does not exist")
        _advance_model(store, ml, m)
        return m

    def create_model(req: Request) -> Response:
        body = v.body(req, "model-create")
        known = {k: body.get(k) for k in ("model_name", "model_version", "source_location", "model_type", "runtime",
                                          "model_algorithm", "description", "execution_code", "source_type",
                                          "input_params", "output_params", "dependencies")}
        if body.get("model_type") not in MODEL_TYPES:
            raise ApiError(400, "ModelArts.3010", f"model_type must be one of {', '.join(MODEL_TYPES)}")
        if not body.get("model_name"):
            raise ApiError(400, "ModelArts.3010", "model_name is required")
        try:
            model_body(**known)  # type: ignore[arg-type]
        except UsageError as exc:
            raise ApiError(400, "ModelArts.3010", str(exc)) from None
        rt = body.get("runtime")
        if rt and body["model_type"] in RUNTIMES and rt not in RUNTIMES[body["model_type"]]:
            raise ApiError(400, "ModelArts.3010", f"runtime {rt} is not offered for {body['model_type']}")
        with store.lock:
            if any(m["model_name"] == body["model_name"] and m["model_version"] == body["model_version"]
                   for m in ml.models.values()):
                raise ApiError(409, "ModelArts.3002", f"model {body['model_name']} {body['model_version']} exists")
            mid = str(uuid.uuid4())
            ml.models[mid] = {
                **body, "model_id": mid, "model_status": "publishing", "model_size": 0, "tenant": "emulator",
                "project": req.identity.get("project_id", ""), "owner": "emulator", "create_at": store.now_ms(),
                "description": body.get("description", ""), "model_source": "custom",
                "install_type": body.get("install_type", ["real-time", "batch"]),
                "workspace_id": body.get("workspace_id", "0"), "image_address": "", "schema_doc": "",
                "specification": {"min_cpu": "0.5", "min_memory": "1024"}, "market_flag": False, "tunable": False,
                "publishable_flag": True, "source_copy": "true", "extra": "",
                "_created": store.clock(), "_failure": store.take_failure("model"),
            }
        return Response(200, {"model_id": mid})

    def list_models(req: Request) -> Response:
        offset = v.int_param(req, "offset", 0, 0) or 0
        limit = v.int_param(req, "limit", 1000, 1, 1000) or 1000
        sort_by = v.choice_param(req, "sort_by", "create_at", ("create_at", "model_version", "model_size"))
        order = v.choice_param(req, "order", "desc", ("asc", "desc"))
        exact = v.bool_param(req, "exact_match", False)
        p = req.params
        with store.lock:
            for m in ml.models.values():
                _advance_model(store, ml, m)
            items = [_public(m) for m in ml.models.values()]
        if p.get("model_name"):
            name = p["model_name"]
            items = [m for m in items if (m["model_name"] == name if exact else name.lower() in m["model_name"].lower())]
        for key in ("model_version", "model_status", "model_type", "workspace_id"):
            if p.get(key):
                items = [m for m in items if str(m.get(key)) == p[key]]
        if p.get("not_model_type"):
            items = [m for m in items if m["model_type"] != p["not_model_type"]]
        if p.get("description"):
            items = [m for m in items if p["description"].lower() in (m.get("description") or "").lower()]
        items.sort(key=lambda m: (m.get(sort_by or "create_at") or 0, m["model_id"]), reverse=order == "desc")
        page = v.page(items, offset, limit, "ListModels")
        return Response(200, {"total_count": len(items), "count": len(page), "models": page})

    def delete_model(req: Request) -> Response:
        cascade = v.bool_param(req, "cascade", False)
        with store.lock:
            m = model_of(req)
            ids = [k for k, x in ml.models.items() if x["model_name"] == m["model_name"]] if cascade else [m["model_id"]]
            ok, failed = [], []
            for mid in ids:
                if any(c["model_id"] == mid for s in ml.services.values() for c in s["config"]):
                    failed.append({"model_id": mid, "error_code": "ModelArts.3009",
                                   "error_msg": "a service is deployed from this model"})
                else:
                    del ml.models[mid]
                    ok.append(mid)
        return Response(200, {"delete_success_list": ok, "delete_failed_list": failed})

    # ---------------------------------------------------------------- services

    def service_of(req: Request, sid: str | None = None) -> dict[str, Any]:
        sid = sid or req.route["service_id"]
        s = ml.services.get(sid)
        if s is None:
            raise ApiError(404, "ModelArts.3502", f"service {sid} does not exist")
        _advance_service(store, ml, s)
        return s

    def check_service_body(body: dict[str, Any], infer_type: str) -> list[dict[str, Any]]:
        configs = body.get("config")
        if not isinstance(configs, list):
            raise ApiError(400, "ModelArts.3520", "config is required")
        try:
            for c in configs:
                if isinstance(c.get("weight"), str) and c["weight"].isdigit():
                    c["weight"] = int(c["weight"])
            check_configs(configs, infer_type)
        except UsageError as exc:
            code = "ModelArts.3516" if "same model" in str(exc) else "ModelArts.3520"
            raise ApiError(400, code, str(exc)) from None
        for c in configs:
            if c["model_id"] not in ml.models:
                raise ApiError(404, "ModelArts.3507", f"model {c['model_id']} does not exist")
            _advance_model(store, ml, ml.models[c["model_id"]])
            if ml.models[c["model_id"]]["model_status"] != "published":
                raise ApiError(400, "ModelArts.3520", f"model {c['model_id']} is not published")
            if c["specification"] not in SPECS:
                raise ApiError(400, "ModelArts.3520", f"specification {c['specification']} is not offered")
        return configs

    def create_service(req: Request) -> Response:
        body = v.body(req, "service-create")
        name, infer_type = body.get("service_name"), body.get("infer_type", "real-time")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z\u4e00-\u9fff][\w\-\u4e00-\u9fff]{0,63}", name):
            raise ApiError(400, "ModelArts.3520", "service_name: 1-64 characters starting with a letter")
        if infer_type not in ("real-time", "batch", "edge"):
            raise ApiError(400, "ModelArts.3520", "infer_type must be real-time, batch or edge")
        with store.lock:
            configs = check_service_body(body, infer_type)
            if any(s["service_name"] == name for s in ml.services.values()):
                raise ApiError(409, "ModelArts.3503", f"service {name} already exists")
            sid = str(uuid.uuid4())
            host = req.header("host") or "127.0.0.1"
            now = store.now_ms()
            cfg = [{**c, "model_name": ml.models[c["model_id"]]["model_name"], "status": "notReady",
                    "model_version": ml.models[c["model_id"]]["model_version"], "source_type": "",
                    "envs": c.get("envs", {}), "support_debug": False} for c in configs]
            entry = {"update_time": now, "result": "RUNNING", "config": json.loads(json.dumps(configs)),
                     "cluster_id": body.get("cluster_id", "")}
            due = None
            for sch in body.get("schedule") or []:
                mult = {"DAYS": 86400, "HOURS": 3600, "MINUTES": 60}.get(sch.get("time_unit"), 3600)
                due = now + int(sch.get("duration", 0)) * mult * 1000
            ml.services[sid] = {
                "service_id": sid, "service_name": name, "description": body.get("description", ""),
                "tenant": "emulator", "project": req.identity.get("project_id", ""), "owner": "emulator",
                "publish_at": now, "update_time": now, "transition_at": now, "infer_type": infer_type,
                "workspace_id": body.get("workspace_id", "0"), "status": "deploying", "progress": 0,
                "config": cfg, "schedule": body.get("schedule"), "due_time": due,
                "access_address": (f"http://{host}/v1/{req.identity.get('project_id', '')}/infers/{sid}"
                                   if infer_type == "real-time" else ""),
                "invocation_times": 0, "failed_times": 0, "is_shared": False, "shared_count": 0,
                "vpc_id": body.get("vpc_id", ""), "cluster_id": body.get("cluster_id", ""),
                "pool_name": body.get("pool_name", ""), "is_free": False,
                "_since": store.clock(), "_failure": store.take_failure("service"), "_logs": [entry], "_log": entry,
            }
        return Response(200, {"service_id": sid, "resource_ids": [f"res-{sid[:8]}"]})

    def list_services(req: Request) -> Response:
        offset = v.int_param(req, "offset", 0, 0) or 0
        limit = v.int_param(req, "limit", 1000, 1, 1000) or 1000
        sort_by = v.choice_param(req, "sort_by", "publish_at", ("publish_at", "service_name", "transition_at"))
        order = v.choice_param(req, "order", "desc", ("asc", "desc"))
        p = req.params
        with store.lock:
            items = [_public(service_of(req, sid)) for sid in list(ml.services)]
        if p.get("service_name"):
            items = [s for s in items if p["service_name"].lower() in s["service_name"].lower()]
        for key in ("service_id", "infer_type", "status", "workspace_id"):
            if p.get(key):
                items = [s for s in items if s.get(key) == p[key]]
        if p.get("model_id"):
            items = [s for s in items if any(c["model_id"] == p["model_id"] for c in s["config"])]
        items.sort(key=lambda s: (s[sort_by or "publish_at"], s["service_id"]), reverse=order == "desc")
        page = v.page(items, offset, limit, "ListServices")
        return Response(200, {"total_count": len(items), "count": len(page), "services": page})

    def update_service(req: Request) -> Response:
        body = v.body(req)
        with store.lock:
            s = service_of(req)
            desc = body.get("description")
            if desc is not None:
                if len(desc) > 100 or set(desc) & set("<>=&\"'"):
                    raise ApiError(400, "ModelArts.3520", "description: at most 100 characters, none of <>=&\"'")
                s["description"] = desc
            busy = s["status"] in ("deploying", "stopping", "deleting")
            if body.get("status") is not None:
                target = body["status"]
                if target not in ("running", "stopped") or target == s["status"]:
                    raise ApiError(400, "ModelArts.3520", f"cannot change status {s['status']} to {target}")
                if target == "running" and (busy or s["status"] in ("waiting", "concerning")):
                    raise ApiError(400, "ModelArts.3520", f"a {s['status']} service cannot be started")
                if target == "running":
                    s["status"], s["_since"], s["_failure"] = "deploying", store.clock(), None
                    s["_log"] = {"update_time": store.now_ms(), "result": "RUNNING", "config": s["config"]}
                    s["_logs"].append(s["_log"])
                else:
                    s["status"] = "stopped"
            elif body.get("config") is not None:
                if busy:
                    raise ApiError(400, "ModelArts.3520", f"a {s['status']} service cannot be reconfigured")
                configs = check_service_body(body, s["infer_type"])
                s["config"] = [{**c, "model_name": ml.models[c["model_id"]]["model_name"], "status": "notReady",
                                "model_version": ml.models[c["model_id"]]["model_version"]} for c in configs]
                s["status"], s["_since"] = "deploying", store.clock()
                s["_log"] = {"update_time": store.now_ms(), "result": "RUNNING", "config": configs}
                s["_logs"].append(s["_log"])
            if body.get("schedule") is not None:
                s["schedule"] = body["schedule"]
            s["update_time"] = store.now_ms()
        return Response(200, {})

    def monitor(req: Request) -> Response:
        with store.lock:
            s = service_of(req)
            up = s["status"] == "running"
            mons = [{"model_id": c["model_id"], "model_name": c["model_name"], "model_version": c["model_version"],
                     "invocation_times": s["invocation_times"], "failed_times": s["failed_times"],
                     "cpu_core_usage": 0.2 if up else 0, "cpu_core_total": 2, "cpu_memory_usage": 300 if up else 0,
                     "cpu_memory_total": 8192, "gpu_usage": 0, "gpu_total": 0, "gpu_memory_usage": 0,
                     "gpu_memory_total": 0, "model_running_instance_count": c["instance_count"] if up else 0,
                     "model_instance_count": c["instance_count"]} for c in s["config"]]
            total = sum(c["instance_count"] for c in s["config"])
            return Response(200, {"service_id": s["service_id"], "service_name": s["service_name"],
                                  "service_running_instance_count": total if up else 0,
                                  "service_instance_count": total, "req_count_per_min": 0, "monitors": mons})

    def logs(req: Request) -> Response:
        since = v.int_param(req, "update_time", None)
        with store.lock:
            s = service_of(req)
            entries = [dict(e) for e in s["_logs"] if since is None or e["update_time"] >= since]
        return Response(200, {"service_id": s["service_id"], "service_name": s["service_name"], "logs": entries})

    def events(req: Request) -> Response:
        with store.lock:
            s = service_of(req)
            evs = [{"occur_time": e["update_time"], "event_type": "normal" if e["result"] != "FAIL" else "abnormal",
                    "event_info": f"deployment {e['result'].lower()}"} for e in s["_logs"]]
        return Response(200, {"service_id": s["service_id"], "service_name": s["service_name"], "events": evs,
                              "total_count": len(evs), "count": len(evs)})

    def delete_service(req: Request) -> Response:
        ids = [i for i in req.route["service_id"].split(",") if i]
        with store.lock:
            for sid in ids:
                service_of(req, sid)
            for sid in ids:
                del ml.services[sid]
        return Response(200, {})

    def infer(req: Request) -> Response:
        with store.lock:
            s = service_of(req)
            if s["infer_type"] != "real-time" or s["status"] != "running":
                s["failed_times"] += 1
                raise ApiError(400, "ModelArts.4503", f"service {s['service_id']} is {s['status']}, not running")
            s["invocation_times"] += 1
            weights = [(c["model_id"], int(c.get("weight") or 0)) for c in s["config"]]
        model_id = max(weights, key=lambda w: w[1])[0]
        ctype = req.header("content-type") or ""
        files: dict[str, dict[str, io.BytesIO]] = {}
        if ctype.startswith("multipart/form-data"):
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + req.body)
            received = {}
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                data = bytes(part.get_payload(decode=True) or b"")  # type: ignore[arg-type]
                received[name] = {"filename": part.get_filename(), "size": len(data)}
                files.setdefault(str(name), {})[part.get_filename() or "file"] = io.BytesIO(data)
        else:
            received = req.json()
        if ml.run_models:
            service = _model_code(store, ml, model_id)
            if service is not None:
                try:
                    return Response(200, service.run(files or received))
                except Exception as exc:  # noqa: BLE001 - the model's own error, relayed
                    raise ApiError(500, "ModelArts.4302", f"the model failed: {type(exc).__name__}: {exc}") from None
        return Response(200, {"service_id": s["service_id"], "path": req.route.get("sub", "/"),
                              "received": received, **_predict(s, model_id)})

    r = router.add
    r("GET", M + "/ai-engine-runtimes", lambda q: Response(200, {"engines": [
        {"engine_name": k, "runtimes": x} for k, x in RUNTIMES.items()]}))
    r("POST", M, create_model)
    r("GET", M, list_models)
    r("GET", M + "/{model_id}", lambda q: _locked(store, lambda: Response(200, _public(model_of(q)))))
    r("DELETE", M + "/{model_id}", delete_model)
    r("GET", S + "/specifications", lambda q: Response(200, {"total_count": len(SPECS), "count": len(SPECS),
                                                             "specifications": [{"specification": x} for x in SPECS]}))
    r("POST", S, create_service)
    r("GET", S, list_services)
    r("GET", S + "/{service_id}", lambda q: _locked(store, lambda: Response(200, _public(service_of(q)))))
    r("PUT", S + "/{service_id}", update_service)
    r("DELETE", S + "/{service_id}", delete_service)
    r("GET", S + "/{service_id}/monitor", monitor)
    r("GET", S + "/{service_id}/logs", logs)
    r("GET", S + "/{service_id}/events", events)
    r("POST", "/v1/{project_id}/infers/{service_id}", infer)
    r("POST", "/v1/{project_id}/infers/{service_id}/{sub}", infer)


def _locked(store: Store, fn: Any) -> Response:
    with store.lock:
        return fn()
