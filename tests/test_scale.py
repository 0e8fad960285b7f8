"""Sharded convert / validate / stats on Dask (mafmt.scale): the output does not depend on the
number of workers, findings keep their file:line, a dead worker leaves the target as it was.

One ``distributed.LocalCluster`` of 2 worker processes serves the module; its workers reach the
test S3 server (moto) with credentials from their own environment, as a real cluster's would.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

distributed = pytest.importorskip("distributed")

import scale_cluster
from scale_helpers import KillOnTask, fail_or_sleep, labelled_dataset, manifest_dataset, upload, voc_dataset

import mafmt
from mafmt import converters, scale, shards
from mafmt.errors import MafmtError

#: every registered format that can be written, with the target name it is written to
WRITERS = {name: ("out.json" if name == "coco" else "out.manifest" if name == "manifest" else "out.csv"
                  if name == "csv" else "out") for name, fmt in converters.FORMATS.items()}


cluster = scale_cluster.cluster  # the module's 2-worker cluster
dying_cluster = scale_cluster.dying_cluster  # a cluster of its own for a test that kills workers
small_shards = scale_cluster.small_shards


@pytest.fixture(autouse=True)
def _small(small_shards: None) -> None:
    """Every test here on small shards."""


_tree = scale_cluster.tree


def _outcome(src: str, dst: Path, fmt: str, **kw: Any) -> tuple[str, Any, Any]:
    try:
        report = mafmt.convert(src, dst, dst_format=fmt, **kw)
    except MafmtError as exc:
        return "error", type(exc).__name__, str(exc).replace(str(dst.parent), "<dst>")
    return "ok", _tree(dst), report


@pytest.fixture()
def s3_sources(s3: Any, tmp_path: Path) -> dict[str, str]:
    local = tmp_path / "src"
    voc = voc_dataset(local / "voc", 23)
    manifest_dataset(local / "m", 90)
    manifest_dataset(local / "e", 120, errors=True)
    labelled_dataset(local / "c", 30)
    return {"voc": upload(voc, s3.bucket, "voc"), "manifest": upload(local / "m", s3.bucket, "m") + "/train.manifest",
            "bad-manifest": upload(local / "e", s3.bucket, "e") + "/train.manifest",
            "labelled": upload(local / "c", s3.bucket, "c") + "/labels.manifest"}


@pytest.fixture()
def fallbacks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The reasons of the sharded jobs that ran in one process (errors included)."""
    seen: list[str] = []
    alone = scale._alone

    def spy(report: Any, why: str) -> Any:
        seen.append(why)
        return alone(report, why)

    monkeypatch.setattr(scale, "_alone", spy)
    return seen


#: the writers each source is written to: every writer, from a source it writes something from
#: (the detection writers from the manifests and the VOC folder, the classification and text
#: layouts from the labelled manifest, whose images have no size COCO or VOC could read)
DETECTION = ("coco", "csv", "manifest", "voc", "yolo", "modelarts-yolo", "modelarts-voc")
SOURCE_WRITERS = {"manifest": DETECTION, "voc": DETECTION[:-2] + DETECTION[-1:], "bad-manifest": DETECTION[:-2],
                  "labelled": tuple(f for f in WRITERS if f not in ("coco", "voc"))}
#: the writers a source cannot be written to in shards (and why): none (VOC -> manifest, whose
#: documents go to the manifest's side folder, is sharded too)
NOT_SHARDED: dict[str, set[str]] = {}


def test_the_sources_cover_every_writer() -> None:
    assert {f for fs in SOURCE_WRITERS.values() for f in fs} == set(WRITERS)


