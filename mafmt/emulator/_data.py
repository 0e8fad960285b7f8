"""Handlers: datasets, versions and samples (api.md §4–§6)."""

from __future__ import annotations

import base64
import re
from typing import Any

from mafmt import manifest, storage
from mafmt.emulator import _validate as v
from mafmt.emulator._http import ApiError, Request, Response, Router
from mafmt.emulator._samples import SAMPLE_TYPES, export_samples, sample_wire
from mafmt.emulator._state import DatasetRec, SampleRec, Store, new_id, new_sample_id

__all__ = ["register"]

DATA_TYPES = {"IMAGE": 0, "TEXT": 1, "AUDIO": 2, "TABLE": 4, "VIDEO": 6, "PLAIN": 9}
_VERSION_NAME = re.compile(r"^[\w-]{1,32}$")
_BAD_DESC = set("^!<>=&\"'")
D = "/v2/{project_id}/datasets"


def _check_desc(desc: Any) -> None:
    if desc is not None and (not isinstance(desc, str) or len(desc) > 256 or set(desc) & _BAD_DESC):
        raise ApiError(400, "ModelArts.0107", "description must be 0-256 characters, none of ^!<>=&\"'")


def _dataset_view(store: Store, rec: DatasetRec) -> dict[str, Any]:
    out = dict(rec.wire)
    samples = list(rec.samples.values())
    out["total_sample_count"] = len(samples)
    out["annotated_sample_count"] = sum(1 for s in samples if s.wire["labels"])
    running = [t["task_id"] for t in rec.imports.values() if t["status"] in ("QUEUING", "STARTING", "RUNNING")]
    out["exist_running_task"] = bool(running)
    out["running_tasks_id"] = running
    out["dataset_version_count"] = len(rec.versions)
    out["label_task_count"] = len(rec.label_tasks)
    out["workforce_task_count"] = sum(1 for t in rec.label_tasks.values() if t.get("is_workforce_task"))
    out["exist_workforce_task"] = out["workforce_task_count"] > 0
    cur = rec.versions.get(out.get("current_version_id") or "")
    out["versions"] = [cur] if cur else []
    return out


