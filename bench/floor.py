"""The Python floor of each benchmark case: the shortest straightforward conversion in Python.

``python bench/floor.py CASE SRC DST [AUX]`` (the arguments of ``bench/lower_bound.py``).

The lower bound (``bench/lower_bound.py``) parses the input and writes placeholder bytes: it
touches no object. A converter has to visit every object in Python: read its numbers, turn
them into the target's, format them. This script does only that, as directly as Python
allows, with no check, no model, no loss counting and no transaction: a loop over the
decoded records that builds each output line or record from its fields (YOLO lines with
``%``-formatting, COCO records as dicts encoded by orjson, VOC documents as text). Its
output holds the objects' values (it is not checked and not byte-identical to mafmt's).

No conversion that visits its objects in Python can use less CPU than this on the same
data, so ``floor / bound`` is the least ratio to the lower bound any such converter reaches
on this machine, and ``mafmt / floor`` is what mafmt's checks, model and bookkeeping cost
on top of it. ``bench/convert.py --tools floor`` runs it as a column of its own.
"""

from __future__ import annotations

import operator
import os
import sys
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import orjson
from lxml import etree


def _get(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def _put(path: str, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)


def _stem(name: str) -> str:
    return name.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def _coco(src: str) -> tuple[dict[str, Any], dict[Any, list[dict[str, Any]]]]:
    doc = orjson.loads(_get(src))
    per: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for ann in doc["annotations"]:
        per[ann["image_id"]].append(ann)
    return doc, per


def coco_yolo(src: str, dst: str, aux: str) -> None:
    doc, per = _coco(src)
    index = {c["id"]: i for i, c in enumerate(doc["categories"])}
    os.makedirs(f"{dst}/labels/train")
    for im in doc["images"]:
        w, h = im["width"], im["height"]
        lines = []
        for ann in per.get(im["id"], ()):
            x, y, bw, bh = ann["bbox"]
            lines.append("%d %.6f %.6f %.6f %.6f\n" % (  # noqa: UP031 - the fastest formatting
                index[ann["category_id"]], (x + bw / 2) / w, (y + bh / 2) / h, bw / w, bh / h))
        _put(f"{dst}/labels/train/{_stem(im['file_name'])}.txt", "".join(lines).encode())
    _put(f"{dst}/data.yaml", ("names:\n" + "".join(f"  {i}: {c['name']}\n" for i, c in
                                                   enumerate(doc["categories"]))).encode())


_OBJECT = ("    <object>\n        <name>%s</name>\n        <difficult>0</difficult>\n        <bndbox>\n"
           "            <xmin>%s</xmin>\n            <ymin>%s</ymin>\n            <xmax>%s</xmax>\n"
           "            <ymax>%s</ymax>\n        </bndbox>\n    </object>\n")


def _voc_text(im: dict[str, Any], anns: list[dict[str, Any]], names: dict[Any, str]) -> bytes:
    out = [(f"<annotation>\n    <folder>VOC</folder>\n    <filename>{im['file_name']}</filename>\n    <size>\n"
            f"        <width>{im['width']}</width>\n        <height>{im['height']}</height>\n"
            "        <depth>3</depth>\n    </size>\n    <segmented>0</segmented>\n")]
    for ann in anns:
        x, y, bw, bh = ann["bbox"]
        out.append(_OBJECT % (names[ann["category_id"]], x, y, x + bw, y + bh))
    out.append("</annotation>\n")
    return "".join(out).encode()


def coco_voc(src: str, dst: str, aux: str) -> None:
    doc, per = _coco(src)
    names = {c["id"]: c["name"] for c in doc["categories"]}
    os.makedirs(f"{dst}/Annotations")
    os.makedirs(f"{dst}/ImageSets/Main")
    stems = []
    for im in doc["images"]:
        stem = _stem(im["file_name"])
        stems.append(stem)
        _put(f"{dst}/Annotations/{stem}.xml", _voc_text(im, per.get(im["id"], []), names))
    _put(f"{dst}/ImageSets/Main/train.txt", "\n".join(stems).encode())


def coco_manifest(src: str, dst: str, aux: str) -> None:
    doc, per = _coco(src)
    names = {c["id"]: c["name"] for c in doc["categories"]}
    folder = os.path.dirname(dst)
    os.makedirs(f"{folder}/Annotations")
    with open(dst, "wb") as m:
        for im in doc["images"]:
            rel = f"Annotations/{_stem(im['file_name'])}.xml"
            _put(f"{folder}/{rel}", _voc_text(im, per.get(im["id"], []), names))
            m.write(orjson.dumps({"source": im["file_name"], "annotation": [
                {"type": "modelarts/object_detection", "annotation-loc": rel, "annotation-format": "PASCAL VOC"}]})
                    + b"\n")


class _Coco:
    """COCO records built one image at a time, encoded once at the end."""

    def __init__(self) -> None:
        self.images: list[dict[str, Any]] = []
        self.anns: list[dict[str, Any]] = []
        self.cats: dict[str, int] = {}

    def image(self, name: str, w: Any, h: Any) -> int:
        self.images.append({"id": len(self.images) + 1, "file_name": name, "width": w, "height": h})
        return len(self.images)

    def box(self, image_id: int, label: str, x0: Any, y0: Any, x1: Any, y1: Any) -> None:
        cid = self.cats.setdefault(label, len(self.cats) + 1)
        w, h = x1 - x0, y1 - y0
        self.anns.append({"id": len(self.anns) + 1, "image_id": image_id, "category_id": cid, "bbox": [x0, y0, w, h],
                          "area": w * h, "iscrowd": 0, "segmentation": []})

    def polygon(self, image_id: int, label: str, ring: list[Any]) -> None:
        cid = self.cats.setdefault(label, len(self.cats) + 1)
        xs, ys = ring[0::2], ring[1::2]
        x0, y0 = min(xs), min(ys)
        area = abs(sum(map(operator.mul, xs, ys[1:] + ys[:1])) - sum(map(operator.mul, xs[1:] + xs[:1], ys))) / 2
        self.anns.append({"id": len(self.anns) + 1, "image_id": image_id, "category_id": cid,
                          "bbox": [x0, y0, max(xs) - x0, max(ys) - y0], "area": area, "iscrowd": 0,
                          "segmentation": [ring]})

    def write(self, dst: str) -> None:
        _put(dst, orjson.dumps({"images": self.images, "annotations": self.anns,
                                "categories": [{"id": i, "name": n} for n, i in self.cats.items()]}))


def _number(text: str) -> int | float:
    return int(text) if text.isdecimal() else float(text)


def _voc_objects(out: _Coco, root: Any, name: str) -> None:
    filename, size, boxes = name, {}, []
    for el in root:  # (iterating is several times faster than lxml's findtext paths)
        tag = el.tag
        if tag == "filename":
            filename = el.text
        elif tag == "size":
            size = {c.tag: c.text for c in el}
        elif tag == "object":
            label = box = None
            for c in el:
                if c.tag == "name":
                    label = c.text
                elif c.tag == "bndbox" or c.tag == "polygon":  # (a polygon: its ring x1, y1, x2, ...)
                    box = [_number(k.text) for k in c]
            if box is not None:
                boxes.append((label, box))
    image_id = out.image(filename, _number(size["width"]), _number(size["height"]))
    for label, box in boxes:
        if len(box) == 4:
            out.box(image_id, label, *box)
        else:
            out.polygon(image_id, label, box)


def voc_coco(src: str, dst: str, aux: str) -> None:
    folder = f"{src}/Annotations"
    out = _Coco()
    for name in sorted(os.listdir(folder)):
        _voc_objects(out, etree.fromstring(_get(f"{folder}/{name}")), name)
    out.write(dst)


def yolo_coco(src: str, dst: str, aux: str) -> None:
    sizes = {}
    for row in _get(aux).decode().splitlines()[1:]:
        name, w, h = row.rsplit(",", 2)
        sizes[_stem(name)] = (int(w), int(h))
    names = [ln.split(":", 1)[1].strip() for ln in _get(f"{src}/data.yaml").decode().splitlines()
             if ln.startswith("  ") and ":" in ln]
    out = _Coco()
    for folder, _, files in os.walk(f"{src}/labels"):
        for file in sorted(files):
            w, h = sizes[_stem(file)]
            image_id = out.image(file[:-4] + ".jpg", w, h)
            for line in _get(f"{folder}/{file}").decode().splitlines():
                cls, cx, cy, bw, bh = line.split()
                cxf, cyf, bwf, bhf = float(cx) * w, float(cy) * h, float(bw) * w, float(bh) * h
                out.box(image_id, names[int(cls)] if names else cls, round(cxf - bwf / 2, 4), round(cyf - bhf / 2, 4),
                        round(cxf + bwf / 2, 4), round(cyf + bhf / 2, 4))
    out.write(dst)


def manifest_coco(src: str, dst: str, aux: str) -> None:
    base = os.path.dirname(src)
    out = _Coco()
    with open(src, "rb") as fh:
        for raw in fh:
            line = orjson.loads(raw)
            loc = line["annotation"][0]["annotation-loc"]
            _voc_objects(out, etree.fromstring(_get(os.path.join(base, loc))), line["source"])
    out.write(dst)


def manifest_manifest(src: str, dst: str, aux: str) -> None:
    prefix = os.path.relpath(os.path.dirname(src), os.path.dirname(dst)) + "/"
    with open(src, "rb") as fh, open(dst, "wb") as out:
        for raw in fh:
            line = orjson.loads(raw)
            source = line["source"]
            if "://" not in source:
                line["source"] = prefix + source.removeprefix("./")
            out.write(orjson.dumps(line) + b"\n")


CASES: dict[str, Callable[[str, str, str], None]] = {
    "coco-yolo": coco_yolo,
    "coco-voc": coco_voc,
    "voc-coco": voc_coco,
    "yolo-coco": yolo_coco,
    "coco-manifest": coco_manifest,
    "manifest-coco": manifest_coco,
    "manifest-manifest": manifest_manifest,
}

if __name__ == "__main__":
    case, src, dst, *rest = sys.argv[1:]
    CASES[case](src, dst, rest[0] if rest else "")