@pytest.mark.parametrize("source", list(SOURCE_WRITERS))
def test_every_writer_gives_the_same_output_with_two_workers(source: str, s3_sources: dict[str, str],
                                                             cluster: Any, tmp_path: Path,
                                                             fallbacks: list[str]) -> None:
    src = s3_sources[source]
    # VOC: two listed images have no XML file, hence no size; the bad manifest: bad lines are skipped
    kw: dict[str, Any] = {} if source in ("manifest", "labelled") else {"on_error": "skip"}
    assert len(shards.manifest_spans(src, 6) if source != "voc" else
               shards.split_list(list(range(23)), 6)) > 2  # the input really is cut
    sharded = set()
    for fmt in SOURCE_WRITERS[source]:
        name = WRITERS[fmt]
        one = _outcome(src, tmp_path / f"one-{fmt}" / name, fmt, **kw)
        before = len(fallbacks)
        two = _outcome(src, tmp_path / f"two-{fmt}" / name, fmt, scheduler=cluster, **kw)
        if len(fallbacks) == before:
            sharded.add(fmt)
        assert one[0] == "ok" and one[:2] == two[:2], fmt  # the same files, byte for byte
        r1, r2 = one[2].to_dict(), two[2].to_dict()
        fell_back = {k for k in r2["warnings"] if k.startswith("workers: run in one process")}
        assert bool(fell_back) == (fmt not in sharded), fmt
        for r in (r1, r2):
            r["outputs"] = [o.replace(src.rsplit("/", 1)[0], "<src>").replace(str(tmp_path / f"one-{fmt}"), "<dst>")
                            .replace(str(tmp_path / f"two-{fmt}"), "<dst>") for o in r["outputs"]]
            r["target"] = None
        r2["warnings"] = {k: v for k, v in r2["warnings"].items() if k not in fell_back}
        assert r1 == r2, fmt
    assert sharded == set(SOURCE_WRITERS[source]) - NOT_SHARDED.get(source, set()), fallbacks


def _coco_source(root: Path, n: int, *, repeat: bool = False) -> Path:
    """A COCO file of n images with boxes (every image has a size); with ``repeat``, the last
    image has the first one's file name in another folder (one process names its VOC file ``_2``)."""
    import json

    images = [{"id": i + 1, "file_name": f"img/{i:04d}.jpg", "width": 320 + i % 3, "height": 240} for i in range(n)]
    if repeat:
        images[-1]["file_name"] = "other/0000.jpg"
    anns = [{"id": len(images) * j + i + 1, "image_id": i + 1, "category_id": 1 + (i + j) % 3,
             "bbox": [1.5 + j, 2.0 + i % 7, 20.0, 30.0], "area": 600.0, "iscrowd": 0}
            for i in range(n) for j in range(i % 3)]
    cats = [{"id": k + 1, "name": name} for k, name in enumerate(("cat", "dog", "bird"))]
    root.mkdir(parents=True, exist_ok=True)
    path = root / "instances.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    return path


def _side_outcome(src: str, out: Path, **kw: Any) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Convert to ``out/train.manifest``: the files of ``out`` (the manifest and its side folder)
    and the report, its paths relative to ``out``."""
    report = mafmt.convert(src, out / "train.manifest", dst_format="manifest", **kw).to_dict()
    report["outputs"] = [o.replace(str(out), "<dst>") for o in report["outputs"]]
    report["target"] = None
    return _tree(out), report


@pytest.mark.parametrize("source", ["coco", "voc"])
def test_a_manifest_with_a_side_folder_is_sharded(source: str, s3: Any, cluster: Any, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, fallbacks: list[str]) -> None:
    """COCO / VOC -> manifest: the inline VOC documents go to the side folder beside the manifest;
    2 workers give the same files and report as one, and so do workers that cannot see the
    side folder's staging (they send their files back)."""
    monkeypatch.setattr(shards, "MIN_RUN_IMAGES", 3)
    local = (_coco_source(tmp_path / "src", 30) if source == "coco" else voc_dataset(tmp_path / "src", 23))
    src = upload(local if source == "voc" else local.parent, s3.bucket, f"side-{source}")
    src += "/instances.json" if source == "coco" else ""
    kw: dict[str, Any] = {"on_error": "skip"} if source == "voc" else {}
    one = _side_outcome(src, tmp_path / "one", **kw)
    assert len([k for k in one[0] if k.startswith("Annotations/train/")]) >= 20
    assert _side_outcome(src, tmp_path / "two", scheduler=cluster, **kw) == one
    cluster.run(_blind, True)
    try:
        assert _side_outcome(src, tmp_path / "blind", scheduler=cluster, **kw) == one
    finally:
        cluster.run(_blind, False)
    assert not fallbacks
    assert sorted(os.listdir(tmp_path / "two")) == ["Annotations", "train.manifest"]
    assert os.listdir(tmp_path / "two" / "Annotations") == ["train"]