def register(router: Router, store: Store, start_import: Any) -> None:
    """Add the dataset, version and sample routes."""

    def list_datasets(req: Request) -> Response:
        dtype = v.int_param(req, "dataset_type", None)
        search = req.params.get("search_content", "").lower()
        offset = v.int_param(req, "offset", 0, 0)
        limit = v.int_param(req, "limit", 10, 1, 100)
        sort_by = v.choice_param(req, "sort_by", "create_time", ("create_time", "dataset_name"))
        order = v.choice_param(req, "order", "desc", ("asc", "desc"))
        with store.lock:
            items = [_dataset_view(store, r) for r in store.datasets.values()]
        items = [d for d in items if (dtype is None or d.get("dataset_type") == dtype)
                 and search in d["dataset_name"].lower()]
        items.sort(key=lambda d: (d[sort_by or "create_time"], d["dataset_id"]), reverse=order == "desc")
        return Response(200, {"total_number": len(items), "datasets": v.page(items, offset or 0, limit or 10, "ListDatasets")})

    def create_dataset(req: Request) -> Response:
        body = v.body(req, "dataset-create")
        name = body.get("dataset_name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,100}", name):
            raise ApiError(400, "ModelArts.0101", "dataset_name must be 1-100 letters, digits, '_' or '-'")
        if ("dataset_type" in body) == ("data_type" in body):
            raise ApiError(400, "ModelArts.0101", "give exactly one of dataset_type and data_type")
        sources = body.get("data_sources")
        if not isinstance(sources, list) or len(sources) != 1 or not isinstance(sources[0], dict):
            raise ApiError(400, "ModelArts.0101", "data_sources must hold exactly one data source")
        src_path = sources[0].get("data_path")
        work = body.get("work_path")
        if not isinstance(work, str) or not isinstance(src_path, str):
            raise ApiError(400, "ModelArts.0101", "work_path and data_sources[0].data_path are required")
        wb, wk = store.split_obs(work)
        sb, sk = store.split_obs(src_path)
        if wb == sb and ("/" + wk.rstrip("/") + "/").startswith("/" + sk.rstrip("/") + "/"):
            raise ApiError(400, "ModelArts.0101", "the output path must not equal or lie inside the input path")
        _check_desc(body.get("description"))
        with store.lock:
            if any(r.wire["dataset_name"] == name for r in store.datasets.values()):
                raise ApiError(400, "ModelArts.4351", f"Dataset {name} already exists")
            did, now = new_id(), store.now_ms()
            data_type = body.get("data_type")
            dtype = body.get("dataset_type")
            inner = f"/{wb}/{wk.rstrip('/')}/{name}-{did}/"
            wire = {
                "dataset_id": did, "dataset_name": name, "dataset_type": dtype, "data_type": data_type,
                "dataset_version": "v2" if data_type else "v1", "description": body.get("description", ""),
                "status": 0, "create_time": now, "update_time": now, "data_update_time": now,
                "data_format": body.get("data_format", "Default"), "dataset_format": 1 if dtype == 400 else 0,
                "data_sources": [{k: x for k, x in sources[0].items() if k != "source_info"}],
                "work_path": work, "work_path_type": body.get("work_path_type", 0),
                "inner_work_path": inner, "inner_annotation_path": inner + "annotation/",
                "inner_data_path": inner + "data/", "inner_log_path": inner + "logs/",
                "inner_task_path": inner + "task/", "inner_temp_path": inner + "temp/",
                "labels": body.get("labels") or [], "schema": body.get("schema") or [],
                "current_version_id": None, "current_version_name": None, "next_version_num": 1,
                "managed": body.get("managed", False), "workspace_id": body.get("workspace_id", "0"),
                "annotation_format_config": body.get("annotation_format_config"),
            }
            rec = DatasetRec(wire)
            store.datasets[did] = rec
        task_id = start_import(rec, {
            "import_path": src_path, "import_type": "dir",
            "import_annotations": body.get("import_annotations", True),
            "annotation_format_config": body.get("annotation_format_config")}, initial=True)
        rec.wire["import_task_id"] = task_id
        return Response(201, {"dataset_id": did, "import_task_id": task_id})

    def get_dataset(req: Request) -> Response:
        with store.lock:
            return Response(200, _dataset_view(store, store.dataset(req.route["dataset_id"])))

    def update_dataset(req: Request) -> Response:
        body = v.body(req)
        with store.lock:
            rec = store.dataset(req.route["dataset_id"])
            name = body.get("dataset_name")
            if name is not None:
                if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,100}", name):
                    raise ApiError(400, "ModelArts.0101", "dataset_name must be 1-100 letters, digits, '_' or '-'")
                if any(r.wire["dataset_name"] == name and r is not rec for r in store.datasets.values()):
                    raise ApiError(400, "ModelArts.4351", f"Dataset {name} already exists")
                rec.wire["dataset_name"] = name
            if "description" in body:
                _check_desc(body["description"])
                rec.wire["description"] = body["description"]
            if body.get("current_version_id"):
                if body["current_version_id"] not in rec.versions:
                    raise ApiError(400, "ModelArts.4353", "Dataset version does not exist")
                rec.wire["current_version_id"] = body["current_version_id"]
            labels = {lab["name"]: lab for lab in rec.wire["labels"]}
            for lab in body.get("add_labels") or []:
                labels[lab["name"]] = lab
            for lab in body.get("update_labels") or []:
                new = (lab.get("property") or {}).get("@modelarts:rename_to")
                old = labels.pop(lab["name"], lab)
                merged = {**old, **lab, "name": new or lab["name"]}
                labels[merged["name"]] = merged
            for lab in body.get("delete_labels") or []:
                labels.pop(lab["name"], None)
            rec.wire["labels"] = list(labels.values())
            rec.wire["update_time"] = store.now_ms()
        return Response(200, {"dataset_id": rec.id})

    def delete_dataset(req: Request) -> Response:
        with store.lock:
            rec = store.dataset(req.route["dataset_id"])
            del store.datasets[rec.id]
        return Response(204)

    for method, path, fn in (("GET", D, list_datasets), ("POST", D, create_dataset),
                             ("GET", D + "/{dataset_id}", get_dataset), ("PUT", D + "/{dataset_id}", update_dataset),
                             ("DELETE", D + "/{dataset_id}", delete_dataset)):
        router.add(method, path, fn)
    _register_versions(router, store)
    _register_samples(router, store)


# --------------------------------------------------------------------------- versions


