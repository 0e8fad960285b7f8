"""Turning mafmt samples into ModelArts sample objects, and import/export work.

A sample is its object: ``obs://b/k``, ``s3://b/k``, ``s3a://b/k`` and ``/b/k`` name one
sample (:func:`object_key`). Importing a sample that is already in the dataset updates
it; several lines of one manifest for one object are one sample, and the last line
that carries labels gives its label set (a line without labels does not clear them).
An import's counters say what it did: ``imported_sample_count`` = samples added or
re-labelled (given other labels than they had), ``annotated_sample_count`` = those of
them that carry labels now."""

from __future__ import annotations

import os
from typing import Any

from mafmt import manifest, storage, voc
from mafmt.emulator._http import ApiError
from mafmt.emulator._state import DatasetRec, SampleRec, Store, new_sample_id
from mafmt.model import Classification, Detection, Sample

__all__ = ["ImportCounts", "export_samples", "import_dir", "import_manifest", "object_key", "sample_wire"]

#: manifest annotation type -> labeling type code
TYPE_CODES = {
    "modelarts/image_classification": 0, "modelarts/object_detection": 1, "modelarts/image_segmentation": 3,
    "modelarts/text_classification": 100, "modelarts/text_entity": 101, "modelarts/text_triplet": 102,
    "modelarts/audio_classification": 200, "modelarts/audio_content": 201, "modelarts/audio_segmentation": 202,
}
IMAGE_EXT = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
SAMPLE_TYPES = {0: 0, 1: 0, 3: 0, 100: 1, 101: 1, 102: 1, 200: 2, 201: 2, 202: 2, 400: 4, 600: 6, 900: 9}


def _labels(sample: Sample) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ann in sample.annotations:
        code = TYPE_CODES.get(ann.type, 900)
        if isinstance(ann, Detection) and ann.document is not None:
            for obj in ann.document.objects:
                prop: dict[str, Any] = {}
                if obj.shape is not None:
                    prop["@modelarts:shape"] = obj.shape.kind
                    prop["@modelarts:feature"] = obj.shape.feature()
                out.append({"name": obj.name, "type": code, "property": prop,
                            "annotated_by": ann.annotated_by or "human"})
        else:
            label: dict[str, Any] = {"name": ann.name, "type": code, "annotated_by": ann.annotated_by or "human"}
            if ann.property:
                label["property"] = dict(ann.property)
            if ann.confidence is not None:
                label["score"] = ann.confidence
            out.append(label)
    return out


def sample_wire(sample: Sample, sample_id: str, now: int, sample_type: int, size: int | None = None) -> dict[str, Any]:
    """The ModelArts sample object for a mafmt sample."""
    source = sample.source
    labels = _labels(sample)
    wire: dict[str, Any] = {
        "sample_id": sample_id,
        "sample_type": sample_type,
        "sample_name": source.rstrip("/").rsplit("/", 1)[-1],
        "sample_dir": source.rsplit("/", 1)[0] + "/" if "/" in source else "",
        "source": source,
        "sample_time": now,
        "sample_status": "__ALL__" if labels else "__NONE__",
        "labels": labels,
        "metadata": {"@modelarts:import_origin": 0},
    }
    if sample.usage:
        wire["usage"] = sample.usage
    if size is not None:
        wire["sample_size"] = size
    for ann in sample.annotations:
        if isinstance(ann, Detection) and ann.document is not None and ann.document.width:
            d = ann.document
            wire["metadata"]["@modelarts:size"] = [d.width, d.height, d.depth or 3]
    return wire


def object_key(source: str) -> str:
    """The object a sample source names: ``bucket/key`` for every OBS spelling."""
    for prefix in ("obs://", "s3://", "s3a://"):
        if source.startswith(prefix):
            return source[len(prefix):]
    return source.removeprefix("/")


class ImportCounts(dict):  # type: ignore[type-arg]
    """``total_sample_count`` (distinct samples in the source), ``imported_sample_count``
    (added or re-labelled), ``annotated_sample_count`` (of those, carrying labels)."""

    def __init__(self) -> None:
        super().__init__(total_sample_count=0, imported_sample_count=0, annotated_sample_count=0)

    def count(self, wire: dict[str, Any]) -> None:
        """Count a sample the import added or re-labelled, by the labels it now carries (a
        VOC file without objects is no label: the dataset does not count it annotated)."""
        self["imported_sample_count"] += 1
        if wire.get("labels"):
            self["annotated_sample_count"] += 1


def _add(store: Store, rec: DatasetRec, sample: Sample, sample_type: int) -> dict[str, Any]:
    sid = new_sample_id()
    rec.samples[sid] = SampleRec(sample_wire(sample, sid, store.now_ms(), sample_type), sample)
    return rec.samples[sid].wire


def _by_object(rec: DatasetRec) -> dict[str, SampleRec]:
    return {object_key(r.wire["source"]): r for r in rec.samples.values()}


def _absolute(store: Store, sample: Sample, base: str) -> None:
    """Resolve a relative source against the manifest's folder (URIs keep their spelling;
    exports rewrite the scheme)."""
    if not storage.scheme_of(sample.source) and not sample.source.startswith("content://"):
        sample.source = store.obs_form(storage.resolve(base, sample.source))