def test_side_file_names_repeated_across_shards_run_in_one_process(tmp_path: Path, cluster: Any,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    fallbacks: list[str]) -> None:
    monkeypatch.setattr(shards, "MIN_RUN_IMAGES", 3)
    src = str(_coco_source(tmp_path / "src", 30, repeat=True))
    files, report = _side_outcome(src, tmp_path / "one")
    assert "Annotations/train/0000_2.xml" in files and report["changed"] == {"file name->renamed": 1}
    two_files, two_report = _side_outcome(src, tmp_path / "two", scheduler=cluster)
    assert two_files == files
    assert fallbacks == ["VOC file names that repeat across shards"]
    two_report["warnings"] = {k: v for k, v in two_report["warnings"].items() if not k.startswith(scale.ONE_PROCESS)}
    assert two_report == report


def test_a_killed_worker_leaves_a_manifest_and_its_side_folder_as_they_were(dying_cluster: Any, tmp_path: Path) -> None:
    src = voc_dataset(tmp_path / "src", 23)
    out = tmp_path / "out"
    mafmt.convert(_coco_source(tmp_path / "old", 5), out / "train.manifest", dst_format="manifest")
    before = _tree(out)
    assert len(before) == 6  # the manifest and its 5 VOC files
    dying_cluster.register_plugin(KillOnTask("mafmt-convert"), name=KillOnTask.name)
    with pytest.raises(MafmtError, match="worker died while running mafmt-(convert|count) shard"):
        mafmt.convert(src, out / "train.manifest", overwrite=True, on_error="skip", scheduler=dying_cluster)
    assert _tree(out) == before
    assert sorted(os.listdir(out)) == ["Annotations", "train.manifest"]  # no staging left beside them
    assert os.listdir(out / "Annotations") == ["train"]


def _obs_tree(prefix: str) -> dict[str, bytes]:
    from mafmt import storage

    return {i.uri[len(prefix) + 1:]: storage.read_bytes(i.uri) for i in storage.ls(prefix + "/", recursive=True)}


def test_folder_writers_on_workers_that_cannot_see_the_staging(s3_sources: dict[str, str], s3: Any, cluster: Any,
                                                               tmp_path: Path, fallbacks: list[str]) -> None:
    """Workers on other machines send their files back (as bytes) instead of writing them into
    the client's staging; an object-storage target is staged and uploaded as one process does."""
    probe = tmp_path / "probe"
    probe.write_text("token")
    job = {"probe": str(probe), "token": "token"}
    assert all(cluster.run(scale._staging_seen, job).values())  # (they see it: the same machine)
    cluster.run(_blind, True)
    try:
        assert not any(cluster.run(_seen, job).values())
        for fmt, src in (("yolo", "manifest"), ("modelarts-imagenet", "labelled")):
            one = _outcome(s3_sources[src], tmp_path / f"one-{fmt}", fmt)
            two = _outcome(s3_sources[src], tmp_path / f"two-{fmt}", fmt, scheduler=cluster)
            assert one[0] == "ok" and one[1] and one[:2] == two[:2], fmt
    finally:
        cluster.run(_blind, False)
    for fmt in ("voc", "modelarts-yolo"):
        mafmt.convert(s3_sources["manifest"], s3.uri(f"one-{fmt}"), dst_format=fmt)
        mafmt.convert(s3_sources["manifest"], s3.uri(f"two-{fmt}"), dst_format=fmt, scheduler=cluster)
        one_tree = _obs_tree(s3.uri(f"one-{fmt}"))
        assert len(one_tree) > 20 and _obs_tree(s3.uri(f"two-{fmt}")) == one_tree, fmt
    assert not fallbacks


def _seen(job: dict[str, Any]) -> bool:
    from mafmt import scale as worker_scale

    return worker_scale._staging_seen(job)