def _register_versions(router: Router, store: Store) -> None:
    base = D + "/{dataset_id}/versions"

    def list_versions(req: Request) -> Response:
        status = v.int_param(req, "status", None)
        offset = v.int_param(req, "offset", 0, 0) or 0
        limit = v.int_param(req, "limit", 1000, 1, 1000) or 1000
        with store.lock:
            rec = store.dataset(req.route["dataset_id"])
            items = [dict(x) for x in rec.versions.values() if status is None or x["status"] == status]
        items.sort(key=lambda x: (x["create_time"], x["version_name"]), reverse=True)
        return Response(200, {"total_number": len(items), "versions": v.page(items, offset, limit, "ListDatasetVersions")})

    def create_version(req: Request) -> Response:
        body = v.body(req)
        _check_desc(body.get("description"))
        with store.lock:
            rec = store.dataset(req.route["dataset_id"])
            now = store.clock()
            if store.publish_interval and now - rec.last_publish < store.publish_interval:
                raise ApiError(400, "ModelArts.4370", "Only one version can be published per minute")
            name = body.get("version_name") or f"V{rec.wire['next_version_num']:03d}"
            if not isinstance(name, str) or not _VERSION_NAME.fullmatch(name):
                raise ApiError(400, "ModelArts.0101", "version_name must be 1-32 letters, digits, '_' or '-'")
            if any(x["version_name"] == name for x in rec.versions.values()):
                raise ApiError(400, "ModelArts.4371", f"Dataset version {name} already exists")
            task_id = body.get("label_task_id")
            if task_id and task_id not in rec.label_tasks:
                raise ApiError(400, "ModelArts.4801", "Labeling task does not exist")
            snapshot = list(rec.samples.values())
            vid, ms = new_id(), store.now_ms()
            folder = f"{rec.wire['inner_annotation_path']}{name}/"
            task_type = body.get("task_type", rec.label_tasks[task_id]["task_type"] if task_id else
                                 rec.wire["dataset_type"])
            version = {
                "version_id": vid, "version_name": name, "version_format": body.get("version_format", "Default"),
                "description": body.get("description", ""), "status": 0, "create_time": ms, "update_time": ms,
                "is_current": True, "previous_version_id": rec.wire.get("current_version_id"),
                "total_sample_count": len(snapshot),
                "annotated_sample_count": sum(1 for s in snapshot if s.wire["labels"]),
                "manifest_path": f"{folder}{name}.manifest", "data_path": f"{folder}data/",
                "task_type": task_type, "label_task_id": task_id,
                "train_evaluate_sample_ratio": body.get("train_evaluate_sample_ratio", "1.00"),
                "clear_hard_property": body.get("clear_hard_property", True),
                "export_images": body.get("export_images", False),
                "remove_sample_usage": body.get("remove_sample_usage", True),
            }
            for other in rec.versions.values():
                other["is_current"] = False
            rec.versions[vid] = version
            rec.snapshots[vid] = snapshot
            rec.wire.update(current_version_id=vid, current_version_name=name,
                            next_version_num=rec.wire["next_version_num"] + 1, status=6)
            rec.last_publish = now

        def publish() -> None:
            failure = store.take_failure("version")
            try:
                if failure:
                    raise ApiError(400, failure.get("error_code", "ModelArts.0010"), failure.get("error_msg", "forced"))
                export_samples(store, snapshot, folder, name, "obs://")
                state: dict[str, Any] = {"status": 1}
            except Exception as exc:  # noqa: BLE001 - recorded on the version
                state = {"status": 4, "message": str(exc)}
            with store.lock:
                version.update(state, update_time=store.now_ms())
                rec.wire["status"] = 1

        store.submit(publish)
        return Response(201, {"version_id": vid})

    def get_version(req: Request) -> Response:
        with store.lock:
            rec = store.dataset(req.route["dataset_id"])
            version = rec.versions.get(req.route["version_id"])
            if version is None:
                raise ApiError(400, "ModelArts.4353", "Dataset version does not exist")
            return Response(200, dict(version))

    def delete_version(req: Request) -> Response:
        with store.lock:
            rec = store.dataset(req.route["dataset_id"])
            if rec.versions.pop(req.route["version_id"], None) is None:
                raise ApiError(400, "ModelArts.4353", "Dataset version does not exist")
            rec.snapshots.pop(req.route["version_id"], None)
            if rec.wire.get("current_version_id") == req.route["version_id"]:
                rec.wire.update(current_version_id=None, current_version_name=None)
        return Response(204)

    router.add("GET", base, list_versions)
    router.add("POST", base, create_version)
    router.add("GET", base + "/{version_id}", get_version)
    router.add("DELETE", base + "/{version_id}", delete_version)


