"""``mafmt draw``: the PNGs are decoded and pixels tested where shapes must be."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image

from mafmt import cli
from mafmt.draw import HIGHLIGHT, color_for, render
from mafmt.model import (
    BndBox,
    Circle,
    Classification,
    Dashed,
    Detection,
    Point,
    Polygon,
    Sample,
    VocDocument,
    VocObject,
)

BG = (10, 10, 10)
XML = """<annotation><folder>NA</folder><filename>a.png</filename>
<size><width>200</width><height>100</height><depth>3</depth></size><segmented>0</segmented>
<object><name>car</name><properties><property><key>@modelarts:color</key><value>#00FF00</value></property></properties>
<difficult>0</difficult><bndbox><xmin>20</xmin><ymin>30</ymin><xmax>60</xmax><ymax>80</ymax></bndbox></object>
<object><name>tree</name><difficult>0</difficult>
<polygon><x1>100</x1><y1>10</y1><x2>150</x2><y2>10</y2><x3>150</x3><y3>120</y3></polygon></object>
<object><name>wheel</name><difficult>0</difficult><circle><cx>180</cx><cy>60</cy><r>10</r></circle></object>
</annotation>"""


def dataset(tmp_path: Path) -> Path:
    (tmp_path / "img").mkdir()
    Image.new("RGB", (200, 100), BG).save(tmp_path / "img" / "a.png")
    Image.new("RGB", (50, 50), BG).save(tmp_path / "img" / "b.png")
    (tmp_path / "a.xml").write_text(XML)
    lines = [{"source": "s3://bucket/a.png", "annotation": [{"type": "modelarts/object_detection", "annotation-loc": "./a.xml"}]},
             {"source": "s3://bucket/b.png", "annotation": [{"type": "modelarts/image_classification", "name": "empty"}]},
             {"source": "s3://bucket/missing.png", "annotation": [{"type": "modelarts/image_classification", "name": "x"}]}]
    (tmp_path / "t.manifest").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return tmp_path / "t.manifest"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return cli.main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


def rgb(path: Path) -> Image.Image:
    with Image.open(path) as img:
        return img.convert("RGB")


def test_draw_every_sample_with_label_colours(tmp_path: Path) -> None:
    manifest = dataset(tmp_path)
    code, out, err = run("draw", str(manifest), "--images", str(tmp_path / "img"), "--out", str(tmp_path / "out"))
    assert code == 0 and "2 image(s) drawn" in out and "missing.png: image not found" in err
    img = rgb(tmp_path / "out" / "00001_a.png")
    assert img.size == (200, 100)
    assert img.getpixel((20, 55)) == (0, 255, 0)          # left edge of the box, colour from @modelarts:color
    assert img.getpixel((60, 70)) == (0, 255, 0)          # right edge
    assert img.getpixel((40, 60)) == BG                   # inside the box: untouched
    assert img.getpixel((125, 10)) == color_for("tree")   # top edge of the polygon, palette colour
    assert img.getpixel((140, 20)) != BG                  # polygon interior is tinted
    assert img.getpixel((170, 60)) == color_for("wheel")  # leftmost point of the circle
    assert img.getpixel((180, 60)) == BG                  # circle centre
    sheet = rgb(tmp_path / "out" / "contact_sheet.png")
    assert sheet.size[0] >= 2 * 160 and sheet.getpixel((8 + 80, 8 + 40)) != (32, 32, 32)


def test_only_issues_highlights_the_offending_shape(tmp_path: Path) -> None:
    manifest = dataset(tmp_path)
    code, out, _ = run("draw", str(manifest), "--images", str(tmp_path / "img"), "--out", str(tmp_path / "o"),
                       "--only-issues", "--json")
    data = json.loads(out)
    # sample 1: the polygon reaches below the image (QA101); sample 3: image missing (QA105) but cannot be drawn
    assert code == 0 and [Path(p).name for p in data["written"]] == ["00001_a.png"]
    img = rgb(tmp_path / "o" / "00001_a.png")
    assert img.getpixel((125, 10)) == HIGHLIGHT            # the polygon outside the image
    assert img.getpixel((20, 55)) == (0, 255, 0)           # the box is fine: its own colour


def test_limit(tmp_path: Path) -> None:
    manifest = dataset(tmp_path)
    code, out, _ = run("draw", str(manifest), "--images", str(tmp_path / "img"), "--out", str(tmp_path / "o"),
                       "--limit", "1", "--json")
    assert code == 0 and len(json.loads(out)["written"]) == 1
    assert run("draw", str(manifest), "--images", "x", "--out", "y", "--limit", "0")[0] == 2
    assert run("draw", str(manifest), "--out", "y")[0] == 2
    assert run("draw", str(manifest), "--images", str(tmp_path / "nope"), "--out", "y")[0] == 2
    assert run("qa", str(manifest), "--images", str(tmp_path / "nope"))[0] == 2


def test_render_every_shape_kind() -> None:
    doc = VocDocument(width=300, height=200, objects=[
        VocObject(name="p", shape=Point(100, 100)),
        VocObject(name="d", shape=Dashed(((0, 180), (299, 180)))),
        VocObject(name="c", shape=Circle(200, 100, 20)),
        VocObject(name="g", shape=Polygon(((250, 40), (290, 40), (270, 80)))),
        VocObject(name="b", shape=BndBox(20, 50, 60, 90)),
    ])
    sample = Sample(source="a", annotations=[Detection(document=doc), Classification(name="scene")])
    img = render(sample, Image.new("RGB", (300, 200), BG), highlight=[(0, 4), (None, None)])
    assert img.getpixel((100, 100)) == color_for("p")
    assert img.getpixel((5, 180)) == color_for("d") and img.getpixel((12, 180)) == BG   # dashes have gaps
    assert img.getpixel((180, 100)) == color_for("c") and img.getpixel((200, 100)) == BG
    assert img.getpixel((270, 40)) == color_for("g")
    assert img.getpixel((20, 70)) == HIGHLIGHT             # highlighted box
    assert img.getpixel((150, 199)) == HIGHLIGHT           # whole-image frame for a sample-level issue
    assert img.getpixel((5, 8)) != BG                      # the classification label's tag