def _blind(on: bool) -> None:
    """(on a worker) Do not see the client's staging, as a worker on another machine does not."""
    from mafmt import scale as worker_scale

    if on:
        worker_scale._staging_seen_orig = getattr(worker_scale, "_staging_seen_orig", worker_scale._staging_seen)
        worker_scale._staging_seen = lambda job: False
    elif hasattr(worker_scale, "_staging_seen_orig"):
        worker_scale._staging_seen = worker_scale._staging_seen_orig


def test_file_names_repeated_across_shards_run_in_one_process(tmp_path: Path, cluster: Any,
                                                               fallbacks: list[str]) -> None:
    path = manifest_dataset(tmp_path / "m", 90)
    lines = path.read_text().splitlines()
    lines[-3] = lines[-3].replace("images/m_00087.jpg", "other/M_00000.JPG")  # the first line's file name, again
    path.write_text("\n".join(lines) + "\n")
    for fmt in ("voc", "yolo", "modelarts-voc"):
        one = _outcome(str(path), tmp_path / f"one-{fmt}", fmt)
        two = _outcome(str(path), tmp_path / f"two-{fmt}", fmt, scheduler=cluster)
        assert one[0] == "ok" and one[:2] == two[:2], fmt
        assert "file name->renamed" in one[2].changed
        assert any("repeat across shards" in w for w in two[2].warnings), fmt
    assert len(fallbacks) == 3


def test_a_killed_worker_leaves_a_folder_target_as_it_was(dying_cluster: Any, tmp_path: Path) -> None:
    src = manifest_dataset(tmp_path / "m", 120)
    target = tmp_path / "out" / "yolo"
    target.mkdir(parents=True)
    (target / "old.txt").write_bytes(b"the old target\n")
    dying_cluster.register_plugin(KillOnTask("mafmt-convert"), name=KillOnTask.name)
    with pytest.raises(MafmtError, match="worker died while running mafmt-(convert|count) shard"):
        mafmt.convert(src, target, dst_format="yolo", overwrite=True, scheduler=dying_cluster)
    assert _tree(target) == {"old.txt": b"the old target\n"}
    assert sorted(os.listdir(target.parent)) == ["yolo"]  # no staging left beside it


def test_a_failed_shard_waits_for_the_shards_still_running(cluster: Any, tmp_path: Path) -> None:
    # the caller undoes the target once the stream is left: no other shard may still be writing into it
    from mafmt.distributed import Engine

    cluster.wait_for_workers(2, timeout=60)  # (a test before it may have killed them: fail, not hang)
    eng = Engine(cluster, 2)
    items = [(i, str(tmp_path)) for i in range(8)]
    with pytest.raises(ValueError, match="shard 0 fails"), eng.stream(fail_or_sleep, items, name="t") as results:
        list(results)
    done = sorted(os.listdir(tmp_path))
    assert "done-1" in done  # started beside shard 0, and waited for
    time.sleep(1.2)
    assert sorted(os.listdir(tmp_path)) == done  # and nothing ran after the stream was left
    assert len(done) < 7  # the shards not started were cancelled


def test_results_arrive_in_input_order_while_later_shards_run(cluster: Any, tmp_path: Path) -> None:
    from mafmt.distributed import Engine

    cluster.wait_for_workers(2, timeout=60)
    eng = Engine(cluster, 2)
    items = [(i, str(tmp_path)) for i in range(1, 7)]
    got = []
    with eng.stream(fail_or_sleep, items, name="t") as results:
        for i in results:
            got.append((i, len(os.listdir(tmp_path))))
    assert [i for i, _ in got] == [1, 2, 3, 4, 5, 6]
    assert got[0][1] < 6  # the first came before the last was done


def test_coco_ids_and_categories_follow_input_order(s3_sources: dict[str, str], cluster: Any, tmp_path: Path) -> None:
    import json

    out = tmp_path / "c.json"
    mafmt.convert(s3_sources["voc"], out, scheduler=cluster, on_error="skip")
    doc = json.loads(out.read_bytes())
    assert [im["id"] for im in doc["images"]] == list(range(1, len(doc["images"]) + 1))
    assert [a["id"] for a in doc["annotations"]] == list(range(1, len(doc["annotations"]) + 1))
    assert [c["name"] for c in doc["categories"]][:5] == ["background", "cat", "dog", "bird", "person"]


