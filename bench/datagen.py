"""Deterministic benchmark data, written with plain Python (never with mafmt).

One seeded COCO instances dataset, and from it the same images and objects as a standard
VOC folder, an ultralytics YOLO folder (with a ``sizes.csv`` size table and header-only
image stand-ins for tools that read image headers), a ModelArts manifest with its VOC
files, a copy of that manifest with errors (in the JSON and in the linked XML), and an
image-classification manifest. :func:`generate` writes them all and returns a
:class:`Dataset` that says where each one is and what it holds (the expected counts).

The COCO file looks like real exports: 80 categories with COCO's names and gapped ids
(1..90), a skewed class frequency, float boxes with two decimals, ``"segmentation": []``
on box-only objects, about 30 % of objects with one polygon ring (6-24 vertices, the box
is the ring's extent), ``area`` and ``iscrowd`` on every annotation, about 7 objects per
image, about 5 % of images without objects.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SEED = 20240613

#: COCO 2017's 80 categories, by id (ids 12, 26, 29, 30, 45, 66, 68, 69, 71, 83 are unused)
COCO_CATEGORIES: dict[int, str] = dict(enumerate([
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "", "backpack", "umbrella", "", "", "handbag", "tie", "suitcase",
    "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard",
    "surfboard", "tennis racket", "bottle", "", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana",
    "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "", "dining table", "", "", "toilet", "", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "", "book", "clock",
    "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
], start=1))
COCO_CATEGORIES = {k: v for k, v in COCO_CATEGORIES.items() if v}
SUPERCATEGORY = "object"
IMAGE_SIZES = [((640, 480), 40), ((640, 427), 25), ((480, 640), 10), ((500, 375), 8), ((640, 360), 7),
               ((612, 612), 5), ((427, 640), 3), ((1280, 720), 2)]
VOC_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<annotation>\n    <folder>{folder}</folder>\n'
            "    <filename>{filename}</filename>\n    <source>\n        <database>Unknown</database>\n    </source>\n"
            "    <size>\n        <width>{width}</width>\n        <height>{height}</height>\n"
            "        <depth>3</depth>\n    </size>\n    <segmented>0</segmented>\n")
OBJ_HEAD = ("    <object>\n        <name>{name}</name>\n        <pose>Unspecified</pose>\n"
            "        <truncated>0</truncated>\n{occluded}        <difficult>0</difficult>\n")
BNDBOX = ("        <bndbox>\n            <xmin>{:g}</xmin>\n            <ymin>{:g}</ymin>\n"
          "            <xmax>{:g}</xmax>\n            <ymax>{:g}</ymax>\n        </bndbox>\n")
CLASSES = ["cat", "dog", "bird", "car", "truck", "person", "tree", "flower", "building", "boat", "plane", "horse"]


@dataclass
class Dataset:
    """Where each input is and what it holds."""

    root: str
    images: int
    objects: int
    polygons: int
    empty_images: int
    coco: str = ""
    voc: str = ""
    yolo: str = ""
    yolo_images: str = ""
    sizes_csv: str = ""
    manifest: str = ""
    errors_manifest: str = ""
    error_lines: int = 0  # manifest lines with a defect in the JSON
    error_files: int = 0  # linked VOC files with a defect
    error_any: int = 0  # lines with either
    cls_manifest: str = ""
    cls_lines: int = 0
    cls_annotations: int = 0
    coco_dm: str = ""  # the COCO file (hard link) in the folder layout datumaro's importer requires

    def save(self) -> None:
        """Write ``dataset.json`` into the root (read back by :func:`load`)."""
        Path(self.root, "dataset.json").write_text(json.dumps(asdict(self), indent=1))


def load(root: str) -> Dataset:
    """The :class:`Dataset` saved in ``root``."""
    return Dataset(**json.loads(Path(root, "dataset.json").read_text()))


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------- COCO


def _polygon(rng: random.Random, w: int, h: int) -> list[float]:
    cx, cy = rng.uniform(0.1 * w, 0.9 * w), rng.uniform(0.1 * h, 0.9 * h)
    rx, ry = w * (0.02 + 0.3 * rng.random() ** 2), h * (0.02 + 0.3 * rng.random() ** 2)
    n = rng.randint(6, 24)
    ring: list[float] = []
    for k in range(n):
        a = 2 * math.pi * k / n + rng.uniform(-0.2, 0.2)
        r = rng.uniform(0.6, 1.0)
        ring.append(round(min(max(cx + rx * r * math.cos(a), 0.0), w - 0.01), 2))
        ring.append(round(min(max(cy + ry * r * math.sin(a), 0.0), h - 0.01), 2))
    return ring


def _shoelace(ring: list[float]) -> float:
    xs, ys = ring[0::2], ring[1::2]
    n = len(xs)
    return abs(sum(xs[i] * ys[(i + 1) % n] - xs[(i + 1) % n] * ys[i] for i in range(n))) / 2


def make_coco(n: int, seed: int = SEED) -> dict[str, Any]:
    """A COCO instances document with ``n`` images (see the module docstring)."""
    rng = random.Random(seed)
    cat_ids = list(COCO_CATEGORIES)
    weights = [30.0 if c == 1 else rng.uniform(0.2, 3.0) for c in cat_ids]  # person dominates, as in COCO
    sizes, size_w = [s for s, _ in IMAGE_SIZES], [w for _, w in IMAGE_SIZES]
    images: list[dict[str, Any]] = []
    anns: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        w, h = rng.choices(sizes, size_w)[0]
        images.append({"license": rng.randint(1, 8), "file_name": f"{i:012d}.jpg", "height": h, "width": w,
                       "date_captured": f"2013-11-{rng.randint(10, 28)} {rng.randint(0, 23):02d}:"
                                        f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}", "id": i})
        k = 0 if rng.random() < 0.05 else min(60, 1 + int(rng.expovariate(1 / 7.0)))
        for cat in rng.choices(cat_ids, weights, k=k):
            if rng.random() < 0.3:
                seg = _polygon(rng, w, h)
                x0, y0 = min(seg[0::2]), min(seg[1::2])
                bbox = [x0, y0, round(max(seg[0::2]) - x0, 2), round(max(seg[1::2]) - y0, 2)]
                area = _shoelace(seg)
                segmentation: list[Any] = [seg]
            else:
                bw = round(max(2.0, w * (0.01 + 0.6 * rng.random() ** 2)), 2)
                bh = round(max(2.0, h * (0.01 + 0.6 * rng.random() ** 2)), 2)
                bbox = [round(rng.uniform(0, w - bw), 2), round(rng.uniform(0, h - bh), 2), bw, bh]
                area = bw * bh
                segmentation = []
            anns.append({"segmentation": segmentation, "area": area, "iscrowd": 0, "image_id": i, "bbox": bbox,
                         "category_id": cat, "id": len(anns) + 1})
    return {
        "info": {"description": "mafmt benchmark (synthetic)", "version": "1.0", "year": 2024},
        "licenses": [{"url": f"http://example.invalid/license/{j}", "id": j, "name": f"License {j}"}
                     for j in range(1, 9)],
        "images": images,
        "annotations": anns,
        "categories": [{"supercategory": SUPERCATEGORY, "id": c, "name": name} for c, name in COCO_CATEGORIES.items()],
    }


def _by_image(coco: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {im["id"]: [] for im in coco["images"]}
    for a in coco["annotations"]:
        out[a["image_id"]].append(a)
    return out


def _corners(a: dict[str, Any]) -> tuple[float, float, float, float]:
    x, y, w, h = a["bbox"]
    return x, y, round(x + w, 2), round(y + h, 2)


# --------------------------------------------------------------------------- the other layouts


def write_voc(coco: dict[str, Any], root: Path) -> None:
    """The standard VOC layout: ``Annotations/``, ``ImageSets/Main/train.txt``, ``JPEGImages/``
    (empty), ``labelmap.txt``; polygons become their box."""
    names = {c["id"]: _esc(c["name"]) for c in coco["categories"]}
    (root / "Annotations").mkdir(parents=True)
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "JPEGImages").mkdir()
    stems = []
    for im, objs in zip(coco["images"], _by_image(coco).values()):
        stem = im["file_name"].rsplit(".", 1)[0]
        stems.append(stem)
        parts = [VOC_HEAD.format(folder="JPEGImages", filename=im["file_name"], width=im["width"], height=im["height"])]
        for a in objs:
            parts.append(OBJ_HEAD.format(name=names[a["category_id"]], occluded=""))
            parts.append(BNDBOX.format(*_corners(a)))
            parts.append("    </object>\n")
        parts.append("</annotation>\n")
        (root / "Annotations" / f"{stem}.xml").write_text("".join(parts))
    (root / "ImageSets" / "Main" / "train.txt").write_text("\n".join(stems) + "\n")
    # the label map CVAT and datumaro write (and datumaro needs for classes outside VOC's 20)
    (root / "labelmap.txt").write_text("# label:color_rgb:parts:actions\n"
                                       + "".join(f"{c['name']}:::\n" for c in coco["categories"]))


def _jpeg(width: int, height: int) -> bytes:
    """A small valid JPEG of the given size (grey, low quality): Pillow if present, else a stub."""
    try:
        from PIL import Image
    except ImportError:  # header-only stand-in: SOI, SOF0 with the size, EOI
        sof = b"\xff\xc0\x00\x11\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big") + b"\x03" + bytes(9)
        return b"\xff\xd8" + sof + b"\xff\xd9"
    buf = io.BytesIO()
    Image.new("L", (width, height), 128).save(buf, "JPEG", quality=10)
    return buf.getvalue()


def write_yolo(coco: dict[str, Any], root: Path, sizes_csv: Path) -> None:
    """Ultralytics layout: ``data.yaml``, ``labels/train/*.txt`` (an empty file for an image
    without objects), ``images/train/*.jpg`` (hard links to one small JPEG per image size, for
    tools that read image headers), and a size table ``sizes_csv`` (``filename,width,height``)."""
    cats = coco["categories"]
    index = {c["id"]: i for i, c in enumerate(cats)}
    (root / "labels" / "train").mkdir(parents=True)
    (root / "images" / "train").mkdir(parents=True)
    tmpl_dir = root.parent / "jpeg-templates"
    tmpl_dir.mkdir(exist_ok=True)
    names = "".join(f"  {i}: {json.dumps(c['name'])}\n" for i, c in enumerate(cats))
    (root / "data.yaml").write_text(f"path: .\ntrain: images/train\nval: images/train\nnc: {len(cats)}\nnames:\n{names}")
    rows = ["filename,width,height\n"]
    for im, objs in zip(coco["images"], _by_image(coco).values()):
        w, h = im["width"], im["height"]
        stem = im["file_name"].rsplit(".", 1)[0]
        lines = []
        for a in objs:
            x, y, bw, bh = a["bbox"]
            lines.append(f"{index[a['category_id']]} {(x + bw / 2) / w:.6f} {(y + bh / 2) / h:.6f} "
                         f"{bw / w:.6f} {bh / h:.6f}\n")
        (root / "labels" / "train" / f"{stem}.txt").write_text("".join(lines))
        tmpl = tmpl_dir / f"{w}x{h}.jpg"
        if not tmpl.exists():
            tmpl.write_bytes(_jpeg(w, h))
        os.link(tmpl, root / "images" / "train" / im["file_name"])
        rows.append(f"{im['file_name']},{w},{h}\n")
    sizes_csv.write_text("".join(rows))


def _modelarts_xml(im: dict[str, Any], objs: list[dict[str, Any]], names: dict[int, str]) -> list[str]:
    parts = [VOC_HEAD.format(folder="NA", filename=im["file_name"], width=im["width"], height=im["height"])]
    for a in objs:
        parts.append(OBJ_HEAD.format(name=names[a["category_id"]], occluded="        <occluded>0</occluded>\n"))
        if a["segmentation"]:
            ring = a["segmentation"][0]
            pts = "".join(f"            <x{k + 1}>{ring[2 * k]:g}</x{k + 1}>\n            <y{k + 1}>{ring[2 * k + 1]:g}"
                          f"</y{k + 1}>\n" for k in range(len(ring) // 2))
            parts.append(f"        <polygon>\n{pts}        </polygon>\n")
        else:
            parts.append(BNDBOX.format(*_corners(a)))
        parts.append("    </object>\n")
    parts.append("</annotation>\n")
    return parts


def _manifest_line(im: dict[str, Any], loc: str) -> dict[str, Any]:
    return {"source": f"./images/{im['file_name']}", "usage": "TRAIN",
            "annotation": [{"type": "modelarts/object_detection", "annotation-loc": loc,
                            "annotation-format": "PASCAL VOC", "annotated-by": "human",
                            "creation-time": "2024-03-01 10:00:00"}]}


def write_manifest(coco: dict[str, Any], root: Path) -> None:
    """A ModelArts detection manifest ``train.manifest`` with one ModelArts VOC file per image in
    ``Annotations/`` (polygons as ``<polygon>``, boxes as ``<bndbox>``)."""
    names = {c["id"]: _esc(c["name"]) for c in coco["categories"]}
    (root / "Annotations").mkdir(parents=True)
    with open(root / "train.manifest", "w") as m:
        for im, objs in zip(coco["images"], _by_image(coco).values()):
            stem = im["file_name"].rsplit(".", 1)[0]
            (root / "Annotations" / f"{stem}.xml").write_text("".join(_modelarts_xml(im, objs, names)))
            m.write(json.dumps(_manifest_line(im, f"./Annotations/{stem}.xml"), separators=(",", ":")) + "\n")


# a defect per kind; each makes the line (JSON) or the file (XML) invalid
JSON_DEFECTS = ["missing source", "usage not a string", "type not a string", "annotation not a list", "not JSON",
                "creation-time not a string"]
XML_DEFECTS = ["object without name", "empty bndbox", "coordinate not a number", "empty objects",
               "size without width", "empty name"]


def _break_line(line: dict[str, Any], kind: str) -> str:
    if kind == "missing source":
        del line["source"]
    elif kind == "usage not a string":
        line["usage"] = 1
    elif kind == "type not a string":
        line["annotation"][0]["type"] = 7
    elif kind == "annotation not a list":
        line["annotation"] = line["annotation"][0]
    elif kind == "creation-time not a string":
        line["annotation"][0]["creation-time"] = 20240301
    text = json.dumps(line, separators=(",", ":"))
    return text[: len(text) // 2] if kind == "not JSON" else text


def _break_xml(xml: str, kind: str, rng: random.Random) -> str:
    if kind == "object without name" and "<name>" in xml:
        return xml.replace(xml[xml.index("        <name>"): xml.index("</name>\n") + 8], "", 1)
    if kind == "empty name" and "<name>" in xml:
        return xml.replace(xml[xml.index("<name>"): xml.index("</name>") + 7], "<name></name>", 1)
    if kind == "empty bndbox" and "<bndbox>" in xml:
        return xml.replace(xml[xml.index("<bndbox>"): xml.index("</bndbox>") + 9], "<bndbox/>", 1)
    if kind == "coordinate not a number" and "<xmin>" in xml:
        return xml.replace(xml[xml.index("<xmin>"): xml.index("</xmin>") + 7], "<xmin>12,5</xmin>", 1)
    if kind == "size without width":
        return xml.replace(xml[xml.index("        <width>"): xml.index("</width>\n") + 9], "", 1)
    # "empty objects", or a defect the file has no element for
    return xml.replace("</annotation>", "    <object/>\n" * rng.randint(1, 5) + "</annotation>", 1)


def write_errors_manifest(coco: dict[str, Any], root: Path, seed: int = SEED) -> tuple[int, int, int]:
    """Like :func:`write_manifest`, with defects: about 10 % of lines in the JSON, about 40 % of
    the linked VOC files in the XML. Returns (lines with a JSON defect, files with an XML
    defect, lines with either)."""
    rng = random.Random(seed + 1)
    names = {c["id"]: _esc(c["name"]) for c in coco["categories"]}
    (root / "Annotations").mkdir(parents=True)
    bad_lines = bad_files = bad_any = 0
    with open(root / "train.manifest", "w") as m:
        for im, objs in zip(coco["images"], _by_image(coco).values()):
            stem = im["file_name"].rsplit(".", 1)[0]
            xml = "".join(_modelarts_xml(im, objs, names))
            broken = rng.random() < 0.4
            if broken:
                xml = _break_xml(xml, rng.choice(XML_DEFECTS), rng)
                bad_files += 1
            (root / "Annotations" / f"{stem}.xml").write_text(xml)
            line = _manifest_line(im, f"./Annotations/{stem}.xml")
            if rng.random() < 0.1:
                m.write(_break_line(line, rng.choice(JSON_DEFECTS)) + "\n")
                bad_lines += 1
                broken = True
            else:
                m.write(json.dumps(line, separators=(",", ":")) + "\n")
            bad_any += broken
    return bad_lines, bad_files, bad_any


def write_cls_manifest(path: Path, lines: int, seed: int = SEED) -> int:
    """An image-classification manifest: half the sources relative (rebased when the manifest
    moves), half on OBS; one to three labels, some with a property, some hard examples.
    Returns the number of annotations."""
    rng = random.Random(seed + 2)
    count = 0
    with open(path, "w") as m:
        for i in range(lines):
            src = f"./images/{i:09d}.jpg" if i % 2 else f"obs://bench-bucket/cls/images/{i:09d}.jpg"
            anns = []
            for name in rng.sample(CLASSES, rng.choice((1, 1, 1, 2, 3))):
                ann: dict[str, Any] = {"type": "modelarts/image_classification", "name": name,
                                       "annotated-by": "human", "creation-time": "2024-03-01 10:00:00"}
                if rng.random() < 0.2:
                    ann["property"] = {"color": rng.choice(("red", "green", "blue"))}
                anns.append(ann)
            count += len(anns)
            line: dict[str, Any] = {"source": src, "usage": rng.choice(("TRAIN", "TRAIN", "TRAIN", "EVAL")),
                                    "annotation": anns}
            if rng.random() < 0.05:
                line["hard"] = True
                line["hard-coefficient"] = round(rng.random(), 3)
            m.write(json.dumps(line, separators=(",", ":")) + "\n")
    return count


def generate(root: str, n: int, cls_lines: int, seed: int = SEED) -> Dataset:
    """Write every input for ``n`` images (and a ``cls_lines``-line classification manifest) into
    ``root`` (which must not exist yet)."""
    base = Path(root)
    base.mkdir(parents=True)
    coco = make_coco(n, seed)
    (base / "coco.json").write_text(json.dumps(coco, separators=(",", ":")))
    write_voc(coco, base / "voc")
    write_yolo(coco, base / "yolo", base / "sizes.csv")
    write_manifest(coco, base / "manifest")
    bad_lines, bad_files, bad_any = write_errors_manifest(coco, base / "errors", seed)
    cls_annotations = write_cls_manifest(base / "cls.manifest", cls_lines, seed)
    (base / "dm" / "annotations").mkdir(parents=True)
    (base / "dm" / "images" / "train").mkdir(parents=True)
    os.link(base / "coco.json", base / "dm" / "annotations" / "instances_train.json")
    ds = Dataset(
        root=str(base), images=len(coco["images"]), objects=len(coco["annotations"]),
        polygons=sum(1 for a in coco["annotations"] if a["segmentation"]),
        empty_images=sum(1 for objs in _by_image(coco).values() if not objs),
        coco=str(base / "coco.json"), voc=str(base / "voc"), yolo=str(base / "yolo"),
        yolo_images=str(base / "yolo" / "images" / "train"), sizes_csv=str(base / "sizes.csv"),
        manifest=str(base / "manifest" / "train.manifest"), errors_manifest=str(base / "errors" / "train.manifest"),
        error_lines=bad_lines, error_files=bad_files, error_any=bad_any, cls_manifest=str(base / "cls.manifest"), cls_lines=cls_lines,
        cls_annotations=cls_annotations, coco_dm=str(base / "dm"),
    )
    ds.save()
    return ds


if __name__ == "__main__":
    import argparse
    import time

    ap = argparse.ArgumentParser(description="write the benchmark inputs into a new folder")
    ap.add_argument("root")
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--cls-lines", type=int, default=40000)
    a = ap.parse_args()
    t = time.perf_counter()
    d = generate(a.root, a.images, a.cls_lines)
    print(json.dumps(asdict(d), indent=1), f"\n{time.perf_counter() - t:.1f} s")
