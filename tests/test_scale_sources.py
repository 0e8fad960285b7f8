"""Sharded sources beyond manifests and VOC folders (mafmt.shards): a COCO file decoded once and
split by images, YOLO folders and the import layouts split by file lists, OBS folders cut per
listing page. Output with 2 workers equals one process byte for byte, problems keep their place,
and the sharded path is really taken (no ``workers: run in one process`` warning).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")

import scale_cluster
from scale_helpers import LABELS, upload

import mafmt
from mafmt import converters, shards
from mafmt.errors import MafmtError
from mafmt.scale import ONE_PROCESS

cluster = scale_cluster.cluster  # the module's 2-worker cluster
small_shards = scale_cluster.small_shards


@pytest.fixture(autouse=True)
def _small(small_shards: None) -> None:
    """Every test here on small shards."""


_tree = scale_cluster.tree


def _report(report: Any) -> dict[str, Any]:
    d = report.to_dict()
    d["outputs"] = [os.path.basename(o.rstrip("/")) for o in d["outputs"]]
    d["target"] = None
    return d


def _same(src: str, tmp_path: Path, fmt: str, name: str, cluster: Any, *, report: bool = False,
          **kw: Any) -> Any:
    """Convert ``src`` in one process and on the cluster: same files, same report, and the
    cluster really took the sharded path (the manifest writer's side folder included).
    Returns the files written (``report``: the report, as a dict)."""
    one = tmp_path / f"one-{fmt}" / name
    two = tmp_path / f"two-{fmt}" / name
    r1 = mafmt.convert(src, one, dst_format=fmt, **kw)
    r2 = mafmt.convert(src, two, dst_format=fmt, scheduler=cluster, **kw)
    alone = [k for k in r2.warnings if k.startswith(ONE_PROCESS)]
    assert alone == [], r2.warnings
    assert _tree(two) == _tree(one)
    d1, d2 = _report(r1), _report(r2)
    assert d2 == d1
    return d1 if report else _tree(one)


def _errors(exc: MafmtError) -> str:
    return str(exc)


# --------------------------------------------------------------------------- COCO


def coco_doc(n: int, *, errors: bool = False) -> dict[str, Any]:
    """A COCO instances document of n images: boxes, polygons, image-level labels, a
    duplicate category name, extra keys; with ``errors``, bad records spread over it (an
    annotation without image_id, unknown categories, ids given twice, orphans)."""
    cats = [{"id": 10 + k, "name": name, "supercategory": "thing"} for k, name in enumerate(LABELS)]
    cats.append({"id": 99, "name": "cat", "extra": 1})  # a duplicate name
    images, anns = [], []
    for i in range(n):
        images.append({"id": i + 1, "file_name": f"img/{i:04d}.jpg", "width": 320 + i % 3, "height": 240,
                       "license": i % 2, **({"usage": "TRAIN"} if i % 4 else {"usage": "EVAL"} if i % 8 else {})})
        for j in range(i % 4):
            x, y = 1.5 + j, 2.0 + i % 7
            ann: dict[str, Any] = {"id": len(anns) + 1, "image_id": i + 1, "category_id": 10 + (i + j) % 4,
                                   "bbox": [x, y, 20.0 + j, 30.0], "area": 600.0 + 30 * j, "iscrowd": 0,
                                   "segmentation": [] if j % 2 else [[x, y, x + 20 + j, y, x + 20 + j, y + 30]]}
            if j == 2:
                ann["attributes"] = {"occluded": "yes"}
            anns.append(ann)
        if i % 9 == 4:
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": 11})  # an image-level label
    if errors:
        anns.insert(3, {"id": 0, "category_id": 10, "bbox": [1, 1, 2, 2]})  # no image_id
        anns.append({"id": 5000, "image_id": 7, "category_id": 77, "bbox": [1, 1, 2, 2]})  # unknown category
        anns.append({"id": 5001, "image_id": 31, "category_id": 78, "bbox": [1, 1, 2, 2]})
        anns.append({"id": 5002, "image_id": 12345, "category_id": 10, "bbox": [1, 1, 2, 2]})  # no such image
        images[20]["id"] = 3  # an id given twice (first in another shard)
        images[33]["file_name"] = ""  # an image that does not read...
        images[36]["id"] = 34  # ...and one of the same id, kept
    return {"info": {"description": "test", "year": 2024}, "licenses": [{"id": 0, "name": "x"}],
            "images": images, "annotations": anns, "categories": cats}


@pytest.fixture()
def coco_sources(s3: Any, tmp_path: Path) -> dict[str, str]:
    for name, errors in (("good", False), ("bad", True)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "instances.json").write_text(json.dumps(coco_doc(40, errors=errors)))
    return {name: upload(tmp_path / name, s3.bucket, f"coco-{name}") + "/instances.json" for name in ("good", "bad")}


@pytest.mark.parametrize("fmt,name", [("manifest", "out.manifest"), ("coco", "out.json")])
def test_coco_split_by_images(fmt: str, name: str, coco_sources: dict[str, str], cluster: Any,
                              tmp_path: Path) -> None:
    src = coco_sources["good"]
    source = shards.source_shards(_Two(), src, converters.get("coco"), {})
    assert source is not None and len(source.shards) >= 4
    _same(src, tmp_path, fmt, name, cluster)


def test_coco_with_errors_in_several_shards(coco_sources: dict[str, str], cluster: Any, tmp_path: Path) -> None:
    src = coco_sources["bad"]
    out = _same(src, tmp_path, "coco", "out.json", cluster, on_error="skip")
    doc = json.loads(out[""])
    kept = [im["file_name"] for im in doc["images"]]
    assert "img/0036.jpg" in kept and "img/0006.jpg" not in kept and "img/0020.jpg" not in kept
    r = mafmt.convert(src, tmp_path / "s.manifest", on_error="skip", scheduler=cluster)
    assert r.warnings["annotation of an unknown image_id"] == 1
    assert r.losses()["annotation of unknown image->dropped"] == 7  # image 7's, image 31's, image 12345's
    paths = [p.path for p in r.problems]
    assert {"$.annotations[3]", "$.images[20].id", "$.images[33].file_name"} <= set(paths)
    with pytest.raises(MafmtError) as one:
        mafmt.convert(src, tmp_path / "a.json")
    with pytest.raises(MafmtError) as two:
        mafmt.convert(src, tmp_path / "b.json", scheduler=cluster)
    assert str(two.value) == str(one.value)


def _validated(src: str, cluster: Any, **kw: Any) -> list[dict[str, Any]]:
    """The findings of ``src`` on the cluster, once checked equal to one process's."""
    one = [e.to_dict() for e in mafmt.validate(src, **kw)]
    assert [e.to_dict() for e in mafmt.validate(src, scheduler=cluster, **kw)] == one
    return one


def test_coco_stats_qa_validate(coco_sources: dict[str, str], cluster: Any) -> None:
    for src in coco_sources.values():
        _validated(src, cluster)
        assert mafmt.stats(src, scheduler=cluster).to_dict() == mafmt.stats(src).to_dict()
        one = mafmt.qa(src, labels=["cat", "dog"]).to_dict()
        assert mafmt.qa(src, labels=["cat", "dog"], scheduler=cluster).to_dict() == one


class _Two:
    """What :func:`mafmt.shards.source_shards` reads of an engine of 2 workers."""

    workers = 2


# --------------------------------------------------------------------------- YOLO


def yolo_dataset(root: Path, coco: Path, *, errors: bool = False, fmt: str = "yolo") -> Path:
    """A YOLO folder (``data.yaml``, splits, ``sizes.csv``) written by mafmt from a COCO file;
    with ``errors``, bad rows in label files of several shards and a label without a size."""
    mafmt.convert(coco, root, dst_format=fmt, write_sizes=True)
    if errors:
        labels = sorted(p for p in root.rglob("*.txt") if "labels" in p.parts or "obj_" in str(p.parent))
        labels = [p for p in labels if p.name not in ("train.txt", "valid.txt", "classes.txt", "obj.names")]
        for k, path in enumerate(labels[3::9]):
            path.write_text(path.read_text() + ("0 0.5 0.5 0.1\n", "7 0.5 0.5 0.1 0.1\n", "1 nan 0.5 0.1 0.1\n")[k % 3])
        (labels[0].parent / "zz_unsized.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    return root


@pytest.fixture()
def yolo_source(s3: Any, tmp_path: Path) -> Any:
    """Puts a YOLO dataset on the test server: ``yolo``, ``bad-yolo`` (errors) or ``darknet``."""

    def make(name: str) -> str:
        errors, fmt = name == "bad-yolo", "modelarts-yolo" if name == "darknet" else "yolo"
        coco = tmp_path / f"{name}.json"
        coco.write_text(json.dumps(coco_doc(20 if name == "darknet" else 40)))  # (darknet lists probe each image)
        return upload(yolo_dataset(tmp_path / name, coco, errors=errors, fmt=fmt), s3.bucket, name)

    return make


@pytest.mark.parametrize("fmt,name", [("manifest", "out.manifest"), ("coco", "out.json")])
@pytest.mark.parametrize("source", ["yolo", "darknet"])
def test_yolo_split_by_files(source: str, fmt: str, name: str, yolo_source: Any, cluster: Any,
                             tmp_path: Path) -> None:
    src = yolo_source(source)
    reader = converters.get("yolo" if source == "yolo" else "modelarts-yolo")
    cut = shards.source_shards(_Two(), src, reader, {})
    assert cut is not None and len(cut.shards) >= 4
    _same(src, tmp_path, fmt, name, cluster, src_format=reader.name)


def test_yolo_with_errors_in_several_shards(yolo_source: Any, cluster: Any, tmp_path: Path) -> None:
    src = yolo_source("bad-yolo")
    r = _same(src, tmp_path, "coco", "out.json", cluster, on_error="skip", src_format="yolo", report=True)
    where = {(os.path.basename(p["file"] or ""), p["line"]) for p in r["problems"]}
    assert len(where) >= 4 and all(line for _, line in where if _ != "zz_unsized.txt"), where
    with pytest.raises(MafmtError) as one:
        mafmt.convert(src, tmp_path / "a.json", src_format="yolo")
    with pytest.raises(MafmtError) as two:
        mafmt.convert(src, tmp_path / "b.json", src_format="yolo", scheduler=cluster)
    assert str(two.value) == str(one.value)
    for fn in (mafmt.stats, mafmt.qa):
        assert fn(src, format="yolo", scheduler=cluster).to_dict() == fn(src, format="yolo").to_dict()
    assert len(_validated(src, cluster, format="yolo")) >= 6  # the bad rows and the unsized label


# --------------------------------------------------------------------------- OBS listing pages


@pytest.fixture()
def small_pages(s3: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Listing pages of 4 keys on the client; returns the prefixes of the listing requests made."""
    import dataclasses

    monkeypatch.setattr(s3.backend, "_config", dataclasses.replace(s3.backend.config, list_page_size=4))
    calls: list[str] = []
    real = s3.backend.call

    def call(op: str, *args: Any, **kwargs: Any) -> Any:
        if op == "listObjects" and kwargs.get("max_keys") == 4:
            calls.append(kwargs.get("prefix") or "")
        return real(op, *args, **kwargs)

    monkeypatch.setattr(s3.backend, "call", call)
    return calls


def test_voc_on_obs_cut_as_the_listing_pages_arrive(small_pages: list[str], s3: Any, cluster: Any,
                                                    tmp_path: Path) -> None:
    from scale_helpers import voc_dataset

    root = voc_dataset(tmp_path / "voc", 23)
    (root / "Annotations" / "img_00009.xml").write_text("<annotation><size><width>x</width></size>")
    (root / "Annotations" / "img_00018.xml").write_text("<annotation><object><name>a</name></object></annotation>")
    src = upload(root, s3.bucket, "paged")
    small_pages.clear()
    source = shards.source_shards(_Two(), src, converters.get("voc"), {})
    assert source is not None
    first = next(iter(source.shards))

    def pages() -> int:
        return sum(p.endswith("/Annotations/") for p in small_pages)

    assert first.files and pages() == 2  # the first run is there after 2 of the 6 pages
    assert len(source.shards) == 6 and pages() == 6  # a run per page of 4 XML files
    assert [p for s in source.shards for p in s.files] == list(mafmt.storage.iter_files(src + "/Annotations"))
    r = _same(src, tmp_path, "coco", "out.json", cluster, on_error="skip", report=True)
    assert [os.path.basename(p["file"] or "") for p in r["problems"] if p["severity"] == "error"][:2] == \
        ["img_00009.xml", "img_00018.xml"]
    for fn in (mafmt.stats, mafmt.qa):
        assert fn(src, scheduler=cluster).to_dict() == fn(src).to_dict()


def test_a_voc_shard_carries_its_own_part_of_the_image_sets_and_images(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The client lists the image folder once; a shard's task holds the usages and image paths of
    its own files (the tail's: also the listed images without a file), and its worker lists no
    image folder."""
    from scale_helpers import voc_dataset

    from mafmt.converters import _common, pascal_voc

    root = voc_dataset(tmp_path / "voc", 23)
    whole = pascal_voc._parts(str(root))[0]  # type: ignore[index]
    runs = list(shards.source_shards(_Two(), str(root), converters.get("voc"), {}).shards)  # type: ignore[union-attr]
    assert len(runs) > 2 and [r.tail for r in runs] == [False] * (len(runs) - 1) + [True]
    without_file = {"extra_a", "extra_b"}
    for run in runs:
        own = {_common.stem(p) for p in run.files}
        assert set(run.part.listed) == own | (without_file if run.tail else set())
        assert run.images == {k: v for k, v in pascal_voc._images_by_stem(whole.images).items()
                              if k in set(run.part.listed)}
    assert {k: v for r in runs for k, v in r.part.listed.items()} == whole.listed
    assert list(runs[-1].part.listed)[-2:] == ["extra_a", "extra_b"]  # (the images without a file in listed order)
    listed: list[str] = []
    real = mafmt.storage.iter_files
    monkeypatch.setattr(mafmt.storage, "iter_files", lambda folder, *a, **k: listed.append(folder) or real(folder, *a, **k))
    names = [s.source for r in runs for s in shards.read_shard(r, "skip", {})[0]]
    assert listed == []
    assert names == [s.source for s in converters.get("voc").read(str(root), on_error="skip")]
    assert "extra_a.png" in names and "img_00001.png" in names


# --------------------------------------------------------------------------- import layouts


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 6)).save(buf, "JPEG")
    return buf.getvalue()


def layout_dataset(root: Path, layout: str, n: int) -> Path:
    """A small folder of ``layout`` with what its reader warns about or skips here and there."""
    from scale_helpers import voc_xml

    jpeg = _jpeg()
    root.mkdir(parents=True)
    if layout == "modelarts-imagenet":
        for i in range(n):
            folder = root / LABELS[i % 3]
            folder.mkdir(exist_ok=True)
            (folder / f"a_{i:03d}.jpg").write_bytes(jpeg)
        (root / "loose.jpg").write_bytes(jpeg)  # unlabelled
        (root / ".hidden").mkdir()
        (root / ".hidden" / "h.jpg").write_bytes(jpeg)
    elif layout in ("modelarts-image-classification", "modelarts-voc"):
        side = ".txt" if layout == "modelarts-image-classification" else ".xml"
        for i in range(n):
            (root / f"img_{i:05d}.jpg").write_bytes(jpeg)
            if i % 5 != 1:
                body = f"{LABELS[i % 4]}\n\n{LABELS[(i + 1) % 4]}\n" if side == ".txt" else voc_xml(i, i % 3)
                (root / f"img_{i:05d}{side}").write_text(body)
        (root / f"lonely{side}").write_text("cat\n" if side == ".txt" else voc_xml(99, 1))  # no image
        if side == ".xml":
            for i in (3, n - 3):
                (root / f"img_{i:05d}.xml").write_text("<annotation><size><width>x</width></size>")
    else:
        for i in range(n):
            (root / f"t_{i:03d}.txt").write_text(f"text {i}\nmore {i}\n")
            (root / f"t_{i:03d}_result.txt").write_text(f"{LABELS[i % 4]}\n{LABELS[i % 3]},x\n" if i % 7 != 3
                                                        else "only one\n")
        (root / "combined.csv").write_text("a line\tcat,dog\nno separator here\n")
    return root


@pytest.mark.parametrize("layout,fmt,name", [("modelarts-imagenet", "manifest", "out.manifest"),
                                              ("modelarts-image-classification", "manifest", "out.manifest"),
                                              ("modelarts-voc", "coco", "out.json"),
                                              ("modelarts-text-classification", "manifest", "out.manifest")])
def test_import_layouts_split_by_files(layout: str, fmt: str, name: str, s3: Any, small_pages: list[str],
                                       cluster: Any, tmp_path: Path) -> None:
    src = upload(layout_dataset(tmp_path / "src", layout, 20), s3.bucket, layout)
    reader = converters.get(layout)
    cut = shards.source_shards(_Two(), src, reader, {})
    assert cut is not None and len(cut.shards) >= 4
    _same(src, tmp_path, fmt, name, cluster, src_format=layout, on_error="skip")
    r = mafmt.convert(src, tmp_path / "x" / name, dst_format=fmt, src_format=layout, on_error="skip",
                      scheduler=cluster)
    assert r.warnings or r.problems  # what the reader has to say is said once, as in one process
    for fn in (mafmt.stats, mafmt.qa):
        assert fn(src, format=layout, scheduler=cluster).to_dict() == fn(src, format=layout).to_dict()
    found = _validated(src, cluster, format=layout)
    if layout in ("modelarts-voc", "modelarts-text-classification"):  # broken XML files, unmatched label lines
        assert any(e["severity"] == "error" for e in found)
    if layout in ("modelarts-voc", "modelarts-text-classification"):
        with pytest.raises(MafmtError) as one:
            mafmt.convert(src, tmp_path / "a" / name, dst_format=fmt, src_format=layout)
        with pytest.raises(MafmtError) as two:
            mafmt.convert(src, tmp_path / "b" / name, dst_format=fmt, src_format=layout, scheduler=cluster)
        assert str(two.value) == str(one.value)


def test_a_layout_that_reads_no_sample_says_so_as_one_process(cluster: Any, tmp_path: Path) -> None:
    root = tmp_path / "pairs"
    root.mkdir()
    for i in range(12):
        (root / f"img_{i:02d}.jpg").write_bytes(b"x")
        (root / f"img_{i:02d}.xml").write_text("<annotation><size><width>x</width></size>")
    kw: dict[str, Any] = {"format": "modelarts-voc"}
    assert len(_validated(str(root), cluster, **kw)) == 12
    with pytest.raises(MafmtError) as one:
        mafmt.qa(root, **kw)
    with pytest.raises(MafmtError) as two:
        mafmt.qa(root, scheduler=cluster, **kw)
    assert str(two.value) == str(one.value)
