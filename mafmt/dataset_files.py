"""Whole-file schema checks of the non-ModelArts formats: COCO annotation JSON files and
YOLO ``data.yaml`` (used by :func:`mafmt.validation.iter_errors`)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from mafmt import storage
from mafmt.errors import FormatError, StorageError

__all__ = ["schema_errors"]


def schema_errors(path: str, fmt: str) -> Iterator[FormatError]:
    """COCO JSON files and YOLO ``data.yaml`` against their schemas."""
    if fmt == "coco":
        files = [path] if not storage.is_dir(path) else [p for p in _walk(path) if p.lower().endswith(".json")]
        for f in files:
            yield from _coco_errors(f)
    elif fmt == "yolo":
        files = [path] if path.lower().endswith((".yaml", ".yml")) else [
            p for p in _walk(path) if os.path.basename(p).lower() in ("data.yaml", "data.yml", "dataset.yaml")]
        for f in files:
            yield from _yolo_errors(f)


def _walk(path: str) -> list[str]:
    if not storage.is_dir(path):
        return []
    out = list(storage.iter_files(path))
    for sub in ("annotations", "labels"):
        sub_path = storage.join(path, sub)
        if storage.is_dir(sub_path):
            out += list(storage.iter_files(sub_path))
    return out


def _coco_errors(f: str) -> Iterator[FormatError]:
    """The file's kind (results, captions and panoptic files are named as such), its schema,
    then the references between images, annotations and categories; each problem once."""
    from mafmt import schemas
    from mafmt.converters import coco

    try:
        doc = coco.load_instances(f)
    except FormatError as exc:
        yield exc
        return
    except StorageError as exc:
        yield FormatError(exc.message, file=f)
        return
    errors = schemas.validator("coco-instances").errors(doc, file=f)
    yield from errors
    if errors:
        return
    images = {img["id"] for img in doc["images"]}
    cats = {c["id"] for c in doc["categories"]}
    for kind, items in (("images", doc["images"]), ("annotations", doc["annotations"]), ("categories", doc["categories"])):
        seen: set[int] = set()
        for i, item in enumerate(items):
            if item["id"] in seen:
                yield FormatError(f"duplicate id {item['id']}", file=f, path=f"$.{kind}[{i}].id")
            seen.add(item["id"])
    for i, ann in enumerate(doc["annotations"]):
        if ann["image_id"] not in images:
            yield FormatError(f"annotation {ann['id']}: no image with id {ann['image_id']}", file=f,
                              path=f"$.annotations[{i}].image_id")
        if ann["category_id"] not in cats:
            yield FormatError(f"annotation {ann['id']}: no category with id {ann['category_id']}", file=f,
                              path=f"$.annotations[{i}].category_id")


def _yolo_errors(f: str) -> Iterator[FormatError]:
    from mafmt import limits, schemas
    from mafmt.converters.yolo_layouts import load_yaml

    try:
        doc = load_yaml(storage.read_bytes(f, limit=limits.MAX_YAML_BYTES).decode("utf-8-sig"), f)
    except FormatError as exc:
        yield exc
        return
    except UnicodeDecodeError as exc:
        yield FormatError(f"not UTF-8 (byte {exc.start + 1})", file=f)
        return
    except StorageError as exc:
        yield FormatError(exc.message, file=f)
        return
    errors = schemas.validator("yolo-data").errors(doc, file=f)
    yield from errors
    if not errors and "nc" in doc and doc["nc"] != len(doc["names"]):
        yield FormatError(f"nc is {doc['nc']} but {len(doc['names'])} names are given", file=f, path="$.nc")