@pytest.mark.parametrize("where", ["local", "s3"])
def test_sharded_validate_keeps_every_location(where: str, request: pytest.FixtureRequest, cluster: Any,
                                                tmp_path: Path) -> None:
    path = str(manifest_dataset(tmp_path / "m", 300, errors=True))
    if where == "s3":
        s3 = request.getfixturevalue("s3")
        path = upload(tmp_path / "m", s3.bucket, "v") + "/train.manifest"
    spans = shards.manifest_spans(path, 6)
    assert len(spans) >= 4
    one = mafmt.validate(path)
    two = mafmt.validate(path, scheduler=cluster)
    assert [(e.file, e.line, e.path, e.reason, e.severity) for e in two] == \
           [(e.file, e.line, e.path, e.reason, e.severity) for e in one]
    lines = {e.line for e in one if e.severity == "error"}
    ends = [s.end for s in spans]
    # errors in several shards, and duplicate ids whose first use is in another shard
    assert len({next(i for i, end in enumerate(ends) if _offset(path, line) < end) for line in lines}) >= 3
    assert any("duplicate id" in e.reason and int(e.reason.rsplit(" ", 1)[1].rstrip(")")) < 10 for e in one)


def _offset(path: str, line: int) -> int:
    from mafmt import storage

    data = storage.read_bytes(path)
    pos = 0
    for _ in range(line - 1):
        pos = data.index(b"\n", pos) + 1
    return pos


def test_sharded_validate_of_a_voc_folder(tmp_path: Path, cluster: Any) -> None:
    root = voc_dataset(tmp_path / "voc", 20)
    (root / "Annotations" / "img_00004.xml").write_text("<annotation><size><width>x</width></size>")
    (root / "Annotations" / "img_00017.xml").write_text("<annotation><object><name>a</name></object></annotation>")
    one = mafmt.validate(root, format="voc")
    two = mafmt.validate(root, format="voc", scheduler=cluster)
    assert one and [e.to_dict() for e in two] == [e.to_dict() for e in one]


def test_sharded_stats_equal_one_process(s3_sources: dict[str, str], cluster: Any) -> None:
    for src in (s3_sources[k] for k in ("voc", "manifest", "bad-manifest")):
        assert mafmt.stats(src, scheduler=cluster).to_dict() == mafmt.stats(src).to_dict()


def test_sharded_qa_equal_one_process(s3_sources: dict[str, str], cluster: Any) -> None:
    for src in (s3_sources[k] for k in ("voc", "manifest", "bad-manifest")):
        one = mafmt.qa(src, labels=["cat", "dog", "bird"]).to_dict()
        assert mafmt.qa(src, labels=["cat", "dog", "bird"], scheduler=cluster).to_dict() == one
    # the bad manifest has what crosses shards: duplicate ids far apart, repeated sources, label spellings
    assert {"QA107", "QA108", "QA109", "QA111"} <= set(one["counts"])


def test_a_bad_line_fails_as_in_one_process(tmp_path: Path, cluster: Any) -> None:
    path = manifest_dataset(tmp_path / "m", 200, errors=True)
    with pytest.raises(MafmtError) as one:
        mafmt.convert(path, tmp_path / "a.manifest")
    with pytest.raises(MafmtError) as two:
        mafmt.convert(path, tmp_path / "b.manifest", scheduler=cluster)
    assert str(two.value) == str(one.value) and ":6:" in str(one.value)
    assert sorted(os.listdir(tmp_path)) == ["m"]  # nothing written, no staging left


