"""``mafmt publish`` / ``mafmt.publish``: convert, upload, create or reuse the dataset,
import with labels, publish a version — end to end against the emulator and its S3
server; a re-run after an interruption resumes without duplicates (issue 14, item 6)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import mafmt
from mafmt import storage
from mafmt.cli import main
from mafmt.client import ModelArts
from mafmt.errors import UsageError


def _coco(folder: Path, n: int = 5) -> Path:
    """A small COCO dataset with real (tiny) image files."""
    from PIL import Image

    (folder / "images").mkdir(parents=True)
    images, anns = [], []
    for i in range(n):
        name = f"img{i}.png"
        Image.new("RGB", (40, 30), (i * 40, 90, 120)).save(folder / "images" / name)
        images.append({"id": i + 1, "file_name": name, "width": 40, "height": 30})
        anns.append({"id": i + 1, "image_id": i + 1, "category_id": 1 + i % 2, "bbox": [2, 3, 10 + i, 12],
                     "area": 12.0 * (10 + i), "iscrowd": 0})
    doc = {"images": images, "annotations": anns,
           "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]}
    (folder / "instances.json").write_text(json.dumps(doc))
    return folder / "instances.json"


@pytest.fixture()
def env(s3, emulator_s3, monkeypatch):
    for key, value in emulator_s3.env().items():
        monkeypatch.setenv(key, value)
    return emulator_s3


def _client(emu) -> ModelArts:
    e = emu.env()
    return ModelArts(ak=e["HUAWEICLOUD_SDK_AK"], sk=e["HUAWEICLOUD_SDK_SK"], project_id=emu.project_id,
                     endpoint=emu.url)


def test_publish_a_coco_dataset_then_again(env, s3, tmp_path: Path) -> None:
    src = _coco(tmp_path / "coco")
    target = s3.uri("pets/")
    with _client(env) as ma:
        first = mafmt.publish(src, target, dataset="pets", dataset_type="object_detection", client=ma, poll=0.05,
                              timeout=30)
        assert first.dataset_created and first.version_created and first.version_name == "V001"
        assert first.samples == first.imported == first.annotated == 5 and first.uploaded >= 11  # 5+5+1 files
        assert first.missing_images == []
        samples = ma.samples.list(first.dataset_id).to_list()
        assert len(samples) == 5 and all(s.labels for s in samples)
        assert {s.sample_name for s in samples} == {f"img{i}.png" for i in range(5)}
        assert all(storage.exists(s.source.replace("s3://", "obs://", 1)) for s in samples)  # uploaded
        lines = storage.read_bytes(first.manifest).decode().splitlines()
        assert len(lines) == 5 and all(json.loads(x)["source"].startswith("s3://mafmt-test/pets/images/")
                                       for x in lines)
        # a second run: nothing to upload, no second dataset, no new sample, no new version
        again = mafmt.publish(src, target, dataset="pets", client=ma, poll=0.05, timeout=30)
        assert not again.dataset_created and again.dataset_id == first.dataset_id
        assert again.uploaded == 0 and again.upload_skipped == first.uploaded
        assert again.version_id == first.version_id and not again.version_created
        assert len(ma.samples.list(first.dataset_id).to_list()) == 5
        assert [d.dataset_name for d in ma.datasets.list()] == ["pets"]
        named = mafmt.publish(src, target, dataset="pets", version="V100", client=ma, poll=0.05, timeout=30)
        assert named.version_name == "V100" and named.version_created
        with pytest.raises(UsageError, match="exists with labeling type object_detection"):
            mafmt.publish(src, target, dataset="pets", dataset_type="image_classification", client=ma)


def test_publish_a_yolo_dataset(env, s3, tmp_path: Path) -> None:
    """The other format the issue names: an ultralytics YOLO layout (data.yaml, splits)."""
    from user_layouts import BOXES, NAMES, ultralytics

    fx = ultralytics(tmp_path)
    with _client(env) as ma:
        done = mafmt.publish(fx.root, s3.uri("yolo/"), dataset="yolo", client=ma, poll=0.05, timeout=30)
        assert done.dataset_created and done.version_created and done.missing_images == []
        labelled = sum(1 for b in BOXES.values() if b)  # img3 has no object: its VOC file is no label
        assert done.samples == done.imported == len(BOXES) and done.annotated == labelled
        assert ma.datasets.get(done.dataset_id).annotated_sample_count == labelled
        got = {s.sample_name: sorted(lab["name"] for lab in s.labels)
               for s in ma.samples.list(done.dataset_id).to_list()}
        assert got == {f"{stem}.jpg": sorted(NAMES[b[0]] for b in boxes) for stem, boxes in BOXES.items()}
        again = mafmt.publish(fx.root, s3.uri("yolo/"), dataset="yolo", client=ma, poll=0.05, timeout=30)
        assert again.uploaded == 0 and again.version_id == done.version_id
        assert len(ma.samples.list(done.dataset_id).to_list()) == len(BOXES)


def test_a_run_interrupted_after_the_upload_resumes(env, s3, tmp_path: Path) -> None:
    from mafmt.client import ServerError

    src = _coco(tmp_path / "coco", n=3)
    with _client(env) as ma:
        ma.transport.config = type(ma.transport.config)(**{**{f: getattr(ma.transport.config, f) for f in (
            "ak", "sk", "project_id", "region", "endpoint", "iam_endpoint")}, "max_retries": 0})
        env.add_fault(method="POST", path="/import-tasks$", status=500, times=1)  # the import fails at once
        with pytest.raises(ServerError):
            mafmt.publish(src, s3.uri("half/"), dataset="half", client=ma, poll=0.05, timeout=30)
        assert [d.dataset_name for d in ma.datasets.list()] == ["half"]  # created, not yet imported
        done = mafmt.publish(src, s3.uri("half/"), dataset="half", client=ma, poll=0.05, timeout=30)
        assert not done.dataset_created and done.upload_skipped == 7 and done.uploaded == 0
        assert done.imported == done.annotated == 3 and len(ma.samples.list(done.dataset_id).to_list()) == 3


def test_publish_command(env, s3, tmp_path: Path) -> None:
    src = _coco(tmp_path / "coco", n=2)
    out, err = io.StringIO(), io.StringIO()
    code = main(["publish", str(src), s3.uri("cli/"), "--dataset", "cli", "--type", "1", "--poll", "0.05",
                 "--json"], out=out, err=err)
    assert code == 0, err.getvalue()
    result = json.loads(out.getvalue())
    assert result["imported"] == result["annotated"] == 2 and result["version_name"] == "V001"
    out = io.StringIO()
    assert main(["publish", str(src), s3.uri("cli/"), "--dataset", "cli", "--poll", "0.05"], out=out, err=err) == 0
    text = out.getvalue()
    assert f"dataset_id    {result['dataset_id']}" in text and "dataset       reused" in text
    assert "version_id    " + result["version_id"] in text


@pytest.mark.parametrize(("argv", "message"), [
    (["publish", "nope.json", "obs://b/p/", "--dataset", "x"], "nope.json: no such file or folder"),
    (["publish", "examples", "obs://b/", "--dataset", "x"], "obs://BUCKET/PREFIX/"),
    (["publish", "examples", "/local/dir", "--dataset", "x"], "obs://BUCKET/PREFIX/"),
    (["publish", "examples", "obs://b/p/", "--dataset", "x", "--type", "boxes"], "unknown labeling type 'boxes'"),
    (["publish", "examples", "obs://b/p/"], "--dataset"),
])
def test_publish_mistakes_are_usage_errors(env, argv: list[str], message: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, out=out, err=err) == 2
    assert err.getvalue().startswith("mafmt: error: ") and message in err.getvalue()
    assert err.getvalue().count("\n") == 1 and "Traceback" not in err.getvalue()
