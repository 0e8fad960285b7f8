"""``mafmt.stats`` / ``mafmt stats``: counts, distributions as pandas tables, the PNG dashboard."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

import mafmt
from mafmt import cli
from mafmt.dataset_stats import collect
from mafmt.errors import UsageError
from mafmt.model import BndBox, Classification, Detection, Sample, VocDocument, VocObject

GOLDEN = Path(__file__).parent / "data" / "golden"


def test_detection_manifest() -> None:
    s = mafmt.stats(GOLDEN / "detect-multi-local-voc.manifest")
    assert (s.samples, s.annotations, len(s.boxes)) == (8, 9, 42)
    assert s.labels.most_common(1) == [("foot", 16)]
    assert s.usage == {"TRAIN": 8}
    assert sorted(set(s.objects_per_image)) == [5, 7]
    tables = s.tables()
    labels = tables["labels"]
    assert list(labels.columns) == ["label", "count", "share"]
    assert labels.iloc[0].to_dict() == {"label": "foot", "count": 16, "share": round(16 / 42, 4)}
    assert tables["box_size"].loc["width", "count"] == 42
    assert set(tables["box_size_by_label"].index) == {"foot", "person", "head", "hand", "trafficlight"}


def test_collect_in_memory() -> None:
    doc = VocDocument(width=100, height=100, objects=[VocObject(name="car", shape=BndBox(0, 0, 40, 20)),
                                                      VocObject(name="car", shape=BndBox(0, 0, 10, 10))])
    samples = [Sample(source="a", usage="train", annotations=[Detection(document=doc)]),
               Sample(source="b", usage="EVAL", annotations=[Classification(name="x")]), Sample(source="c")]
    s = collect(samples, "manifest")
    assert s.usage == {"TRAIN": 1, "EVAL": 1, "UNSET": 1}
    assert s.boxes == [("car", 40.0, 20.0), ("car", 10.0, 10.0)]
    assert s.objects_per_image == [2]
    assert s.by_type == {"modelarts/object_detection": 1, "modelarts/image_classification": 1}
    box = s.tables()["box_size"]
    assert box.loc["aspect", "max"] == 2.0 and box.loc["area", "min"] == 100.0
    d = s.to_dict()
    assert d["objects"] == 2 and d["labels"] == {"car": 2, "x": 1} and d["box_size"]["aspect"]["mean"] == 1.5


def test_cli_text_json_and_plot(tmp_path: Path) -> None:
    out = io.StringIO()
    assert cli.main(["stats", str(GOLDEN / "text_entity.manifest"), "--json"], out=out, err=io.StringIO()) == 0
    data = json.loads(out.getvalue())
    assert data["samples"] == 6 and data["by_type"] == {"modelarts/text_entity": data["annotations"]}
    png = tmp_path / "dash.png"
    out = io.StringIO()
    assert cli.main(["stats", str(GOLDEN / "detect-multi-local-voc.manifest"), "--plot", str(png)],
                    out=out, err=io.StringIO()) == 0
    assert "== labels ==" in out.getvalue() and f"dashboard: {png}" in out.getvalue()
    with Image.open(png) as img:
        assert img.size == (960, 600)
        img = img.convert("RGB")
        # the longest bar of the labels panel ("foot", 16) is drawn in its label colour
        from mafmt.draw import color_for

        assert img.getpixel((200, 37)) == color_for("foot")


def test_cli_text_of_a_dataset_without_boxes(tmp_path: Path) -> None:
    """No boxes (a text or classification dataset): the tables are still printed, no traceback."""
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["stats", str(GOLDEN / "text_entity.manifest")], out=out, err=err) == 0, err.getvalue()
    assert "== labels ==" in out.getvalue() and "== box_size ==" not in out.getvalue()
    assert mafmt.stats(GOLDEN / "text_entity.manifest").tables()["box_size"].empty


def test_plot_replaces_an_existing_file_only_with_overwrite(tmp_path: Path) -> None:
    png = tmp_path / "mine.png"
    png.write_bytes(b"mine")
    argv = ["stats", str(GOLDEN / "detect-multi-local-voc.manifest"), "--plot", str(png)]
    err = io.StringIO()
    assert cli.main(argv, out=io.StringIO(), err=err) == 2 and "--overwrite" in err.getvalue()
    assert png.read_bytes() == b"mine"
    s = mafmt.stats(GOLDEN / "detect-multi-local-voc.manifest")
    with pytest.raises(UsageError):
        s.plot(png)
    assert png.read_bytes() == b"mine"
    assert cli.main([*argv, "--overwrite"], out=io.StringIO(), err=io.StringIO()) == 0
    with Image.open(png) as img:
        assert img.size == (960, 600)
