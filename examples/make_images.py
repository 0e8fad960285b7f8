"""Draw the small stand-in images of the bundled example dataset (run once; the images are
committed). Each image has the size its VOC file says, a plain background and the objects of
the file filled in, so ``mafmt qa``, ``draw``, ``stats --plot`` and ``--images`` have real
pixels to work on. Usage: ``python examples/make_images.py``."""

from __future__ import annotations

import colorsys
import zlib
from pathlib import Path

from PIL import Image, ImageDraw

from mafmt import voc

HERE = Path(__file__).parent / "dataset"


def _colour(name: str) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb((zlib.crc32(name.encode()) % 360) / 360, 0.45, 0.85)
    return int(r * 255), int(g * 255), int(b * 255)


def draw(xml: Path, target: Path) -> None:
    doc = voc.read_document(str(xml))
    image = Image.new("RGB", (doc.width or 64, doc.height or 48), (205, 210, 200))
    pen = ImageDraw.Draw(image)
    for obj in doc.iter_objects():
        shape, fill = obj.shape, _colour(obj.name or "")
        if shape is None:
            continue
        if shape.kind == "circle":
            pen.ellipse(shape.bbox(), fill=fill)
        elif shape.kind in ("polygon",):
            pen.polygon([tuple(p) for p in shape.points], fill=fill)
        elif shape.kind in ("polyline", "line", "dashed"):
            pen.line([tuple(p) for p in shape.points], fill=fill, width=4)
        elif shape.kind == "point":
            pen.ellipse((shape.x - 4, shape.y - 4, shape.x + 4, shape.y + 4), fill=fill)
        else:
            pen.rectangle(shape.bbox(), fill=fill)
    image.save(target, quality=15, subsampling=2) if target.suffix == ".jpg" else image.save(target, optimize=True)


def main() -> None:
    for xml in sorted((HERE / "labels").glob("*.xml")):
        doc = voc.read_document(str(xml))
        draw(xml, HERE / "images" / (doc.filename or xml.stem + ".jpg"))
    for name, size in (("img_0412.jpg", (400, 300)), ("img_9001.jpg", (320, 240))):  # labelled as a whole, unlabelled
        Image.new("RGB", size, (180, 170, 150)).save(HERE / "images" / name, quality=15)


if __name__ == "__main__":
    main()
