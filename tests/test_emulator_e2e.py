"""End to end over HTTP: the emulator on the local S3-compatible server (moto).

Create a dataset, import the golden detection manifest and its VOC files from obs://,
wait, list samples across pages, publish a version, export, read the exported manifest
back with mafmt and compare it with the input.
"""

from __future__ import annotations

from pathlib import Path

from mafmt import manifest, storage
from mafmt.client import ModelArts
from mafmt.emulator import Emulator
from mafmt.model import Detection


def _key(sample) -> str:
    return sample.source.split("://", 1)[-1]


def _objects(sample) -> list:
    out = []
    for ann in sample.annotations:
        if isinstance(ann, Detection):
            out.extend((o.name, o.shape) for o in ann.load().objects)
    return sorted(out, key=repr)


def test_import_publish_export_round_trip(s3, emulator_s3: Emulator, golden: Path) -> None:
    src = golden / "detect-multi-local-voc.manifest"
    storage.write_bytes(s3.uri("in/train.manifest"), src.read_bytes())
    for xml in (golden / "voc").glob("*.xml"):
        storage.write_bytes(s3.uri(f"in/voc/{xml.name}"), xml.read_bytes())
    env = emulator_s3.env()
    with ModelArts(ak=env["HUAWEICLOUD_SDK_AK"], sk=env["HUAWEICLOUD_SDK_SK"], project_id=emulator_s3.project_id,
                   endpoint=emulator_s3.url) as ma:
        ds = ma.datasets.create("golden-det", dataset_type=1, data_path=s3.uri("raw/"),
                                work_path=s3.uri("work/"), wait=True, poll=0.05, timeout=30)
        task = ma.import_tasks.create(ds.dataset_id, s3.uri("in/train.manifest"), {})
        done = task.wait(timeout=60, poll=0.05)
        # one sample per object; of two lines for one object, the last with labels wins
        merged: dict = {}
        for line in manifest.read(str(src)):
            merged[line.source] = line if line.annotations or line.source not in merged else merged[line.source]
        expected = list(merged.values())
        assert len(expected) == 7  # 8 lines, 7 objects
        assert done.status == "COMPLETED" and done.imported_sample_count == len(expected)

        pages = ma.samples.list(ds.dataset_id, limit=3)
        samples = list(pages)
        assert len(samples) == len(expected) and pages.pages_fetched == -(-len(expected) // 3)
        assert len({s.sample_id for s in samples}) == len(expected)

        ver = ma.versions.create(ds.dataset_id, name="V001", wait=True, poll=0.05, timeout=60)
        info = ma.versions.get(ds.dataset_id, ver.version_id)
        assert info.status == 1 and storage.exists("obs:/" + info.manifest_path)

        exp = ma.export_tasks.create(ds.dataset_id, s3.uri("export/"), version_id=ver.version_id)
        final = exp.wait(timeout=60, poll=0.05)
        assert final.status == "SUCCESSED"
        exported = list(manifest.read(final.manifest_path))

    assert sorted(map(_key, exported)) == sorted(map(_key, expected))
    by_key = {_key(s): s for s in exported}
    for want in expected:
        got = by_key[_key(want)]
        assert got.usage == want.usage
        assert _objects(got) == _objects(want)
        assert got.source.startswith("obs://")
