"""Handlers: import tasks, export tasks and labeling tasks (api.md §7–§9), with the
background work that really reads and writes OBS through :mod:`mafmt.storage`."""

from __future__ import annotations

import re
from typing import Any

from mafmt.emulator import _validate as v
from mafmt.emulator._data import D, sample_type_of
from mafmt.emulator._http import ApiError, Request, Response, Router
from mafmt.emulator._samples import export_samples, import_dir, import_manifest
from mafmt.emulator._state import DatasetRec, Store, new_id
from mafmt.errors import MafmtError

__all__ = ["register"]

RUNNING = ("QUEUING", "STARTING", "RUNNING")
#: data type -> label task types allowed on it (api.md §9)
TASK_TYPES = {"IMAGE": {0, 1, 3}, "TEXT": {100, 101, 102}, "AUDIO": {200, 201, 202}, "TABLE": {400},
              "VIDEO": {600}, "PLAIN": {900}}
EXPORTABLE = {0, 1, 3, 900, None}


def _fail_state(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, ApiError):
        return {"error_code": exc.code, "error_msg": exc.msg}
    return {"error_code": "ModelArts.4340" if isinstance(exc, MafmtError) else "ModelArts.0010",
            "error_msg": str(exc)}


def make_import_starter(store: Store) -> Any:
    """``start(rec, body, initial=False) -> task_id``: queue an import of ``body``."""

    def start(rec: DatasetRec, body: dict[str, Any], *, initial: bool = False) -> str:
        path = body["import_path"]
        kind = body.get("import_type") or ("manifest" if path.endswith(".manifest") else "dir")
        with store.lock:
            if any(t["status"] in RUNNING for t in rec.imports.values()):
                raise ApiError(400, "ModelArts.4356", "Dataset already has a running import task")
            task_id = f"{rec.id}_{new_id()}"
            now = store.now_ms()
            task = {
                "task_id": task_id, "dataset_id": rec.id, "import_path": path,
                "import_type": 1 if kind == "manifest" else 0, "status": "QUEUING", "create_time": now,
                "update_ms": now, "elapsed_time": 0, "total_sample_count": 0, "imported_sample_count": 0,
                "annotated_sample_count": 0, "import_annotations": body.get("import_annotations", True),
                "annotation_format_config": body.get("annotation_format_config"),
            }
            rec.imports[task_id] = task
            if not initial:
                rec.wire["status"] = 8

        def run() -> None:
            with store.lock:
                task["status"] = "RUNNING"
            try:
                failure = store.take_failure("import")
                if failure:
                    raise ApiError(400, failure.get("error_code", "ModelArts.4340"),
                                   failure.get("error_msg", "forced failure"))
                annotations = bool(task["import_annotations"])
                if kind == "manifest":
                    counts = import_manifest(store, rec, path, annotations, sample_type_of(rec))
                else:
                    formats = task.get("annotation_format_config") or [{}]
                    counts = import_dir(store, rec, path, annotations, sample_type_of(rec),
                                        fmt=formats[0].get("format_name"), allow_empty=initial)
                state: dict[str, Any] = {"status": "COMPLETED", **counts}
            except Exception as exc:  # noqa: BLE001 - recorded on the task
                state = {"status": "FAILED", **_fail_state(exc)}
            with store.lock:
                end = store.now_ms()
                task.update(state, update_ms=end, elapsed_time=(end - task["create_time"]) // 1000)
                rec.wire["status"] = 1 if state["status"] == "COMPLETED" or not initial else 4
                rec.wire["data_update_time"] = end

        store.submit(run)
        return task_id

    return start


def register(router: Router, store: Store, start_import: Any) -> None:
    """Add the import-task, export-task and labeling-task routes."""
    base = D + "/{dataset_id}"

    def _list(req: Request, attr: str, key: str, total: str, operation: str, hi: int = 100,
              default: int = 10) -> Response:
        offset = v.int_param(req, "offset", 0, 0) or 0
        limit = v.int_param(req, "limit", default, 1, hi) or default
        with store.lock:
            rec = store.dataset(req.route["dataset_id"])
            items = [dict(t) for t in getattr(rec, attr).values()]
        items.sort(key=lambda t: (t["create_time"], t["task_id"]), reverse=True)
        return Response(200, {total: len(items), key: v.page(items, offset, limit, operation)})

    def _get(req: Request, attr: str, code: str, what: str) -> Response:
        with store.lock:
            rec = store.dataset(req.route["dataset_id"])
            task = getattr(rec, attr).get(req.route["task_id"])
            if task is None:
                raise ApiError(400, code, f"{what} does not exist")
            return Response(200, dict(task))

    def create_import(req: Request) -> Response:
        body = v.body(req, "import-task")
        path = body.get("import_path")
        if not isinstance(path, str) or not path or re.search(r"[\n\r\t]", path):
            raise ApiError(400, "ModelArts.0101", "import_path is required (no tabs or line breaks)")
        store.split_obs(path)
        rec = store.dataset(req.route["dataset_id"])
        return Response(200, {"task_id": start_import(rec, body)})

    def create_export(req: Request) -> Response:
        body = v.body(req, "export-task")
        path = body.get("path")
        if not isinstance(path, str) or not path:
            raise ApiError(400, "ModelArts.4358", "Invalid export path")
        store.split_obs(path)
        export_type = body.get("export_type", 2)
        header = body.get("source_type_header", "obs://")
        with store.lock:
            rec = store.dataset(req.route["dataset_id"])
            if rec.wire.get("dataset_type") not in EXPORTABLE:
                raise ApiError(400, "ModelArts.0101", "this dataset type cannot be exported")
            vid = body.get("version_id")
            if vid and vid not in rec.snapshots:
                raise ApiError(400, "ModelArts.4353", "Dataset version does not exist")
            recs = list(rec.snapshots[vid] if vid else rec.samples.values())
            if export_type == 0:
                recs = [r for r in recs if r.wire["labels"]]
            elif export_type == 1:
                recs = [r for r in recs if not r.wire["labels"]]
            tid, now = new_id(), store.now_ms()
            task = {"task_id": tid, "path": path, "export_type": export_type,
                    "export_format": body.get("export_format", 1), "export_params": body.get("export_params"),
                    "version_id": vid, "version_format": body.get("version_format", "Default"),
                    "source_type_header": header, "status": "INIT", "progress": 0.0,
                    "total_sample_count": len(recs), "finished_sample_count": 0, "create_time": now,
                    "update_time": now}
            rec.exports[tid] = task
            name = rec.wire["dataset_name"]

        def run() -> None:
            with store.lock:
                task["status"] = "RUNNING"
            try:
                failure = store.take_failure("export")
                if failure:
                    raise ApiError(400, failure.get("error_code", "ModelArts.4358"),
                                   failure.get("error_msg", "forced failure"))
                where = export_samples(store, recs, path, f"{name}-{tid}", header)
                state: dict[str, Any] = {"status": "SUCCESSED", "progress": 100.0,
                                         "finished_sample_count": len(recs), "manifest_path": where}
            except Exception as exc:  # noqa: BLE001 - recorded on the task
                state = {"status": "FAILED", **_fail_state(exc)}
            with store.lock:
                task.update(state, update_time=store.now_ms())

        store.submit(run)
        return Response(200, dict(task))

    def create_label_task(req: Request) -> Response:
        body = v.body(req, "label-task")
        name, ttype = body.get("task_name"), body.get("task_type")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise ApiError(400, "ModelArts.0101", "task_name must be 1-64 letters, digits, '_' or '-'")
        if not isinstance(ttype, int):
            raise ApiError(400, "ModelArts.0101", "task_type is required (a labeling type code)")
        with store.lock:
            rec = store.dataset(req.route["dataset_id"])
            allowed = TASK_TYPES.get(rec.wire.get("data_type") or "")
            if allowed is not None and ttype not in allowed:
                raise ApiError(400, "ModelArts.0101",
                               f"task_type {ttype} does not fit a {rec.wire['data_type']} dataset")
            if any(t["task_name"] == name for t in rec.label_tasks.values()):
                raise ApiError(400, "ModelArts.4800", f"Labeling task {name} already exists")
            tid, now = new_id(), store.now_ms()
            team = bool(body.get("workforces_config"))
            labeled = sum(1 for s in rec.samples.values() if s.wire["labels"])
            rec.label_tasks[tid] = {
                "task_id": tid, "task_name": name, "task_type": ttype, "dataset_id": rec.id,
                "description": body.get("description", ""), "status": 1, "create_time": now, "update_time": now,
                "is_workforce_task": team, "workforces_config": body.get("workforces_config"),
                "repetition": body.get("repetition", 1), "auto_sync_dataset": body.get("auto_sync_dataset", True),
                "synchronize_data": body.get("synchronize_data", False),
                "synchronize_auto_labeling_data": body.get("synchronize_auto_labeling_data", False),
                "data_sync_type": body.get("data_sync_type", 0),
                "sample_stats": {"total_sample_count": len(rec.samples),
                                 "unannotated_sample_count": len(rec.samples) - labeled,
                                 "accepted_sample_count": 0, "deleted_sample_count": 0},
                "workforce_stats": {"workforce_count": len((body.get("workforces_config") or {}).get("workforces")
                                                           or [])},
            }
        return Response(200, {"task_id": tid})

    def list_label_tasks(req: Request) -> Response:
        offset = v.int_param(req, "offset", 0, 0) or 0
        limit = v.int_param(req, "limit", 1000, 1, 1000) or 1000
        team = v.bool_param(req, "is_workforce_task", False)
        key = v.choice_param(req, "sort_key", "create_time", ("create_time", "task_name"))
        direction = v.choice_param(req, "sort_dir", "desc", ("asc", "desc"))
        with store.lock:
            rec = store.dataset(req.route["dataset_id"])
            items = [dict(t) for t in rec.label_tasks.values() if not team or t["is_workforce_task"]]
        items.sort(key=lambda t: (t[key or "create_time"], t["task_id"]), reverse=direction == "desc")
        return Response(200, {"count": len(items), "tasks": v.page(items, offset, limit, "ListWorkforceTasks")})

    router.add("POST", base + "/import-tasks", create_import)
    router.add("GET", base + "/import-tasks", lambda r: _list(r, "imports", "import_tasks", "total_count", "ListImportTasks"))
    router.add("GET", base + "/import-tasks/{task_id}",
               lambda r: _get(r, "imports", "ModelArts.4352", "Import task"))
    router.add("POST", base + "/export-tasks", create_export)
    router.add("GET", base + "/export-tasks", lambda r: _list(r, "exports", "export_tasks", "total_count", "ListExportTasks"))
    router.add("GET", base + "/export-tasks/{task_id}",
               lambda r: _get(r, "exports", "ModelArts.4359", "Export task"))
    router.add("POST", base + "/workforce-tasks", create_label_task)
    router.add("GET", base + "/workforce-tasks", list_label_tasks)
    router.add("GET", base + "/workforce-tasks/{task_id}",
               lambda r: _get(r, "label_tasks", "ModelArts.4801", "Labeling task"))
