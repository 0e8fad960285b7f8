"""Handlers: the training-job operations around a job (api.md §11, the official v2
operations): its tasks, AOM log pages, events, job-name validation, batch delete, and
tags (``/v2/{project_id}/modelarts-training-job/...``)."""

from __future__ import annotations

from typing import Any

from mafmt.emulator import _validate as v
from mafmt.emulator._http import ApiError, Request, Response, Router
from mafmt.emulator._ml import ml_state
from mafmt.emulator._state import Store
from mafmt.emulator._training import _NAME, T, _advance, _bad

__all__ = ["register"]

TAGS = "/v2/{project_id}/modelarts-training-job"
_LEVELS = ("Info", "Warning", "Error")


def _tags(body: dict[str, Any], *, values: bool) -> list[dict[str, str]]:
    """``tags`` of a create/delete body: ``[{key, value}]`` (official ``TmsTag``)."""
    tags = body.get("tags")
    if not isinstance(tags, list) or not tags or len(tags) > 20:
        raise _bad("tags: a list of 1-20 {key, value} objects is required", "ModelArts.0101")
    out = []
    for t in tags:
        key = t.get("key") if isinstance(t, dict) else None
        value = t.get("value", "") if isinstance(t, dict) else None
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or not isinstance(value, str) or len(value) > 255:
            raise _bad("each tag needs a key (1-128 characters) and a string value (at most 255)", "ModelArts.0101")
        if values or "value" in t:
            out.append({"key": key, "value": value})
        else:
            out.append({"key": key})
    return out


def register(router: Router, store: Store) -> None:
    """Add the routes."""
    ml = ml_state(store)

    def job_of(job_id: str) -> dict[str, Any]:
        job = ml.jobs.get(job_id)
        if job is None:
            raise ApiError(404, "ModelArts.2752", f"training job {job_id} does not exist")
        _advance(store, ml, job)
        return job

    def tasks(req: Request) -> Response:
        with store.lock:
            job = job_of(req.route["job_id"])
            count = 1 if job["status"]["phase"] not in ("Creating",) else 0
            return Response(200, [{"task": t, "ip": f"192.168.0.{10 + i}", "host_ip": f"10.0.0.{10 + i}",
                                   "schedule_count": count} for i, t in enumerate(job["status"]["tasks"])])

    def aom_log(req: Request) -> Response:
        base = v.int_param(req, "base_line", None, 0)
        lines = v.int_param(req, "lines", 50, 1, 500) or 50
        order = v.choice_param(req, "order", "desc", ("asc", "desc"))
        with store.lock:
            job = job_of(req.route["job_id"])
            task = req.route["task_id"]
            if task not in job["status"]["tasks"]:
                raise ApiError(404, "ModelArts.2752", f"task {task} does not exist")
            text = job["_log"] if task == "worker-0" else job["_log"].replace("[worker-0]", f"[{task}]")
        numbered = list(enumerate(text.splitlines(), start=1))
        if order == "asc":
            chosen = [x for x in numbered if base is None or x[0] > base][:lines]
        else:
            chosen = [x for x in numbered if base is None or x[0] < base][-lines:][::-1]
        if not chosen:
            return Response(200, {"start_line": "", "end_line": "", "lines": 0, "content": ""})
        return Response(200, {"start_line": str(chosen[0][0]), "end_line": str(chosen[-1][0]), "lines": len(chosen),
                              "content": "".join(line + "\n" for _, line in chosen)})

    def events(req: Request) -> Response:
        offset = v.int_param(req, "offset", 0, 0) or 0
        limit = v.int_param(req, "limit", 50, 1, 100) or 50
        order = v.choice_param(req, "order", "desc", ("asc", "desc"))
        level = v.choice_param(req, "level", None, _LEVELS)
        pattern = req.params.get("pattern") or ""
        start, end = req.params.get("start_time") or "", req.params.get("end_time") or ""
        with store.lock:
            items = [dict(e) for e in job_of(req.route["job_id"])["_events"]]
        items = [e for e in items if (level is None or e["level"] == level) and pattern.lower() in e["message"].lower()
                 and (not start or e["time"] >= start) and (not end or e["time"] <= end)]
        if order == "desc":
            items.reverse()
        return Response(200, {"total": len(items), "limit": limit, "offset": offset, "order": order,
                              "start_time": start, "end_time": end,
                              "events": v.page(items, offset, limit, "ListTrainingJobEvents")})

    def validate_name(req: Request) -> Response:
        name = req.params.get("job_name")
        if not name or not _NAME.match(name):
            raise _bad("job_name is required: 1-64 letters, digits, '_' or '-'", "ModelArts.0101")
        workspace = req.params.get("workspace_id") or "0"
        with store.lock:
            taken = any(j["metadata"]["name"] == name and j["metadata"].get("workspace_id", "0") == workspace
                        for j in ml.jobs.values())
        return Response(200, {"is_duplicate": taken})

    def batch_delete(req: Request) -> Response:
        body = v.body(req, "training-job-batch-delete")
        jobs = body.get("jobs")
        if not isinstance(jobs, list) or not jobs:
            raise _bad("jobs: a non-empty list of {kind, metadata: {id}} is required", "ModelArts.0101")
        ids = [((j or {}).get("metadata") or {}).get("id") for j in jobs]
        with store.lock:
            for job_id in ids:
                job_of(str(job_id))
            for job_id in ids:
                ml.jobs.pop(str(job_id), None)
        return Response(202)

    def tags_create(req: Request) -> Response:
        tags = _tags(v.body(req), values=True)
        with store.lock:
            job = job_of(req.route["job_id"])
            have = {t["key"]: t for t in job["_tags"]}
            have.update({t["key"]: t for t in tags})
            job["_tags"] = list(have.values())
        return Response(204)

    def tags_show(req: Request) -> Response:
        with store.lock:
            return Response(200, {"tags": [dict(t) for t in job_of(req.route["job_id"])["_tags"]]})

    def tags_delete(req: Request) -> Response:
        tags = _tags(v.body(req), values=False)
        with store.lock:
            job = job_of(req.route["job_id"])
            gone = [t for t in tags]
            job["_tags"] = [t for t in job["_tags"] if not any(
                g["key"] == t["key"] and ("value" not in g or g["value"] == t["value"]) for g in gone)]
        return Response(204)

    def project_tags(req: Request) -> Response:
        offset = v.int_param(req, "offset", 0, 0) or 0
        limit = v.int_param(req, "limit", 1000, 1, 1000) or 1000
        keys: dict[str, list[str]] = {}
        with store.lock:
            for job in ml.jobs.values():
                for t in job["_tags"]:
                    values = keys.setdefault(t["key"], [])
                    if t.get("value") not in values:
                        values.append(t.get("value", ""))
        items = [{"key": k, "values": x} for k, x in sorted(keys.items())]
        return Response(200, {"tags": v.page(items, offset, limit, "ListTrainingJobTags")})

    r = router.add
    r("GET", T + "/{job_id}/tasks", tasks)
    r("GET", T + "/{job_id}/logs/{task_id}", aom_log)
    r("GET", T + "/{job_id}/events", events)
    r("GET", "/v2/{project_id}/training-job-names", validate_name)
    r("POST", T + "/batch-delete", batch_delete)
    r("POST", TAGS + "/{job_id}/tags/create", tags_create)
    r("GET", TAGS + "/{job_id}/tags", tags_show)
    r("DELETE", TAGS + "/{job_id}/tags/delete", tags_delete)
    r("GET", TAGS + "/tags", project_tags)