def import_manifest(store: Store, rec: DatasetRec, path: str, annotations: bool, sample_type: int) -> ImportCounts:
    """Read a manifest (and its VOC files) and add or update its samples."""
    uri = store.uri(path)
    if not storage.exists(uri):
        raise ApiError(400, "ModelArts.4340", f"import path {path} contains no valid file")
    base = storage.parent(uri)
    merged: dict[str, Sample] = {}  # one sample per object, in first-seen order
    for sample in manifest.read(uri, on_error="skip"):
        if annotations:
            for ann in sample.annotations:
                if isinstance(ann, Detection):
                    ann.load()
        else:
            sample.annotations = []
        _absolute(store, sample, base)
        key = object_key(sample.source)
        earlier = merged.get(key)
        if earlier is not None and not sample.annotations:  # the last label set wins; no labels: keep them
            sample.annotations = earlier.annotations
        merged[key] = sample
    if not merged:
        raise ApiError(400, "ModelArts.4340", f"import path {path} contains no valid file")
    counts = ImportCounts()
    counts["total_sample_count"] = len(merged)
    with store.lock:
        existing = _by_object(rec)
        for key, sample in merged.items():
            found = existing.get(key)
            if found is None:
                counts.count(_add(store, rec, sample, sample_type))
                continue
            if not sample.annotations:  # named again, nothing to change
                continue
            sample.source = found.wire["source"]  # the object keeps the spelling it was first imported with
            wire = sample_wire(sample, found.id, store.now_ms(), sample_type)
            if wire["labels"] == found.wire["labels"] and wire.get("usage") == found.wire.get("usage"):
                continue  # the same labels again: nothing done
            found.wire, found.model = wire, sample
            counts.count(wire)
    return counts


def import_dir(store: Store, rec: DatasetRec, path: str, annotations: bool, sample_type: int,
               *, fmt: str | None = None, allow_empty: bool = False) -> ImportCounts:
    """Add every file of the dataset's kind under an OBS folder (images; ``.csv`` for
    tables, ``.txt`` for text, ``.wav``/``.mp3`` for audio). With ``annotations`` the
    labels come from the layout (import-formats.md §4): a VOC file named like an image
    (PASCAL VOC, the default), the deepest folder name (``ModelArts imageNet 1.0``) or a
    same-stem ``.txt`` with one label per line (``ModelArts image classification 1.0``)."""
    root = store.uri(path if path.endswith("/") else path + "/")
    files = list(storage.iter_files(root, recursive=True)) if storage.is_dir(root) else []
    stems = {os.path.splitext(f)[0]: f for f in files if f.lower().endswith((".xml", ".txt"))}
    wanted = (".csv",) if sample_type == 4 else (".txt",) if sample_type == 1 else (
        (".wav", ".mp3") if sample_type == 2 else IMAGE_EXT)
    known = {object_key(s.wire["source"]) for s in rec.samples.values()}
    added = []
    found = 0
    for item in (f for f in files if f.lower().endswith(wanted)):
        source = store.obs_form(item)
        found += 1
        if object_key(source) in known:
            continue
        sample = Sample(source=source)
        if annotations:
            sample.annotations.extend(_dir_labels(item, root, stems.get(os.path.splitext(item)[0]), fmt))
        added.append(sample)
    if not found and not allow_empty:
        raise ApiError(400, "ModelArts.4340", f"import path {path} contains no valid file")
    counts = ImportCounts()
    counts["total_sample_count"] = found
    with store.lock:
        for sample in added:
            counts.count(_add(store, rec, sample, sample_type))
    return counts


def _dir_labels(item: str, root: str, twin: str | None, fmt: str | None) -> list[Any]:
    """The annotations a directory layout gives one file."""
    if fmt == "ModelArts imageNet 1.0":
        rel = storage.relative_to(item, root.rstrip("/\\")).removeprefix("./")
        folders = rel.replace("\\", "/").split("/")[:-1]
        return [Classification(name=folders[-1])] if folders else []
    if twin is None:
        return []
    if fmt == "ModelArts image classification 1.0":
        if not twin.endswith(".txt"):
            return []
        raw = storage.read_bytes(twin)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("gbk", errors="replace")
        return [Classification(name=line.strip()) for line in text.splitlines() if line.strip()]
    if twin.endswith(".xml"):
        return [Detection(annotation_format="PASCAL VOC", document=voc.read_document(twin))]
    return []


def _rescheme(source: str, header: str) -> str:
    for prefix in ("obs://", "s3://", "s3a://"):
        if source.startswith(prefix):
            return header + source[len(prefix):]
    return source


def export_samples(store: Store, recs: list[SampleRec], target_dir: str, name: str, header: str) -> str:
    """Write a manifest (+ VOC files in ``Annotations/``) under the OBS folder; returns
    the manifest's OBS path."""
    folder = store.uri(target_dir if target_dir.endswith("/") else target_dir + "/")
    target = storage.join(folder, f"{name}.manifest")
    out = []
    for r in recs:
        s = r.model if r.model is not None else Sample(source=r.wire["source"])
        copy = Sample(source=_rescheme(s.source, header), annotations=list(s.annotations), usage=s.usage,
                      id=r.id, property=s.property, extra=dict(s.extra))
        copy.hard, copy.hard_coefficient, copy.hard_reasons = s.hard, s.hard_coefficient, s.hard_reasons
        out.append(copy)
    manifest.write(out, target, write_voc=True, voc_dir=storage.join(folder, "Annotations"), locs="keep")
    return store.obs_form(target)
