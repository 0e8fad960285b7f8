"""Handlers: inference services, v2 (``/v2/{project_id}/services``, the official
``*InferService*`` and ``*InferDeployment*`` operations), next to the v1 services of
:mod:`mafmt.emulator._serving`.

A service is created with one or more deployments (``group_configs``); it is DEPLOYING
for two ticks, then RUNNING (FAILED with ``fail_next("infer_service")``). Stop makes it
STOPPED, start deploys it again. Deployments can be added, listed, shown and deleted;
they follow their service's state. Answers use the official response shapes: the
service's ``create_at`` is a string of epoch milliseconds, a list item's a number, a
deployment's an ISO 8601 UTC date-time (the official models differ in this)."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime
from typing import Any

from mafmt.emulator import _validate as v
from mafmt.emulator._http import ApiError, Request, Response, Router
from mafmt.emulator._ml import MLState, ml_state
from mafmt.emulator._state import Store

__all__ = ["register"]

S = "/v2/{project_id}/services"
#: service statuses of the official model
STATUSES = ("INIT", "DEPLOYING", "RUNNING", "STOPPING", "STOPPED", "FAILED", "ERROR", "CONCERNING", "UPGRADING",
            "DELETING", "INTERRUPTING")


def _iso(ms: int) -> str:
    """A date-time as the official client reads it: UTC, ``…Z``."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _copy(x: Any) -> Any:
    return json.loads(json.dumps(x))


def _deployment(store: Store, group: dict[str, Any], service: dict[str, Any], user: str) -> dict[str, Any]:
    now = store.now_ms()
    did = str(uuid.uuid4())
    return {"id": did, "name": group["name"], "deployment_name": group["name"], "infer_name": did,
            "description": group.get("description", ""), "pool_id": group.get("pool_id", ""),
            "framework": group.get("framework", "COMMON"), "version": group.get("version", service["version"]),
            "version_id": did, "version_count": 1, "count": group.get("count", 1), "weight": group["weight"],
            "priority": group.get("priority", 1), "status": "DEPLOYING",
            "deploy_type": group.get("deploy_type", service["deploy_type"]),
            "workload_type": group.get("workload_type", "DEPLOYMENT"),
            "high_avail_switch": group.get("high_avail_switch", False),
            "system_log_dump_enable": group.get("system_log_dump_enable", False),
            "unit_configs": _copy(group.get("unit_configs") or []),
            **({"model": _copy(group["model"])} if group.get("model") else {}),
            "mirror_traffic_enable": False, "mirror_traffic_weight": 0, "user_name": user,
            "create_at": now, "update_at": now}


def _deployment_view(d: dict[str, Any]) -> dict[str, Any]:
    out = {k: _copy(x) for k, x in d.items() if not k.startswith("_")}
    out["create_at"], out["update_at"] = _iso(d["create_at"]), _iso(d["update_at"])
    return out


def _deployment_item(d: dict[str, Any]) -> dict[str, Any]:
    return {"id": d["id"], "name": d["name"], "infer_name": d["infer_name"], "status": d["status"],
            "weight": d["weight"], "traffic_ratio": str(d["weight"]), "pool_id": d["pool_id"], "version": d["version"],
            "deploy_type": d["deploy_type"], "mirror_traffic_enable": False, "mirror_traffic_weight": "0",
            "create_at": d["create_at"], "update_at": d["update_at"]}


def _view(s: dict[str, Any]) -> dict[str, Any]:
    """The service as ``ShowInferServiceResponse``."""
    groups = [{"id": d["id"], "name": d["name"], "pool_id": d["pool_id"], "count": d["count"],
               "weight": d["weight"], "status": d["status"], "version": d["version"], "deploy_type": d["deploy_type"],
               "unit_configs": _copy(d["unit_configs"]), "framework": d["framework"], "create_at": _iso(d["create_at"])}
              for d in s["_deployments"].values()]
    out = {k: _copy(x) for k, x in s.items() if not k.startswith("_")}
    out["version"] = {"id": s["_version_id"], "version": s["version"], "description": s["description"],
                      "predict_url": s["predict_url"][0]["urls"][0], "runtime_config": _copy(s["_runtime"]),
                      "instance_groups": groups, "deploy_timeout_minutes": s["deploy_timeout_minutes"]}
    out["create_at"], out["update_at"] = str(s["create_at"]), str(s["update_at"])
    out.pop("description", None)
    return out


def _item(s: dict[str, Any]) -> dict[str, Any]:
    """The service as a ``ServiceItemResponseData`` (list entry)."""
    return {"id": s["id"], "name": s["name"], "status": s["status"], "version": s["version"],
            "version_count": 1, "description": s["description"], "type": s["type"], "deploy_type": s["deploy_type"],
            "user_name": s["_user"], "workspace_id": s["workspace_id"], "create_at": s["create_at"],
            "update_at": s["update_at"], "auth_type": s["_runtime"]["service_invoke"]["auth_type"],
            "task_type": s.get("task_type", ""), "tags": _copy(s["tags"]), "schedule": _copy(s["schedule"])}


