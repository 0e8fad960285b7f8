"""Sample identity in the emulator is the object (issue 14, item 5): ``obs://``, ``s3://``,
``s3a://`` and ``/`` spellings of one bucket/key are one sample; duplicate manifest lines
merge, the last label set winning; import counters count what the import did."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mafmt.client import ModelArts
from mafmt.emulator._samples import object_key

IMAGES = [f"img{i}.jpg" for i in range(7)]


def _line(source: str, label: str | None) -> str:
    ann = [{"type": "modelarts/image_classification", "name": label}] if label else []
    return json.dumps({"source": source, "annotation": ann})


def test_folder_then_manifest_over_the_same_images(ma: ModelArts, emulator, tmp_path: Path) -> None:
    obs = Path(emulator.store.obs_root)
    (obs / "bkt/in").mkdir(parents=True)
    for name in IMAGES:
        (obs / "bkt/in" / name).write_bytes(b"\xff\xd8 not really a jpeg")
    ds = ma.datasets.create("same-images", dataset_type=0, data_path="obs://bkt/in/", work_path="obs://bkt/out/",
                            wait=True, poll=0.02, timeout=10)
    assert ma.datasets.get(ds.dataset_id).total_sample_count == 7
    spellings = ["s3://bkt/in/", "s3a://bkt/in/", "obs://bkt/in/"]
    lines = [_line(spellings[i % 3] + name, "cat") for i, name in enumerate(IMAGES)]
    lines += [_line("s3://bkt/in/img0.jpg", "dog"), _line("s3://bkt/in/img1.jpg", None)]  # duplicates
    (obs / "bkt/labels.manifest").write_text("\n".join(lines) + "\n")
    task = ma.import_tasks.create(ds.dataset_id, "obs://bkt/labels.manifest", {}, wait=True, poll=0.02, timeout=10)
    assert task.total_sample_count == 7
    assert task.imported_sample_count == 7 and task.annotated_sample_count == 7  # all seven re-labelled
    samples = ma.samples.list(ds.dataset_id).to_list()
    assert len(samples) == 7 and len({object_key(s.source) for s in samples}) == 7
    labels = {s.sample_name: [lab["name"] for lab in s.labels] for s in samples}
    assert labels["img0.jpg"] == ["dog"]  # the last label set wins
    assert labels["img1.jpg"] == ["cat"]  # a later line without labels does not clear them
    assert all(labels[n] == ["cat"] for n in IMAGES[2:])
    assert all(s.source.startswith("obs://") for s in samples)  # the spelling of the first import stays
    again = ma.import_tasks.create(ds.dataset_id, "obs://bkt/labels.manifest", {}, wait=True, poll=0.02, timeout=10)
    assert len(ma.samples.list(ds.dataset_id).to_list()) == 7 and again.imported_sample_count == 0  # same labels
    (obs / "bkt/relabel.manifest").write_text(_line("s3://bkt/in/img5.jpg", "bird") + "\n")
    relabel = ma.import_tasks.create(ds.dataset_id, "s3://bkt/relabel.manifest", {}, wait=True, poll=0.02,
                                     timeout=10)
    assert relabel.imported_sample_count == relabel.annotated_sample_count == 1
    folder = ma.import_tasks.create(ds.dataset_id, "s3://bkt/in/", wait=True, poll=0.02, timeout=10)
    assert folder.imported_sample_count == 0 and folder.total_sample_count == 7  # nothing new


@settings(max_examples=50, deadline=None)
@given(bucket=st.from_regex(r"[a-z0-9][a-z0-9-]{2,10}", fullmatch=True),
       key=st.lists(st.from_regex(r"[A-Za-z0-9_. ()-]{1,8}", fullmatch=True), min_size=1, max_size=4))
def test_every_obs_spelling_is_one_object(bucket: str, key: list[str]) -> None:
    path = bucket + "/" + "/".join(key)
    spellings = {object_key(p + path) for p in ("obs://", "s3://", "s3a://", "/")}
    assert spellings == {path}