def test_a_shard_that_outlives_its_failed_job_leaves_no_file(tmp_path: Path, monkeypatch: Any) -> None:
    """A shard that checked the target's folder just before the failed job cleaned it up (the
    cancel had not reached its worker) removes the file it then wrote."""
    import contextlib

    samples = list(mafmt.read(manifest_dataset(tmp_path / "m", 5), "manifest"))
    dst = tmp_path / "b.manifest"
    job = {"write_options": {}, "dst": str(dst), "side": None}
    undo = contextlib.ExitStack()
    job["spill"] = undo.enter_context(scale._spill(str(dst)))
    seen = scale._staging_seen

    def seen_then_undone(spill: dict[str, Any]) -> bool:
        answer = seen(spill)
        undo.close()  # the client gives up between the shard's check and its first write
        return answer

    monkeypatch.setattr(scale, "_staging_seen", seen_then_undone)
    part = scale._Part()
    scale._manifest_lines(iter(samples), job, part)
    assert part.report.written == 5 and part.records
    assert sorted(os.listdir(tmp_path)) == ["m"]


@pytest.mark.parametrize("once", [False, True], ids=["dies-every-time", "dies-once"])
def test_a_killed_worker(once: bool, dying_cluster: Any, tmp_path: Path) -> None:
    src = manifest_dataset(tmp_path / "m", 120)
    target = tmp_path / "out" / "train.manifest"
    target.parent.mkdir()
    target.write_bytes(b"the old target\n")
    marker = str(tmp_path / "killed") if once else None
    dying_cluster.register_plugin(KillOnTask("mafmt-convert", marker), name=KillOnTask.name)
    if once:
        report = mafmt.convert(src, target, overwrite=True, scheduler=dying_cluster)
        assert os.path.exists(marker)  # type: ignore[arg-type]
        expected = tmp_path / "exp" / "train.manifest"  # (as deep as the target: the same rebased sources)
        mafmt.convert(src, expected)
        assert target.read_bytes() == expected.read_bytes() and report.written == 120
    else:
        with pytest.raises(MafmtError, match="worker died while running mafmt-(convert|count) shard"):
            mafmt.convert(src, target, overwrite=True, scheduler=dying_cluster)
        assert target.read_bytes() == b"the old target\n"
    assert sorted(os.listdir(target.parent)) == ["train.manifest"]


def test_cli_scheduler_address(cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--scheduler ADDRESS: the CLI connects its own client to a running cluster."""
    from mafmt.cli import main

    path = manifest_dataset(tmp_path / "m", 200, errors=True)
    address = cluster.scheduler.address
    assert main(["validate", str(path), "-q", "--scheduler", address]) == 1
    sharded = capsys.readouterr().out
    assert main(["validate", str(path), "-q"]) == 1
    assert sharded == capsys.readouterr().out and ":6:" in sharded
    assert main(["convert", str(path), str(tmp_path / "a.manifest"), "-q", "--on-error", "skip", "--json",
                 "--scheduler", address]) == 0
    assert main(["convert", str(path), str(tmp_path / "b.manifest"), "-q", "--on-error", "skip"]) == 0
    assert (tmp_path / "a.manifest").read_bytes() == (tmp_path / "b.manifest").read_bytes()
    assert main(["validate", str(path), "-q", "--scheduler", "tcp://127.0.0.1:9"]) == 2


def test_workers_without_dask_is_a_usage_error(tmp_path: Path) -> None:
    path = manifest_dataset(tmp_path / "m", 5)
    code = ("import sys; sys.modules['distributed'] = None; from mafmt.cli import main; "
            f"sys.exit(main(['validate', {str(path)!r}, '--workers', '2']))")
    run = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "pip install 'mafmt[dask]'" in run.stderr


def test_one_worker_never_imports_dask(tmp_path: Path) -> None:
    path = manifest_dataset(tmp_path / "m", 5)
    code = ("import sys; from mafmt.cli import main; code = main(['validate', '-q', " + repr(str(path)) + ", "
            "'--workers', '1']); main(['convert', '-q', " + repr(str(path)) + ", " + repr(str(tmp_path / 'c.json'))
            + "]); print(code, 'dask' in sys.modules or 'distributed' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert run.stdout.strip().endswith("0 False"), run.stdout + run.stderr


def test_mafmts_own_cluster_keeps_the_heap_trimming_of_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers mafmt starts do not get Dask's ``MALLOC_TRIM_THRESHOLD_`` (25-30 % more CPU
    for the parsers), and its scheduler sends a task only to a worker with a free thread."""
    from mafmt.distributed import local_cluster

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with local_cluster(1) as lc, distributed.Client(lc) as client:
        assert list(client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values()) == [None]
        assert list(client.run(os.environ.get, "OMP_NUM_THREADS").values()) == ["1"]
        assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.WORKER_SATURATION) == 1.0