def _advance(store: Store, ml: MLState, s: dict[str, Any]) -> None:
    if s["status"] != "DEPLOYING" or ml.ticks(store, s["_since"]) < 2:
        return
    failure = s.pop("_failure", None)
    s["status"] = "FAILED" if failure else "RUNNING"
    if failure:
        s["failure_reason"] = failure.get("error_msg", "deployment failed")
    s["update_at"] = store.now_ms()
    for d in s["_deployments"].values():
        d["status"], d["update_at"] = ("FAILED" if failure else "RUNNING"), s["update_at"]
    s["_events"].append(_event(store, s, "abnormal" if failure else "normal",
                               s.get("failure_reason") or "service is running"))


def _event(store: Store, s: dict[str, Any], kind: str, info: str) -> dict[str, Any]:
    now = store.now_ms()
    return {"id": str(uuid.uuid4()), "service_id": s["id"], "service_version_id": s["_version_id"], "event_count": 1,
            "event_type": kind, "event_info": info, "event_info_cn": info, "create_at": now, "update_at": now}


def _paged(items: list[dict[str, Any]], offset: int, limit: int, operation: str) -> dict[str, Any]:
    page = v.page(items, offset, limit, operation)
    return {"data": page, "current": offset // limit, "size": len(page), "pages": math.ceil(len(items) / limit),
            "total": len(items)}


