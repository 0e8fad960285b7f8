"""Handlers: algorithms, v2 (``/v2/{project_id}/algorithms``; the official
``CreateAlgorithm``, ``ListAlgorithms``, ``ShowAlgorithmByUuid``, ``ChangeAlgorithm`` and
``DeleteAlgorithm``). An algorithm holds a job configuration (code or image, engine,
parameters, declared inputs and outputs) that training jobs use by ``algorithm.id``."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from mafmt.emulator import _validate as v
from mafmt.emulator._http import ApiError, Request, Response, Router
from mafmt.emulator._ml import ENGINES, ml_state
from mafmt.emulator._state import Store

__all__ = ["register"]

A = "/v2/{project_id}/algorithms"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _bad(msg: str, code: str = "ModelArts.2701") -> ApiError:
    return ApiError(400, code, msg)


def _check(body: dict[str, Any]) -> None:
    meta = body.get("metadata") or {}
    if not isinstance(meta.get("name"), str) or not _NAME.match(meta["name"]):
        raise _bad("metadata.name is required: 1-64 letters, digits, '_' or '-'")
    if len(meta.get("description") or "") > 256:
        raise _bad("metadata.description: at most 256 characters")
    cfg = body.get("job_config") or {}
    engine = cfg.get("engine") or {}
    code = bool(cfg.get("code_dir") and cfg.get("boot_file"))
    image = bool(engine.get("image_url") and cfg.get("command"))
    if bool(cfg.get("code_dir")) != bool(cfg.get("boot_file")):
        raise _bad("job_config.code_dir and job_config.boot_file go together")
    if not (code or image):
        raise _bad("job_config: give code_dir + boot_file, or engine.image_url + command")
    if engine.get("engine_name") and engine.get("engine_version") and not any(
            e["engine_name"] == engine["engine_name"] and e["engine_version"] == engine["engine_version"]
            for e in ENGINES):
        raise _bad(f"engine {engine['engine_name']} {engine['engine_version']} does not exist", "ModelArts.2731")


def _record(body: dict[str, Any], algorithm_id: str, now: int, user: str, created: int | None = None
            ) -> dict[str, Any]:
    """The stored algorithm, in the official response shape."""
    meta = body.get("metadata") or {}
    cfg = json.loads(json.dumps(body.get("job_config") or {}))
    return {
        "metadata": {"id": algorithm_id, "name": meta["name"], "description": meta.get("description", ""),
                     "workspace_id": meta.get("workspace_id", "0"), "ai_project": meta.get("ai_project", "default-ai-project"),
                     "user_name": user, "domain_id": "emulator", "source": "custom", "api_version": "v2",
                     "is_valid": True, "state": "", "tags": [], "attr_list": [], "version_num": 0, "size": 0,
                     "create_time": created if created is not None else now, "update_time": now},
        "job_config": cfg,
        "resource_requirements": [{"key": r.get("key"), "value": r.get("values") or [], "operator": r.get("operator")}
                                  for r in body.get("resource_requirements") or []],
        "advanced_config": json.loads(json.dumps(body.get("advanced_config") or {})),
    }


def register(router: Router, store: Store) -> None:
    """Add the algorithm routes."""
    ml = ml_state(store)

    def algorithm_of(req: Request) -> dict[str, Any]:
        found = ml.algorithms.get(req.route["algorithm_id"])
        if found is None:
            raise ApiError(404, "ModelArts.2702", f"algorithm {req.route['algorithm_id']} does not exist")
        return found

    def create(req: Request) -> Response:
        body = v.body(req, "algorithm")
        _check(body)
        with store.lock:
            name = body["metadata"]["name"]
            if any(a["metadata"]["name"] == name for a in ml.algorithms.values()):
                raise ApiError(400, "ModelArts.2703", f"algorithm {name} already exists")
            aid = str(uuid.uuid4())
            ml.algorithms[aid] = _record(body, aid, store.now_ms(), req.identity.get("user", "mafmt"))
            return Response(201, json.loads(json.dumps(ml.algorithms[aid])))

    def list_(req: Request) -> Response:
        offset = v.int_param(req, "offset", 0, 0) or 0
        limit = v.int_param(req, "limit", 10, 1, 50) or 10
        sort_by = v.choice_param(req, "sort_by", "create_time", ("create_time", "name"))
        order = v.choice_param(req, "order", "desc", ("asc", "desc"))
        search = req.params.get("searches") or ""
        with store.lock:
            items = [json.loads(json.dumps(a)) for a in ml.algorithms.values()]
        total = len(items)
        for cond in (c for c in search.split(";") if c):  # "name:x" filters (the service's syntax)
            key, _, want = cond.partition(":")
            if key == "name":
                items = [a for a in items if want.lower() in a["metadata"]["name"].lower()]
        field = "name" if sort_by == "name" else "create_time"
        items.sort(key=lambda a: (a["metadata"][field], a["metadata"]["id"]), reverse=order == "desc")
        return Response(200, {"total": total, "count": len(items), "limit": limit, "offset": offset,
                              "sort_by": sort_by, "order": order, "group_by": req.params.get("group_by", ""),
                              "items": v.page(items, offset, limit, "ListAlgorithms")})

    def show(req: Request) -> Response:
        with store.lock:
            return Response(200, json.loads(json.dumps(algorithm_of(req))))

    def change(req: Request) -> Response:
        body = v.body(req, "algorithm")
        _check(body)
        with store.lock:
            old = algorithm_of(req)
            name = body["metadata"]["name"]
            if any(a["metadata"]["name"] == name and a is not old for a in ml.algorithms.values()):
                raise ApiError(400, "ModelArts.2703", f"algorithm {name} already exists")
            aid = old["metadata"]["id"]
            ml.algorithms[aid] = _record(body, aid, store.now_ms(), old["metadata"]["user_name"],
                                         old["metadata"]["create_time"])
            return Response(200, json.loads(json.dumps(ml.algorithms[aid])))

    def delete(req: Request) -> Response:
        with store.lock:
            aid = algorithm_of(req)["metadata"]["id"]
            del ml.algorithms[aid]
        return Response(202)

    router.add("POST", A, create)
    router.add("GET", A, list_)
    router.add("GET", A + "/{algorithm_id}", show)
    router.add("PUT", A + "/{algorithm_id}", change)
    router.add("DELETE", A + "/{algorithm_id}", delete)