# --------------------------------------------------------------------------- samples


def _register_samples(router: Router, store: Store) -> None:
    base = D + "/{dataset_id}/data-annotations/samples"

    def list_samples(req: Request) -> Response:
        offset = v.int_param(req, "offset", 0, 0) or 0
        limit = v.int_param(req, "limit", 10, 1, 100) or 10
        order = v.choice_param(req, "order", "desc", ("asc", "desc"))
        state = req.params.get("sample_state")
        label = req.params.get("label_name")
        with store.lock:
            rec = store.dataset(req.route["dataset_id"])
            vid = req.params.get("version_id")
            if vid:
                if vid not in rec.snapshots:
                    raise ApiError(400, "ModelArts.4353", "Dataset version does not exist")
                items = [s.wire for s in rec.snapshots[vid]]
            else:
                items = [s.wire for s in rec.samples.values()]
        if state == "__ALL__":
            items = [s for s in items if s["labels"]]
        elif state == "__NONE__":
            items = [s for s in items if not s["labels"]]
        if label:
            items = [s for s in items if any(lab.get("name") == label for lab in s["labels"])]
        items = sorted(items, key=lambda s: (s["sample_time"], s["sample_id"]), reverse=order == "desc")
        return Response(200, {"sample_count": len(items), "samples": v.page(items, offset, limit, "ListSamples")})

    def get_sample(req: Request) -> Response:
        with store.lock:
            rec = store.dataset(req.route["dataset_id"])
            s = rec.samples.get(req.route["sample_id"])
            if s is None:
                raise ApiError(400, "ModelArts.4420", "Sample not found")
            return Response(200, dict(s.wire))

    def delete_samples(req: Request) -> Response:
        body = v.body(req)
        ids = body.get("samples")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, "ModelArts.0101", "samples must be a list of sample IDs")
        results = []
        with store.lock:
            rec = store.dataset(req.route["dataset_id"])
            for sid in ids:
                if rec.samples.pop(sid, None) is None:
                    results.append({"success": False, "error_code": "ModelArts.4420", "error_msg": f"{sid}: not found"})
                else:
                    results.append({"success": True})
        return Response(200, {"success": all(r["success"] for r in results), "results": results})

    def add_samples(req: Request) -> Response:
        body = v.body(req)
        items = body.get("samples")
        if not isinstance(items, list):
            raise ApiError(400, "ModelArts.0101", "samples must be a list")
        results = []
        rec = store.dataset(req.route["dataset_id"])
        for item in items:
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str) or not name or len(name) > 1024 or set(name) & set("!<>=&\"'"):
                results.append({"success": False, "error_code": "ModelArts.0101", "error_msg": "bad sample name"})
                continue
            path = rec.wire["inner_data_path"] + name
            if item.get("data") is not None:
                with storage.atomic_write(store.uri(path)) as fh:
                    fh.write(base64.b64decode(item["data"]))
            elif (item.get("data_source") or {}).get("data_path"):
                path = item["data_source"]["data_path"]
            sid = new_sample_id()
            annotations: list[dict[str, Any]] = []
            line = {"source": store.obs_form(store.uri(path)), "annotation": annotations}
            for lab in item.get("labels") or []:
                annotations.append({"type": _type_name(lab.get("type", 0)), "name": lab.get("name"),
                                           "annotated-by": lab.get("annotated_by", "human")})
            sample = manifest.sample_from_dict(line)
            wire = sample_wire(sample, sid, store.now_ms(), item.get("sample_type", sample_type_of(rec)))
            with store.lock:
                rec.samples[sid] = SampleRec(wire, sample)
            results.append({"success": True, "name": path, "info": sid})
        return Response(200, {"success": all(r["success"] for r in results), "results": results})

    router.add("GET", base, list_samples)
    router.add("POST", base, add_samples)
    router.add("POST", base + "/delete", delete_samples)
    router.add("GET", base + "/{sample_id}", get_sample)


def _type_name(code: int) -> str:
    from mafmt.emulator._samples import TYPE_CODES

    return next((k for k, c in TYPE_CODES.items() if c == code), "modelarts/image_classification")


def sample_type_of(rec: DatasetRec) -> int:
    """Sample type code (api.md §4.1) of a dataset's samples."""
    if rec.wire.get("data_type"):
        return DATA_TYPES.get(rec.wire["data_type"], 9)
    return SAMPLE_TYPES.get(rec.wire.get("dataset_type") or 900, 9)