def register(router: Router, store: Store) -> None:
    """Add the v2 service and deployment routes."""
    ml = ml_state(store)

    def service_of(sid: str) -> dict[str, Any]:
        s = ml.infer_services.get(sid)
        if s is None:
            raise ApiError(404, "ModelArts.3502", f"service {sid} does not exist")
        _advance(store, ml, s)
        return s

    def paging(req: Request) -> tuple[int, int]:
        return v.int_param(req, "offset", 0, 0) or 0, v.int_param(req, "limit", 10, 1, 500) or 10

    def create(req: Request) -> Response:
        body = v.body(req, "infer-service-create")
        user = req.identity.get("user", "mafmt")
        with store.lock:
            if any(s["name"] == body["name"] for s in ml.infer_services.values()):
                raise ApiError(409, "ModelArts.3503", f"service {body['name']} already exists")
            names = [g["name"] for g in body["group_configs"]]
            if len(set(names)) != len(names):
                raise ApiError(400, "ModelArts.3520", "two deployments of one service have the same name")
            sid, now = str(uuid.uuid4()), store.now_ms()
            host = req.header("host") or "127.0.0.1"
            s: dict[str, Any] = {
                "id": sid, "name": body["name"], "workspace_id": body.get("workspace_id", "0"), "type": body["type"],
                "deploy_type": body["deploy_type"], "status": "DEPLOYING", "failure_reason": "",
                "version": body.get("version", "1.0.0"), "description": body.get("description", ""),
                "predict_url": [{"type": "INTERNET", "urls": [f"http://{host}/v2/infers/{sid}"]}],
                "tags": _copy(body.get("tags") or []), "deploy_timeout_minutes": body.get("deploy_timeout_minutes", 30),
                "schedule": _copy(body.get("schedule") or []), "create_at": now, "update_at": now,
                "task_type": body.get("task_type", ""), "_user": user, "_version_id": str(uuid.uuid4()),
                "_runtime": _copy(body["runtime_config"]), "_since": store.clock(),
                "_failure": store.take_failure("infer_service"), "_events": []}
            s["_deployments"] = {d["id"]: d for d in (_deployment(store, g, s, user) for g in body["group_configs"])}
            s["_events"].append(_event(store, s, "normal", "service created, deploying"))
            ml.infer_services[sid] = s
            return Response(200, _view(s))

    def list_services(req: Request) -> Response:
        offset, limit = paging(req)
        order = v.choice_param(req, "sort_dir", "DESC", ("ASC", "DESC", "asc", "desc"))
        key = v.choice_param(req, "sort_key", "create_at", ("create_at", "update_at", "name", "status"))
        p = req.params
        with store.lock:
            items = [_item(service_of(sid)) for sid in list(ml.infer_services)]
        for field in ("id", "status", "type", "workspace_id"):
            if p.get(field):
                items = [s for s in items if s.get(field) == p[field]]
        if p.get("name"):
            items = [s for s in items if p["name"].lower() in s["name"].lower()]
        items.sort(key=lambda s: (s[key or "create_at"], s["id"]), reverse=(order or "").upper() == "DESC")
        return Response(200, _paged(items, offset, limit, "ListInferServices"))

    def show(req: Request) -> Response:
        with store.lock:
            return Response(200, _view(service_of(req.route["service_id"])))

    def update(req: Request) -> Response:
        body = v.body(req, "infer-service-update")
        with store.lock:
            s = service_of(req.route["service_id"])
            if s["status"] in ("DEPLOYING", "STOPPING", "DELETING"):
                raise ApiError(400, "ModelArts.3520", f"a {s['status']} service cannot be updated")
            for key in ("name", "description", "version", "deploy_timeout_minutes", "task_type"):
                if body.get(key) is not None:
                    if key == "name" and any(x["name"] == body["name"] and x is not s
                                             for x in ml.infer_services.values()):
                        raise ApiError(409, "ModelArts.3503", f"service {body['name']} already exists")
                    s[key] = body[key]
            if body.get("schedule") is not None:
                s["schedule"] = _copy(body["schedule"])
            if body.get("group_configs"):
                s["_deployments"] = {d["id"]: d for d in (_deployment(store, g, s, s["_user"])
                                                          for g in body["group_configs"])}
                s["status"], s["_since"] = "DEPLOYING", store.clock()
            s["update_at"] = store.now_ms()
            return Response(200, _view(s))

    def action(req: Request, target: str) -> Response:
        with store.lock:
            s = service_of(req.route["service_id"])
            if target == "STOPPED":
                if s["status"] not in ("RUNNING", "CONCERNING", "DEPLOYING", "FAILED"):
                    raise ApiError(400, "ModelArts.3520", f"a {s['status']} service cannot be stopped")
                s["status"] = "STOPPED"
                for d in s["_deployments"].values():
                    d["status"] = "STOPPED"
                s["_events"].append(_event(store, s, "normal", "service stopped"))
            else:
                if s["status"] not in ("STOPPED", "FAILED"):
                    raise ApiError(400, "ModelArts.3520", f"a {s['status']} service cannot be started")
                s["status"], s["_since"], s["failure_reason"] = "DEPLOYING", store.clock(), ""
                for d in s["_deployments"].values():
                    d["status"] = "DEPLOYING"
            s["update_at"] = store.now_ms()
            return Response(200, _view(s))

    def batch_delete(req: Request) -> Response:
        body = v.body(req)
        ids = body.get("service_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, "ModelArts.0101", "service_ids: a non-empty list of service IDs is required")
        with store.lock:
            found = [service_of(sid) for sid in ids]
            out = []
            for s in found:
                view = _view(s)
                view["status"] = "DELETING"
                out.append(view)
                del ml.infer_services[s["id"]]
        return Response(200, {"service_responses": out})

    def events(req: Request) -> Response:
        offset, limit = paging(req)
        kind = req.params.get("event_type")
        with store.lock:
            items = [dict(e) for e in service_of(req.route["service_id"])["_events"]]
        items = [e for e in items if not kind or e["event_type"] == kind]
        items.reverse()
        return Response(200, _paged(items, offset, limit, "ListInferServiceEvents"))

    def deployment_of(req: Request) -> tuple[dict[str, Any], dict[str, Any]]:
        s = service_of(req.route["service_id"])
        d = s["_deployments"].get(req.route["deployment_id"])
        if d is None:
            raise ApiError(404, "ModelArts.3524", f"deployment {req.route['deployment_id']} does not exist")
        return s, d

    def create_deployment(req: Request) -> Response:
        group = v.body(req, "infer-deployment")
        with store.lock:
            s = service_of(req.route["service_id"])
            if any(d["name"] == group["name"] for d in s["_deployments"].values()):
                raise ApiError(409, "ModelArts.3525", f"deployment {group['name']} already exists")
            d = _deployment(store, group, s, req.identity.get("user", "mafmt"))
            if s["status"] == "RUNNING":
                d["status"] = "RUNNING"
            s["_deployments"][d["id"]] = d
            return Response(200, _deployment_view(d))

    def list_deployments(req: Request) -> Response:
        offset, limit = paging(req)
        status = req.params.get("status")
        with store.lock:
            items = [_deployment_item(d) for d in service_of(req.route["service_id"])["_deployments"].values()]
        items = [d for d in items if not status or d["status"] == status]
        items.sort(key=lambda d: (d["create_at"], d["id"]))
        return Response(200, _paged(items, offset, limit, "ListInferDeployments"))

    def show_deployment(req: Request) -> Response:
        with store.lock:
            return Response(200, _deployment_view(deployment_of(req)[1]))

    def delete_deployment(req: Request) -> Response:
        with store.lock:
            s, d = deployment_of(req)
            if len(s["_deployments"]) == 1:
                raise ApiError(400, "ModelArts.3520", "a service keeps at least one deployment")
            del s["_deployments"][d["id"]]
            return Response(200, _deployment_view(d))

    r = router.add
    r("POST", S, create)
    r("GET", S, list_services)
    r("GET", S + "/{service_id}", show)
    r("PUT", S + "/{service_id}", update)
    r("POST", S + "/{service_id}/start", lambda q: action(q, "RUNNING"))
    r("POST", S + "/{service_id}/stop", lambda q: action(q, "STOPPED"))
    r("POST", S + "/delete", batch_delete)
    r("GET", S + "/{service_id}/events", events)
    r("POST", S + "/{service_id}/deployments", create_deployment)
    r("GET", S + "/{service_id}/deployments", list_deployments)
    r("GET", S + "/{service_id}/deployments/{deployment_id}", show_deployment)
    r("DELETE", S + "/{service_id}/deployments/{deployment_id}", delete_deployment)
