"""The lower bound of each benchmark case: parse the input, write as many output files.

``python bench/lower_bound.py CASE SRC DST [AUX]``. Each case parses its input as cheaply
as Python allows (one ``orjson.loads`` of a COCO file or of each manifest line, one lxml
parse of each XML file, one read of each label file) and writes the same number of output
files with plain ``open``/``write`` and bytes of about the real output's size, without
converting anything. No conversion can do less work, so ``tool / bound`` is the overhead.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable

import orjson
from lxml import etree

XML_BASE, XML_PER_OBJECT = 420, 230  # bytes of a VOC file: header, per object
YOLO_PER_OBJECT = 42
COCO_PER_IMAGE, COCO_PER_OBJECT = 110, 160
LINE = 230  # bytes of a manifest line


def _get(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def _put(path: str, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)


def _coco(src: str) -> tuple[list[dict[str, object]], Counter[object]]:
    doc = orjson.loads(_get(src))
    return doc["images"], Counter(a["image_id"] for a in doc["annotations"])


def _stem(name: object) -> str:
    return str(name).rsplit("/", 1)[-1].rsplit(".", 1)[0]


def coco_yolo(src: str, dst: str, aux: str) -> None:
    images, per = _coco(src)
    os.makedirs(f"{dst}/labels/train")
    _put(f"{dst}/data.yaml", b"x" * 1500)
    for im in images:
        _put(f"{dst}/labels/train/{_stem(im['file_name'])}.txt", b"x" * (YOLO_PER_OBJECT * per[im["id"]]))


def coco_voc(src: str, dst: str, aux: str) -> None:
    images, per = _coco(src)
    os.makedirs(f"{dst}/Annotations")
    os.makedirs(f"{dst}/ImageSets/Main")
    stems = []
    for im in images:
        stem = _stem(im["file_name"])
        stems.append(stem)
        _put(f"{dst}/Annotations/{stem}.xml", b"x" * (XML_BASE + XML_PER_OBJECT * per[im["id"]]))
    _put(f"{dst}/ImageSets/Main/train.txt", "\n".join(stems).encode())


def coco_manifest(src: str, dst: str, aux: str) -> None:
    images, per = _coco(src)
    folder = os.path.dirname(dst)
    os.makedirs(f"{folder}/Annotations")
    with open(dst, "wb") as m:
        for im in images:
            _put(f"{folder}/Annotations/{_stem(im['file_name'])}.xml", b"x" * (XML_BASE + XML_PER_OBJECT * per[im["id"]]))
            m.write(b"x" * LINE + b"\n")


def _write_coco(dst: str, images: int, objects: int) -> None:
    _put(dst, b"x" * (COCO_PER_IMAGE * images + COCO_PER_OBJECT * objects))


def voc_coco(src: str, dst: str, aux: str) -> None:
    folder = f"{src}/Annotations"
    images = objects = 0
    for name in sorted(os.listdir(folder)):
        root = etree.fromstring(_get(f"{folder}/{name}"))
        images += 1
        objects += len(root.findall("object"))
    _write_coco(dst, images, objects)


def yolo_coco(src: str, dst: str, aux: str) -> None:
    sizes = _get(aux).splitlines()
    images = objects = 0
    for folder, _, files in os.walk(f"{src}/labels"):
        for name in sorted(files):
            images += 1
            objects += len(_get(f"{folder}/{name}").splitlines())
    assert len(sizes) > images
    _write_coco(dst, images, objects)


def _lines_with_xml(src: str) -> tuple[int, int]:
    base = os.path.dirname(src)
    images = objects = 0
    with open(src, "rb") as fh:
        for raw in fh:
            try:
                line = orjson.loads(raw)
                loc = line["annotation"][0]["annotation-loc"]
            except (ValueError, KeyError, TypeError, IndexError):
                continue
            images += 1
            try:
                root = etree.fromstring(_get(os.path.join(base, loc)))
            except etree.XMLSyntaxError:
                continue
            objects += len(root.findall("object"))
    return images, objects


def manifest_coco(src: str, dst: str, aux: str) -> None:
    _write_coco(dst, *_lines_with_xml(src))


def manifest_manifest(src: str, dst: str, aux: str) -> None:
    with open(src, "rb") as fh, open(dst, "wb") as out:
        out.writelines(orjson.dumps(orjson.loads(raw)) + b"\n" for raw in fh)


def validate(src: str, dst: str, aux: str) -> None:
    images, objects = _lines_with_xml(src)
    print(f"{src}: {images} lines, {objects} objects")


def validate_cls(src: str, dst: str, aux: str) -> None:
    n = 0
    with open(src, "rb") as fh:
        for raw in fh:
            orjson.loads(raw)
            n += 1
    print(f"{src}: {n} lines")


CASES: dict[str, Callable[[str, str, str], None]] = {
    "coco-yolo": coco_yolo,
    "coco-voc": coco_voc,
    "voc-coco": voc_coco,
    "yolo-coco": yolo_coco,
    "coco-manifest": coco_manifest,
    "manifest-coco": manifest_coco,
    "manifest-manifest": manifest_manifest,
    "validate-valid": validate,
    "validate-errors": validate,
    "validate-cls": validate_cls,
}

if __name__ == "__main__":
    case, src, dst, *rest = sys.argv[1:]
    CASES[case](src, dst, rest[0] if rest else "")