@pytest.mark.parametrize("value", ["0", "two", "-3"])
def test_bad_workers_value_is_a_usage_error(value: str, tmp_path: Path) -> None:
    from mafmt.cli import main

    path = manifest_dataset(tmp_path / "m", 5)
    assert main(["validate", str(path), "--workers", value]) == 2


def test_manifest_spans_tile_the_file_at_line_starts(tmp_path: Path) -> None:
    path = manifest_dataset(tmp_path / "m", 150)
    data = path.read_bytes()
    spans = shards.manifest_spans(str(path), 7, min_bytes=100)
    assert spans[0].start == 0 and spans[-1].end == len(data) and len(spans) == 7
    for a, b in itertools.pairwise(spans):
        assert a.end == b.start and data[b.start - 1:b.start] == b"\n"
    counted = shards.numbered(spans, [shards.count_lines(s) for s in spans])
    assert [s.first_line for s in counted] == [data[:s.start].count(b"\n") + 1 for s in spans]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 100_000), st.integers(1, 40), st.integers(1, 8))
def test_pieces_fall_in_size_by_rounds_and_tile_the_items(n: int, parts: int, workers: int) -> None:
    """The shards' cut points: every item in exactly one piece, in order, no empty piece, at
    most ``parts`` pieces (all of them when there are enough items); within a round of
    ``workers`` pieces equal sizes, each round's no larger than the one before (give or take
    the rounding), and each of the last round's pieces 1 / (sum of the weights) of the whole."""
    cuts = shards.falling_cuts(n, parts, workers)
    sizes = [b - a for a, b in itertools.pairwise(cuts)]
    assert cuts[0] == 0 and cuts[-1] == n and len(sizes) <= parts
    assert all(size > 0 for size in sizes) or n == 0
    if n >= 2 * parts * parts:
        per = min(parts, workers)
        rounds = -(-parts // per)
        assert len(sizes) == parts
        assert all(b <= a + 1 for a, b in itertools.pairwise(sizes))
        total = sum(rounds - k // per for k in range(parts))
        assert max(sizes[(rounds - 1) * per:]) <= n // total + 2
    assert shards.falling_cuts(n, parts) == [n * k // parts for k in range(parts + 1)] or n < parts
    runs = shards.split_list(list(range(n)), parts, workers=workers, min_items=1)
    assert [x for run in runs for x in run] == list(range(n)) and len(runs) <= parts


def test_manifest_spans_are_bounded_however_few_the_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = manifest_dataset(tmp_path / "m", 150)
    size = path.stat().st_size
    monkeypatch.setattr(shards, "MAX_SPAN_BYTES", size // 5)
    spans = shards.manifest_spans(str(path), 1, min_bytes=100)
    assert len(spans) >= 5 and spans[0].start == 0 and spans[-1].end == size
    assert all(b.start == a.end for a, b in itertools.pairwise(spans))
    line = max(len(x) for x in path.read_bytes().splitlines(keepends=True))
    assert max(s.end - s.start for s in spans) <= size // 5 + line  # (a cut moves to the next line start)


def test_a_late_worker_never_makes_the_removed_staging_again(tmp_path: Path) -> None:
    """A worker still writing when the client ended the job (and removed the staging) fails;
    it does not make the staging again beside the target (a probe already checked cannot stop it)."""
    import shutil

    from mafmt.errors import StorageError

    staging = tmp_path / ".t.mafmt-staging"
    staging.mkdir()
    tx = scale._ShardTx(str(tmp_path / "t"), str(staging))
    tx.write_bytes("labels/train/a.txt", b"1")
    assert (staging / "labels" / "train" / "a.txt").read_bytes() == b"1"
    shutil.rmtree(staging)
    for rel in ("labels/train/b.txt", "labels/val/c.txt", "d.txt"):  # a folder made before, a new one, the top
        with pytest.raises(StorageError):
            tx.write_bytes(rel, b"2")
    assert list(tmp_path.iterdir()) == []
