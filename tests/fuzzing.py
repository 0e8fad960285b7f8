"""A seeded, deterministic mutation fuzzer for mafmt's readers and writers.

Used by ``tests/test_fuzz.py`` (a few thousand cases per reader in CI) and by
``bench/fuzz.py`` (large campaigns, minimising and saving crashers).

Vocabulary:

* **target** -- one kind of reader input with a small valid seed dataset that this module
  writes itself (:data:`TARGETS`: ``manifest``, ``coco``, ``yolo-darknet``, ...);
* **case** -- ``(seed, target, case id)``: the seed dataset with 1-3 structured mutations
  and a few run options; the same triple always gives the same bytes (:func:`make_case`);
* **op** -- what is run on a case: ``read`` (every sample, every detection document
  loaded), ``convert:<writer>`` for every registered writer, ``validate``;
* **outcome** of an op -- ``ok``, ``error`` (a :class:`~mafmt.errors.MafmtError`),
  ``crash`` (any other exception), ``timeout`` (over the per-op budget), ``escape``
  (a writer tried to write outside its target folder), ``hang`` (the worker had to be
  killed);
* **site** -- exception type plus the innermost project frame (``converters/coco.py:212``).

Cases run in worker processes (:class:`Pool`) with an address-space limit, a per-op
CPU-time budget (``SIGPROF``) and a hard wall-clock limit per case after which the worker is killed, so a
crash, hang or memory blow-up is reported, never able to stall or sink the caller.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import struct
import sys
import tarfile
import tempfile
import threading
import time
import traceback
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

__all__ = [
    "TARGETS",
    "TARGET_NAMES",
    "WRITERS",
    "Case",
    "CaseResult",
    "CaseTimeout",
    "Finding",
    "PathEscape",
    "Pool",
    "Tally",
    "deadline",
    "describe_failures",
    "make_case",
    "materialise",
    "minimise",
    "run_case",
]


def _project_root() -> Path:
    import mafmt

    return Path(mafmt.__file__).resolve().parents[1]


#: the checkout mafmt is imported from
ROOT = _project_root()
#: folders whose frames are "project" frames when a crash site is located
PROJECT_DIRS = tuple(os.path.realpath(ROOT / d) + os.sep for d in ("mafmt", "mafmt/converters"))

# --------------------------------------------------------------------------- results


class CaseTimeout(BaseException):
    """An op ran over its time budget (a BaseException: ``except Exception`` cannot swallow it)."""


class PathEscape(BaseException):
    """A writer tried to write a file outside the folder it was given."""


@dataclass(slots=True)
class Finding:
    """One op that ended in something other than ok or a MafmtError."""

    op: str
    kind: str  # crash | timeout | escape | hang
    exc_type: str
    file: str
    line: int
    func: str
    message: str
    tb: str = ""

    @property
    def site(self) -> str:
        """``ExcType@file:line`` -- what identifies one bug."""
        return f"{self.exc_type}@{self.file}:{self.line}"

    def where(self) -> str:
        return f"{self.file}:{self.line} ({self.func})"


@dataclass(slots=True)
class CaseResult:
    """What one case did: the outcome of each op, the findings, time and memory."""

    target: str
    case_id: int
    outcomes: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0
    rss_growth_mb: float = 0.0
    mutations: list[str] = field(default_factory=list)
    size: int = 0

    @property
    def status(self) -> str:
        """The worst outcome: hang > timeout > escape > crash > error > ok."""
        kinds = {f.kind for f in self.findings}
        for k in ("hang", "timeout", "escape", "crash"):
            if k in kinds:
                return k
        return "error" if "error" in self.outcomes.values() else "ok"


# --------------------------------------------------------------------------- seeds

Files = dict[str, bytes]


def _png(w: int, h: int) -> bytes:
    """A valid RGB PNG (stored, uncompressed: the same bytes with any zlib)."""
    raw = b"".join(b"\x00" + b"\x80\x40\x20" * w for _ in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b"")


def _wav() -> bytes:
    data = b"\x00\x00" * 8
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    return b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + \
        struct.pack("<I", len(data)) + data


PNG = _png(10, 8)
PNG_SMALL = _png(4, 3)

VOC_RICH = b"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<annotation>
    <folder>NA</folder>
    <filename>a.jpg</filename>
    <source>
        <database>Unknown</database>
        <annotation>manual</annotation>
        <image>camera</image>
        <flickrid>12</flickrid>
    </source>
    <size>
        <width>10</width>
        <height>8</height>
        <depth>3</depth>
    </size>
    <segmented>0</segmented>
    <object>
        <name>cat</name>
        <properties>
            <color>red</color>
            <property>
                <key>size</key>
                <value>big</value>
            </property>
        </properties>
        <pose>Frontal</pose>
        <truncated>0</truncated>
        <occluded>1</occluded>
        <difficult>0</difficult>
        <confidence>0.9</confidence>
        <hard-coefficient>0.3</hard-coefficient>
        <hard-reasons>1-2</hard-reasons>
        <mask_color>10,20,30</mask_color>
        <bndbox>
            <xmin>1</xmin>
            <ymin>1.5</ymin>
            <xmax>5</xmax>
            <ymax>6</ymax>
        </bndbox>
        <part>
            <name>head</name>
            <bndbox>
                <xmin>1</xmin>
                <ymin>1</ymin>
                <xmax>3</xmax>
                <ymax>3</ymax>
            </bndbox>
            <part>
                <name>ear</name>
                <point>
                    <x>2</x>
                    <y>2</y>
                </point>
            </part>
        </part>
        <vendor_note lang="en">hi</vendor_note>
    </object>
    <object>
        <name>dog</name>
        <difficult>0</difficult>
        <polygon>
            <x1>1</x1>
            <y1>1</y1>
            <x2>5</x2>
            <y2>1</y2>
            <x3>3</x3>
            <y3>6</y3>
        </polygon>
    </object>
    <object>
        <name>ball</name>
        <difficult>1</difficult>
        <circle>
            <cx>5</cx>
            <cy>4</cy>
            <r>2</r>
        </circle>
    </object>
    <object>
        <name>pin</name>
        <difficult>0</difficult>
        <point>
            <x1>3</x1>
            <y1>3</y1>
        </point>
    </object>
    <object>
        <name>road</name>
        <difficult>0</difficult>
        <line>
            <x1>0</x1>
            <y1>0</y1>
            <x2>9</x2>
            <y2>7</y2>
        </line>
    </object>
    <object>
        <name>lane</name>
        <difficult>0</difficult>
        <dashed>
            <x1>0</x1>
            <y1>1</y1>
            <x2>9</x2>
            <y2>1</y2>
        </dashed>
    </object>
    <object>
        <name>wire</name>
        <difficult>0</difficult>
        <polyline>
            <x1>0</x1>
            <y1>0</y1>
            <x2>3</x2>
            <y2>3</y2>
            <x3>6</x3>
            <y3>0</y3>
        </polyline>
    </object>
    <vendor id="1">
        <deep>x</deep>
    </vendor>
</annotation>
"""

VOC_SEGMENTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<annotation>
    <folder>NA</folder>
    <filename>b.png</filename>
    <size>
        <width>20</width>
        <height>10</height>
        <depth>3</depth>
    </size>
    <segmented>1</segmented>
    <mask_source>masks/b.png</mask_source>
    <object>
        <name>road</name>
        <difficult>0</difficult>
        <mask_color>128,0,0</mask_color>
        <polygon>
            <x1>0.5</x1>
            <y1>0</y1>
            <x2>19</x2>
            <y2>0</y2>
            <x3>19</x3>
            <y3>9.25</y3>
            <x4>0</x4>
            <y4>9</y4>
        </polygon>
    </object>
</annotation>
"""


def _voc_plain(name: str, objects: list[tuple[str, int, int, int, int]], parts: bool = False) -> bytes:
    """A plain standard VOC document (mafmt's fast path reads these)."""
    out = [(f"<annotation>\n    <folder>VOC</folder>\n    <filename>{name}</filename>\n"
           "    <source>\n        <database>Unknown</database>\n    </source>\n"
           "    <size>\n        <width>10</width>\n        <height>8</height>\n        <depth>3</depth>\n    </size>\n"
           "    <segmented>0</segmented>\n")]
    for label, x0, y0, x1, y1 in objects:
        out.append(f"    <object>\n        <name>{label}</name>\n        <pose>Unspecified</pose>\n"
                   "        <truncated>0</truncated>\n        <difficult>0</difficult>\n"
                   f"        <bndbox>\n            <xmin>{x0}</xmin>\n            <ymin>{y0}</ymin>\n"
                   f"            <xmax>{x1}</xmax>\n            <ymax>{y1}</ymax>\n        </bndbox>\n")
        if parts:
            out.append("        <part>\n            <name>hand</name>\n            <bndbox>\n"
                       "                <xmin>1</xmin>\n                <ymin>1</ymin>\n"
                       "                <xmax>2</xmax>\n                <ymax>2</ymax>\n            </bndbox>\n"
                       "        </part>\n")
        out.append("    </object>\n")
    out.append("</annotation>\n")
    text = "".join(out)
    try:
        return text.encode("utf-8", "surrogateescape")  # a file name read with undecodable bytes
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _jsonl(*lines: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for line in lines)


def _seed_manifest() -> Files:
    lines: list[dict[str, Any]] = [
        {"source": "./images/a.jpg", "usage": "TRAIN", "id": "s1", "inference-loc": "./inf/a.txt", "hard": "true",
         "hard-coefficient": 0.5, "hard-reasons": "0-3", "property": {"@modelarts:frame": 3},
         "source-type": "image", "sample-type": 0, "vendor": {"k": [1, 2]},
         "annotation": [{"type": "modelarts/object_detection", "annotation-loc": "./Annotations/a.xml",
                         "annotation-format": "PASCAL VOC", "annotated-by": "human",
                         "creation-time": "2023-05-02 14:08:19", "hard": False, "confidence": 0.9}]},
        {"source": "./images/b.png", "usage": "eval",
         "annotation": [{"type": "modelarts/image_segmentation", "annotation-loc": "./Annotations/b.xml",
                         "annotation-format": "PASCAL VOC"}]},
        {"source": "./images/c.jpg", "id": 7,
         "annotation": [{"type": "modelarts/image_classification", "name": "cat", "property": "{\"color\": \"red\"}",
                         "confidence": 0.8, "id": 7},
                        {"type": "image_classification", "name": "dog", "hard-coefficient": 1}]},
        {"source": "content://The cat sat",
         "annotation": [{"type": "modelarts/text_entity", "name": "animal", "id": "e1",
                         "property": {"@modelarts:start_index": 4, "@modelarts:end_index": 7}},
                        {"type": "modelarts/text_entity", "name": "verb", "id": "e2",
                         "property": {"@modelarts:start_index": 8, "@modelarts:end_index": 11}},
                        {"type": "modelarts/text_triplet", "name": "does",
                         "property": {"@modelarts:from": "e1", "@modelarts:to": "e2"}},
                        {"type": "modelarts/text_classification", "name": "story"}]},
        {"source": "./audio/d.wav", "usage": "TEST",
         "annotation": [{"type": "modelarts/audio_segmentation",
                         "property": {"@modelarts:start_time": "00:00:01.000", "@modelarts:end_time": "00:00:02.500",
                                      "@modelarts:source": "spk1", "@modelarts:content": "hello"}},
                        {"type": "modelarts/audio_content", "property": {"@modelarts:content": "hello"}},
                        {"type": "sound_classification", "name": "speech"},
                        {"type": "vendor/unknown", "name": "x", "weird": [1]}]},
        {"source": "./images/e.jpg",
         "annotation": [{"type": "modelarts/object_detection", "annotation_loc": "Annotations/a.xml",
                         "annotation_format": "PASCAL VOC"}]},
    ]
    text = _jsonl(*lines).replace(b"\n", b"\r\n", 3)  # a CRLF line and LF lines
    return {
        "train.manifest": b"\xef\xbb\xbf" + text,
        "Annotations/a.xml": VOC_RICH,
        "Annotations/b.xml": VOC_SEGMENTED,
        "images/a.jpg": PNG,
        "images/b.png": _png(20, 10),
        "audio/d.wav": _wav(),
    }


def _seed_voc_file() -> Files:
    return {"a.xml": VOC_RICH, "a.jpg": PNG}


def _seed_voc_folder() -> Files:
    return {"a.xml": VOC_RICH, "b.xml": VOC_SEGMENTED, "c.xml": _voc_plain("c.jpg", [("car", 0, 0, 4, 4)])}


def _seed_voc_dataset() -> Files:
    return {
        "Annotations/a.xml": _voc_plain("a.jpg", [("cat", 1, 1, 5, 6), ("dog", 0, 2, 9, 7)]),
        "Annotations/b.xml": VOC_RICH.replace(b"<filename>a.jpg", b"<filename>b.jpg"),
        "Annotations/c.xml": _voc_plain("c.jpg", [("person", 2, 1, 8, 8)], parts=True),
        "ImageSets/Main/train.txt": b"a\nb  1\n",
        "ImageSets/Main/val.txt": b"c\n",
        "ImageSets/Main/test.txt": b"b -1\n",
        "ImageSets/Main/trainval.txt": b"a\nc\n",
        "JPEGImages/a.jpg": PNG,
        "labelmap.txt": b"# label:color_rgb:parts:actions\ncat:::\ndog:::\n",
    }


def _seed_coco() -> Files:
    doc = {
        "info": {"description": "fuzz seed", "version": "1.0"},
        "licenses": [{"id": 1, "name": "CC"}],
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 10, "height": 8, "license": 1, "usage": "TRAIN"},
            {"id": 2, "file_name": "sub/b.png", "width": 20, "height": 10, "coco_url": "x"},
            {"id": "3", "file_name": "c.jpg", "width": 5, "height": 5},
        ],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 5], "area": 20, "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [0.5, 1.25, 3, 2.5], "area": 5,
             "segmentation": [[0.5, 1.25, 3.5, 1.25, 3.5, 3.75]], "iscrowd": 0},
            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [3, 2, 4, 3], "area": 12, "iscrowd": 1,
             "segmentation": {"size": [8, 10], "counts": [26, 3, 5, 3, 5, 3, 5, 3, 27]}},
            {"id": 4, "image_id": 2, "category_id": 3, "segmentation": {"size": [8, 10], "counts": "j03500000f0"},
             "area": 12, "iscrowd": 1},
            {"id": 5, "image_id": 2, "category_id": 2, "bbox": [1, 1, 6, 6],
             "segmentation": [[1, 1, 4, 1, 4, 4], [5, 5, 7, 5, 7, 7]], "iscrowd": 0},
            {"id": 6, "image_id": "3", "category_id": 1, "bbox": [0, 0, 2, 2], "attributes": {"color": "red"},
             "score": 0.75, "pose": "Left", "truncated": 1, "difficult": 0, "hard_coefficient": 0.5,
             "mask_color": "1,2,3", "keypoints": [1, 1, 2], "num_keypoints": 1},
            {"id": 7, "image_id": 99, "category_id": 1, "bbox": [0, 0, 1, 1]},
        ],
        "categories": [
            {"id": 1, "name": "cat", "supercategory": "animal"},
            {"id": 2, "name": "dog", "supercategory": "animal", "keypoints": ["nose"], "skeleton": []},
            {"id": 3, "name": "car"},
        ],
    }
    return {"instances.json": json.dumps(doc, indent=1).encode() + b"\n", "a.jpg": PNG}


_SIZES = b"filename,width,height\na.jpg,640,480\nb.jpg,320,240\nc.jpg,100,50\n"


def _seed_yolo_darknet() -> Files:
    return {
        "obj.data": b"classes = 3\nnames = obj.names\ntrain = train.txt\nvalid = valid.txt\nbackup = backup/\n",
        "obj.names": b"cat\ndog\ncar\n",
        "train.txt": b"obj_train_data/a.jpg\n",
        "valid.txt": b"obj_valid_data/b.jpg\n",
        "obj_train_data/a.txt": b"0 0.5 0.5 0.2 0.3\n1 0.1 0.1 0.2 0.1 0.9\n",
        "obj_train_data/a.jpg": PNG_SMALL,
        "obj_valid_data/b.txt": b"2 0.1 0.1 0.5 0.1 0.5 0.5\n",
        "sizes.csv": _SIZES,
    }


def _seed_yolo_ultralytics() -> Files:
    return {
        "data.yaml": b"path: .\ntrain: images/train\nval: images/val\nnc: 3\nnames:\n  0: cat\n  1: dog\n  2: car\n",
        "labels/train/a.txt": b"0 0.5 0.5 0.2 0.3\n# comment\n1 0.1 0.1 0.2 0.1 0.9\n",
        "labels/train/c.txt": b"",
        "labels/val/b.txt": b"2 0.1 0.1 0.5 0.1 0.5 0.5\n",
        "images/train/a.jpg": PNG_SMALL,
        "sizes.csv": _SIZES,
    }


def _seed_yolo_flat() -> Files:
    return {
        "classes.txt": b"cat\ndog\ncar\n",
        "a.txt": b"0 0.5 0.5 0.2 0.3\n2 0.25 0.25 0.75 0.25 0.5 0.75\n",
        "b.txt": b"1 0.5 0.5 1 1\n",
        "a.jpg": PNG_SMALL,
        "sizes.csv": _SIZES,
    }


def _seed_csv_detect() -> Files:
    table = (b"filename,width,height,class,xmin,ymin,xmax,ymax,usage,pose,truncated,occluded,difficult,confidence,"
             b"property:color,note\n"
             b"a.jpg,10,8,cat,1,1,5,6,TRAIN,Frontal,0,1,0,0.9,red,hello\n"
             b"a.jpg,10,8,dog,2.5,2,7,7.5,TRAIN,,,,,,,\n"
             b"b.jpg,20,10,,,,,,EVAL,,,,,,,\n"
             b'"c,1.jpg",4,4,car,0,0,1,1,,,,,,,,"multi\nline"\n')
    return {"boxes.csv": table, "a.jpg": PNG}


def _seed_csv_classify() -> Files:
    table = (b"filename,label,usage,type,score\n"
             b"a.jpg,cat;dog,TRAIN,,1\n"
             b"b.jpg,dog,,,\n"
             b"content://hello world,greet,,text_classification,\n"
             b"c.wav,speech,TEST,audio_classification,\n")
    return {"labels.csv": table, "a.jpg": PNG}


def _seed_image_txt() -> Files:
    return {
        "a.jpg": PNG, "a.txt": b"cat\ndog\n",
        "b.png": PNG_SMALL, "b.txt": "\u9e1f\n".encode("gbk"),
        "c.jpg": PNG,
        "sub/d.jpg": PNG, "sub/d.txt": b"\xef\xbb\xbfcat\r\n",
        "orphan.txt": b"lonely\n",
    }


def _seed_voc_pairs() -> Files:
    return {
        "a.jpg": PNG, "a.xml": VOC_RICH,
        "b.png": PNG_SMALL, "b.xml": _voc_plain("b.png", [("dog", 0, 0, 3, 2)]),
        "c.jpg": PNG,
        "orphan.xml": _voc_plain("z.jpg", [("car", 0, 0, 1, 1)]),
    }


def _seed_text() -> Files:
    return {
        "text.txt": b"The cat\nA dog barks\n\n",
        "text_result.txt": b"animal\nanimal,sound\n",
        "combine.txt": b"hello world\tgreet\nno label line\nbye\tfarewell,polite\n",
        "gbk.txt": "\u4f60\u597d\t\u95ee\u5019\n".encode("gbk"),
    }


def _seed_folders() -> Files:
    return {
        "cat/a.jpg": PNG, "cat/b.png": PNG_SMALL, "dog/c.jpg": PNG, "dog/sub/d.jpg": PNG, "e.jpg": PNG,
        ".hidden/f.jpg": PNG, "speech/a.wav": _wav(), "noise/b.mp3": b"ID3\x03\x00\x00\x00\x00\x00\x00",
    }


@dataclass(frozen=True, slots=True)
class Target:
    """A reader input kind: its format(s), seed dataset and which files mutate how.

    Attributes:
        entry: path handed to the reader, relative to the dataset root ("" = the root).
        kinds: file -> mutation kind (``jsonl``, ``json``, ``xml``, ``yaml``, ``yolo``,
            ``csv``, ``lines``, ``kv``, ``text``, ``binary``) and its weight.
        paths: weight of file-name / layout mutations (0 for single-file inputs).
        formats: reader formats; a case picks one (folder-per-label: imagenet or audio).
    """

    name: str
    formats: tuple[str, ...]
    entry: str
    build: Callable[[], Files]
    kinds: dict[str, tuple[str, float]]
    paths: float = 0.0
    description: str = ""


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("manifest", ("manifest",), "train.manifest", _seed_manifest,
           {"train.manifest": ("jsonl", 4.0), "Annotations/a.xml": ("xml", 1.5), "Annotations/b.xml": ("xml", 0.5),
            "images/a.jpg": ("binary", 0.1)}, paths=0.1,
           description="ModelArts manifest with linked ModelArts VOC files"),
    Target("voc-file", ("voc",), "a.xml", _seed_voc_file, {"a.xml": ("xml", 1.0)},
           description="one ModelArts VOC XML file"),
    Target("voc-folder", ("voc",), "", _seed_voc_folder,
           {"a.xml": ("xml", 2.0), "b.xml": ("xml", 1.0), "c.xml": ("xml", 1.0)}, paths=0.1,
           description="a flat folder of ModelArts VOC XML files"),
    Target("voc-dataset", ("voc",), "", _seed_voc_dataset,
           {"Annotations/a.xml": ("xml", 2.0), "Annotations/b.xml": ("xml", 1.0), "Annotations/c.xml": ("xml", 1.0),
            "ImageSets/Main/train.txt": ("lines", 0.7), "ImageSets/Main/val.txt": ("lines", 0.3),
            "ImageSets/Main/trainval.txt": ("lines", 0.2), "labelmap.txt": ("lines", 0.1)}, paths=0.2,
           description="standard VOC dataset (Annotations/, ImageSets/Main/, JPEGImages/)"),
    Target("coco", ("coco",), "instances.json", _seed_coco, {"instances.json": ("json", 1.0)},
           description="COCO instances JSON (boxes, polygons, RLE)"),
    Target("yolo-darknet", ("modelarts-yolo",), "", _seed_yolo_darknet,
           {"obj.data": ("kv", 0.8), "obj.names": ("lines", 0.8), "obj_train_data/a.txt": ("yolo", 2.0),
            "obj_valid_data/b.txt": ("yolo", 1.0), "sizes.csv": ("csv", 1.2), "train.txt": ("lines", 0.2),
            "obj_train_data/a.jpg": ("binary", 0.2)}, paths=0.3,
           description="YOLO darknet layout (obj.data, obj.names, obj_<split>_data/, sizes.csv)"),
    Target("yolo-ultralytics", ("yolo",), "", _seed_yolo_ultralytics,
           {"data.yaml": ("yaml", 2.5), "labels/train/a.txt": ("yolo", 2.0), "labels/val/b.txt": ("yolo", 0.8),
            "sizes.csv": ("csv", 1.2), "images/train/a.jpg": ("binary", 0.2)}, paths=0.3,
           description="YOLO ultralytics layout (data.yaml, labels/<split>/, sizes.csv)"),
    Target("yolo-flat", ("yolo",), "", _seed_yolo_flat,
           {"classes.txt": ("lines", 1.0), "a.txt": ("yolo", 2.0), "b.txt": ("yolo", 1.0), "sizes.csv": ("csv", 1.2),
            "a.jpg": ("binary", 0.2)}, paths=0.3,
           description="YOLO flat layout (classes.txt, label files, sizes.csv)"),
    Target("csv-detect", ("csv",), "boxes.csv", _seed_csv_detect, {"boxes.csv": ("csv", 1.0)},
           description="CSV, one row per object"),
    Target("csv-classify", ("csv",), "labels.csv", _seed_csv_classify, {"labels.csv": ("csv", 1.0)},
           description="CSV, one row per sample (classification)"),
    Target("image-txt", ("modelarts-image-classification",), "", _seed_image_txt,
           {"a.txt": ("lines", 1.0), "b.txt": ("lines", 0.5), "sub/d.txt": ("lines", 0.5), "a.jpg": ("binary", 0.2)},
           paths=1.2, description="ModelArts image classification (image + same-stem .txt)"),
    Target("voc-pairs", ("modelarts-voc",), "", _seed_voc_pairs,
           {"a.xml": ("xml", 2.0), "b.xml": ("xml", 1.0), "a.jpg": ("binary", 0.2)}, paths=0.8,
           description="ModelArts PASCAL VOC 1.0 (image + same-stem .xml)"),
    Target("text", ("modelarts-text-classification", "modelarts-text-classification-combine"), "", _seed_text,
           {"text.txt": ("text", 1.0), "text_result.txt": ("text", 1.0), "combine.txt": ("text", 1.5),
            "gbk.txt": ("text", 0.5)}, paths=0.5,
           description="ModelArts text classification (X.txt + X_result.txt, text<Tab>labels)"),
    Target("folders", ("modelarts-imagenet", "modelarts-audio-classification"), "", _seed_folders,
           {"cat/a.jpg": ("binary", 0.3)}, paths=3.0,
           description="folder per label (imageNet 1.0, audio classification dir 1.0)"),
)}

TARGET_NAMES = tuple(TARGETS)

_SEED_CACHE: dict[str, Files] = {}


def seed_files(target: str) -> Files:
    """The (cached) seed dataset of ``target``."""
    if target not in _SEED_CACHE:
        _SEED_CACHE[target] = TARGETS[target].build()
    return dict(_SEED_CACHE[target])


# --------------------------------------------------------------------------- nasty values

DEEP = 2000
BIG_400 = "1" + "0" * 399
BIG_5000 = "9" * 5000
LONG = 200_001  # over csv.field_size_limit() (131,072)

#: numbers as text: what a hostile file writes where a number belongs
NUM_TEXTS = ("0", "-0", "-1", "1", "1.5", ".5", "5.", "+3", "1e2", "1e309", "-1e309", "1e-400", "4.9e-324",
             "1.7976931348623157e308", "inf", "-inf", "nan", "NaN", "Infinity", "-Infinity", "2147483648",
             "9223372036854775808", "18446744073709551616", "-9223372036854775809", BIG_400, "-" + BIG_400, BIG_5000,
             "0x10", "1_000", "\u0661\u0662", "\uff13", "\U0001d7d3", "\u00bd", "1e", "--1", " 7 ", "0" * 50 + "1",
             "3.0", "-2.5", "0.000001", "1e-7")
#: strings: what a hostile file writes where a label, name or path belongs
STR_TEXTS = ("", " ", "\t", "\n", "\r\n", "a\x00b", "\x00", "\ud800", "\udfff", "x\udcffy", "\x01", "a\x07b\x1b[31m",
             "\x7f", "\u2028", "\ufeff", "\u202eabc", "\U0001f4a5", "e\u0301", "a" * LONG, "x" * 5000, "..", ".", "/",
             "../x", "../../y", "a/b", "a\\b", "Annotations", "nonexistent.xml", "train.manifest", "content://",
             "<b>&amp;</b>", "]]>", "a,b", "a;b", "a\tb", '"', "'", "%s%n", "{}", "[]", "null", "true", "TRAIN",
             "train", "EVAL", "modelarts/object_detection", "modelarts/image_segmentation", "object_detection",
             "PASCAL VOC", "cat", " cat", "CAT", "\u732b", "-1", "1e400", "inf", "nan", "\u0663", "images/a.jpg")

#: raw JSON text for where a value belongs (what json.dumps cannot produce)
RAW_JSON = ("Infinity", "-Infinity", "NaN", "1e309", "-1e309", "1e-400", "-0", "1E400", BIG_400, "-" + BIG_400,
            BIG_5000, "123456789012345678901234567890", "4.9e-324", "18446744073709551616", "[" * DEEP + "]" * DEEP,
            '{"a":' * DEEP + "1" + "}" * DEEP, "[" * 70 + "]" * 70, '"\\ud800"', '"x\\udc00"', '"\\u0000"',
            '"a\\u0001b"', "[Infinity,0,1,1]", "[NaN,NaN,NaN,NaN]", f"[{BIG_400},0,1,1]", "[1e400,1,2,3]",
            f"[[{BIG_400},0,1,0,1,1]]", "[-0,-0,-0,-0]")
JSON_VALUES: tuple[Any, ...] = (
    None, True, False, 0, 1, -1, 0.5, -0.0, 2**63, -(2**63) - 1, 10**20, [], {}, [1], [[1]], [None], {"a": 1},
    ["x"] * 300, list(range(50)), [1, "a", None, [], {}], {"counts": [1], "size": [1, 1]}, [1, 2, 3, 4], [[1, 2]])

#: values that fit one key (``counts``, ``bbox``, ``id`` ...) badly
KEY_VALUES: dict[str, tuple[Any, ...]] = {
    "counts": ("", "0", "j035", "\x7f\x80", "PPPPPPPPPP", "~~~~", "a" * 5000 + "1", "0" * 20, "\u00e9\u00e9",
               [-1, 5], [1.5, 2.5], [10**12, 1], [1] * 5000, ["1", "2"], [None], [True, False], [2**64], [], [0],
               {"a": 1}, [80], [0, 80], [-80, 160]),
    "size": ([0, 0], [-1, 5], [5, -1], [10**9, 10**9], [2**31, 2**31], [1], [1, 2, 3], ["8", "10"], [8.5, 10],
             [True, 1], [None, None], "8x10", 80, {}, [[8], [10]], [10**20, 1], [], [0, 10], [8, 0]),
    "bbox": ([], [1, 2, 3], [1, 2, 3, 4, 5], ["1", 2, 3, 4], [None] * 4, [True, 0, 1, 1], [-5, -5, -1, -1],
             [1e308, 1e308, 1e308, 1e308], [10**20, 0, 1, 1], [[1], 2, 3, 4], "0,0,1,1", {"x": 1}),
    "segmentation": ([], [[]], [[1, 2]], [[1, 2, 3, 4, 5]], [[1, 2, 3, 4, 5, 6, 7]], [[1, "2", 3, 4, 5, 6]],
                     [1, 2, 3, 4, 5, 6], {"counts": "", "size": [0, 0]}, {"counts": []}, {"size": [8, 10]},
                     {"counts": [80], "size": [8, 10]}, {"counts": [0, 80], "size": [8, 10]},
                     {"counts": "0", "size": [10**5, 10**5]}, {"counts": [1, 2], "size": [2]}, "abc", 5,
                     [[1e308, 1e308, -1e308, 1e308, 0, 0]], {"counts": None, "size": None}, [{"counts": [1]}]),
    "id": ([1], {"id": 1}, [], {}, None, True, 1.0, 1.5, "1", " 1", -1, 2**64, [1, 2], [[1]], 10**30),
    "width": (0, -1, 10**9, 10**10, 2**31, 1.5, "10", None, True, [10], 10**30, 10**100),
    "name": ("", " ", "\x01", "a\x00b", "\ud800", "x\udcffy", "a" * LONG, "../../y", "/", ".", "a/b", "\n", "a\nb",
             "<", "&", "]]>", 5, None, [], {}, "cat", "dog", "\u732b", "\ufeff"),
    "property": ('{"a": 1}', '{"a": ' * DEEP + "1" + "}" * DEEP, "[" * DEEP + "]" * DEEP, "[1]", '"x"', "{",
                 '{"@modelarts:start_index": "x"}', {"@modelarts:start_index": "1"},
                 {"@modelarts:start_index": 10**20, "@modelarts:end_index": -1}, {"@modelarts:from": 5},
                 {"@modelarts:content": ["x"]}, {"@modelarts:shape": "bndbox", "@modelarts:feature": [[1, 2]]},
                 {"@modelarts:shape": "circle", "@modelarts:feature": "x"}, [], 5, '{"a": NaN}', '{"a": 1e400}'),
    "index": (-1, 10**20, "3", 3.5, None, [], True, 2**63, 100, -(10**20)),
    "time": ("", "99:99:99", "00:00:01", "1e400", "00:00:-1", "nan", "00:00:01.5.5", "0:0:0", 5, None, "\u0661:00:00"),
    "type": ("", "modelarts/", "modelarts/object_detection", "modelarts/image_segmentation", "modelarts/text_entity",
             "modelarts/text_triplet", "modelarts/audio_segmentation", "modelarts/audio_content",
             "modelarts/image_classification", "text_classification", "sound_classification", "modelarts/x", 5, None,
             [], {}, "MODELARTS/OBJECT_DETECTION"),
    "usage": ("", "TRAIN", "train", "EVAL", "TEST", "INFERENCE", "x", 5, None, [], "\u0130"),
    "reasons": ("", "1-", "-1", "1--2", "a-b", "9" * 400, "9" * 5000, "1-2-3", [1, 2], [-1], ["1"], 5, "\u0663",
                [10**30]),
    "number": ("true", "TRUE ", "yes", 1, 0, "nan", -1, 2, None, 10**30, 1e308, -1e-308, [0.5]),
    "loc": ("", ".", "..", "./", "/", "Annotations", "Annotations/", "./Annotations/missing.xml", "a\x00.xml",
            "\ud800.xml", "x\udcff.xml", "a\nb.xml", "train.manifest", "./train.manifest", "x" * 5000,
            "Annotations/b.xml", "./images/a.jpg", "content://x", 5, None, []),
}
KEY_CLASS = {
    "counts": "counts", "size": "size", "bbox": "bbox", "segmentation": "segmentation",
    "id": "id", "image_id": "id", "category_id": "id", "license": "id",
    "width": "width", "height": "width", "area": "width", "iscrowd": "width", "num_keypoints": "width",
    "name": "name", "file_name": "name", "supercategory": "name", "source": "name", "annotated-by": "name",
    "property": "property", "attributes": "property",
    "@modelarts:start_index": "index", "@modelarts:end_index": "index",
    "@modelarts:start_time": "time", "@modelarts:end_time": "time",
    "type": "type", "usage": "usage", "hard-reasons": "reasons", "hard_reasons": "reasons",
    "hard": "number", "hard-coefficient": "number", "confidence": "number", "score": "number",
    "hard_coefficient": "number", "truncated": "number", "difficult": "number", "sample-type": "number",
    "annotation-loc": "loc", "annotation_loc": "loc", "inference-loc": "loc",
}
MANIFEST_KEYS = ("source", "usage", "id", "inference-loc", "inference_loc", "hard", "hard-coefficient",
                 "hard_coefficient", "hard-reasons", "hard_reasons", "property", "source-type", "sample-type",
                 "source-map", "annotation", "type", "name", "annotation-loc", "annotation_loc", "annotation-format",
                 "annotation_format", "annotated-by", "creation-time", "confidence", "annotation-loc-map",
                 "@modelarts:start_index", "@modelarts:end_index", "@modelarts:from", "@modelarts:to",
                 "@modelarts:content", "@modelarts:start_time", "@modelarts:end_time", "@modelarts:source")
COCO_KEYS = ("images", "annotations", "categories", "info", "licenses", "id", "image_id", "category_id", "bbox",
             "area", "iscrowd", "segmentation", "attributes", "score", "pose", "truncated", "occluded", "difficult",
             "hard_coefficient", "hard_reasons", "mask_color", "file_name", "width", "height", "usage", "name",
             "supercategory", "counts", "size", "keypoints")

VOC_TAGS = ("annotation", "folder", "filename", "source", "database", "size", "width", "height", "depth",
            "segmented", "mask_source", "object", "name", "pose", "truncated", "occluded", "difficult", "confidence",
            "hard-coefficient", "difficult-coefficient", "hard-reasons", "mask_color", "properties", "property",
            "key", "value", "part", "bndbox", "xmin", "ymin", "xmax", "ymax", "polygon", "polyline", "line", "dashed",
            "circle", "point", "cx", "cy", "r", "x", "y", "x1", "y1", "x2", "y2", "x0", "y0", "x99999",
            "x" + "9" * 400, "x" + "9" * 5000, "y3", "vendor")
XML_EMPTY_TAGS = frozenset({"name", "filename", "folder", "width", "height", "depth", "segmented", "key", "value",
                            "xmin", "ymin", "xmax", "ymax", "x1", "y1", "cx", "r", "difficult", "mask_source", "pose"})
#: raw bytes for an XML text node (most make the document ill-formed: a typed error is due)
XML_RAW = (b"&#1;", b"&#0;", b"&#xD800;", b"&#x110000;", b"&unknown;", b"&lt;", b"&amp;amp;", b"<![CDATA[5]]>",
           b"<!-- c -->5", b"<?pi x?>5", b"\xff", b"\xc3", b"\x00", b"\x01", b"]]>", b"\xed\xa0\x80", b"&#x9;5&#xA;",
           b"&#65;", b"<part>" * 20 + b"</part>" * 20, b"<x>" * 300 + b"</x>" * 300,
           b"<part>" * DEEP + b"</part>" * DEEP, b"<object/>" * 300)
XML_DECLS = (b'<?xml version="1.0" encoding="UTF-16"?>', b'<?xml version="1.0" encoding="ISO-8859-1"?>',
             b'<?xml version="1.0" encoding="GBK"?>', b'<?xml version="1.0" encoding="bogus-enc"?>',
             b'<?xml version="1.1"?>', b'<?xml version="2.0"?>', b'<?xml version="1.0" standalone="maybe"?>',
             b"\xef\xbb\xbf", b"\xff\xfe", b"", b"  \n")
XML_DOCTYPES = (b'<!DOCTYPE annotation [<!ENTITY a "b">]>', b'<!DOCTYPE annotation SYSTEM "nope.dtd">',
                b'<!DOCTYPE annotation [<!ENTITY x SYSTEM "file:///nonexistent">]>',
                b'<!DOCTYPE annotation [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>')

#: tokens for line formats (YOLO labels, CSV cells, size tables, name lists)
TOKENS: tuple[bytes, ...] = tuple(t.encode("utf-8", "surrogatepass") for t in NUM_TEXTS + STR_TEXTS[:18]) + (
    b"\xff", b"\xed\xa0\x80", b"\x00", b"\xc0\x80", b"\xfe\xff", b"\x80abc", b"cat", b"dog", b"3", b"0.5", b"\r")
LINES: tuple[bytes, ...] = (b"", b"   ", b"\r", b"#", b"# comment", b",,,,,,,", b"\t\t", b"\x00", b"\xff\xfe\x00",
                            b'"', b'"unterminated,1,2', b"a" * LONG, b'"' + b"a" * LONG + b'"', b"1 " * 10000,
                            b"0 0.5 0.5 0.1", b"0 " + b"0.5 " * 7, b"-1 0.5 0.5 0.1 0.1", b"99 0.5 0.5 0.1 0.1",
                            b"0 nan nan nan nan", b"0 inf 0.5 1e309 0.1", b"classes = -1", b"names = ../../x",
                            b"names = nonexistent.names", b"names = ", b"a.jpg,1", b"a.jpg", b"a.jpg,-1,-1",
                            b"a.jpg,1e400,5", b"a.jpg," + BIG_5000.encode() + b",5", b"\xef\xbb\xbfx")

#: values for ``names:`` in data.yaml
YAML_NAMES = ("{0: a, x: b}", "{.inf: a}", "{-.inf: a}", "{.nan: a}", "{99999999999999999999: a}", "{1e400: a}",
              "{null: a}", "{true: a, false: b}", "{0: a, 0: b}", "{-1: a}", "{0x10: a}", "{0o7: a}", "{1_0: a}",
              "{'0': a, 1: b}", "{'\u0663': a}", "{0: [a, b]}", "{0: {x: y}}", "{0: null}", "{2001-01-01: a}",
              "{0: !!binary aGk=}", "{" + BIG_400 + ": a}", "{" + BIG_5000 + ": a}", "{1.5: a}", "{'1.5': a}",
              "[a, [b, c]]", "[{a: b}]", "[null, ~]", "[!!binary aGk=]", "a", "5", "null", "[]", "{}",
              "!!set {a, b}", "!!omap [a: 1, b: 2]", "!!python/object:os.system ['x']", "!!python/name:os.system",
              '["\\ud800"]', '["\\0"]', '["\\x01"]', '["a\\tb"]', '["\\u202e"]', "[' ']", "['']",
              "[" * DEEP + "]" * DEEP, "{a: " * 200 + "1" + "}" * 200, "&a [x, *a]", "[*undefined]",
              "[.inf, .nan, -.inf]", "[" + BIG_5000 + "]", "['../../x', '/abs']", '["' + "a" * 5000 + '"]')
#: a small YAML alias bomb: 6 levels x 6 = 46,656 leaves if expanded (harmless), 6 x 6 x 7 bytes if not
ALIAS_BOMB = ('a: &a ["x","x","x","x","x","x"]\n'
              + "".join(f"{n}: &{n} [{','.join(['*' + p] * 6)}]\n" for p, n in zip("abcde", "bcdef"))
              + "names: [*f,*f,*f,*f,*f,*f]\n")
YAML_DOCS = ("", "---", "[]", "- a\n- b\n", "just text", "names: [a", "names: {a: 1", "\t names: [a]",
             "names: [a]\nnames: [b]\n", "%YAML 1.3\n---\nnames: [a]\n", "names: [a]\n...\n--- \nnames: [b]\n",
             "{" * DEEP + "}" * DEEP, "- " * 300 + "a\n", "names: [a]\n" + "x: " + "[" * DEEP + "]" * DEEP + "\n",
             ALIAS_BOMB, "names: !!str\n", "? [a]\n: b\n", "names: *x\n", "<<: {names: [a]}\n",
             "path: ../..\nnames: [a]\n", "names: [a]\nnc: .inf\n", "nc: " + BIG_5000 + "\nnames: [a]\n",
             "names: |\n  a\n  b\n")

#: extra run options per writer: a case picks one set for each
WRITER_OPTIONS: dict[str, tuple[dict[str, Any], ...]] = {
    "manifest": ({}, {"write_voc": True}, {"locs": "keep"}),
    "coco": ({}, {"indent": 1}, {"circle_vertices": 3}),
    "modelarts-yolo": ({}, {"task": "segment"}, {"write_sizes": True}),
    "yolo": ({}, {"task": "segment"}, {"layout": "darknet"}, {"layout": "flat", "write_sizes": True},
             {"write_sizes": True, "precision": 2}),
    "csv": ({}, {"task": "detect"}, {"task": "classify"}),
    "voc": ({}, {"pixel_base": 1}, {"keep_extra": True}, {"layout": "flat"}, {"integer": False}, {"_xml": True}),
    "modelarts-text-classification": ({}, {"name": "out"}),
}


def _writers() -> tuple[str, ...]:
    from mafmt import converters

    return tuple(converters.FORMATS)


WRITERS = _writers()
#: the ops a case can run besides ``read`` (a CI case runs a rotating few of them)
ROTATING_OPS = (*(f"convert:{w}" for w in WRITERS), "validate")


# --------------------------------------------------------------------------- mutation helpers


def show(value: Any, limit: int = 60) -> str:
    """A short readable form of a (possibly huge) mutated value for descriptions."""
    if isinstance(value, (str, bytes)) and len(value) > limit:
        for unit_len in (1, 2, 3, 5, 6, 7):
            unit = value[:unit_len]
            n = len(value) // unit_len
            if n > 8 and value[: unit_len * n] == unit * n:
                rest = value[unit_len * n:]
                return f"{unit!r}*{n}" + (f"+{show(rest, limit // 2)}" if rest else "")
        return repr(value[: limit // 2]) + f"...({len(value)} {'chars' if isinstance(value, str) else 'bytes'})"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**15:
        return f"<{len(str(abs(value)))}-digit int>"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Raws:
    """Placeholders for raw text spliced in after serialising (deep nesting, NaN, 5,000 digits)."""

    def __init__(self) -> None:
        self.items: list[bytes] = []

    def add(self, raw: str | bytes) -> str:
        self.items.append(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
        return f"@@MAFMTRAW{len(self.items) - 1}@@"

    def splice(self, data: bytes, quoted: bool) -> bytes:
        for i, raw in enumerate(self.items):
            mark = f"@@MAFMTRAW{i}@@".encode()
            data = data.replace(b'"' + mark + b'"' if quoted else mark, raw)
        return data


#: keys whose values are names, ids, paths or the main lists: emptied by the ``empty`` mutation
EMPTY_KEYS = frozenset({"name", "id", "file_name", "image_id", "category_id", "source", "type", "annotation-loc",
                        "annotation_loc", "supercategory", "usage", "images", "annotations", "categories", "annotation",
                        "bbox", "segmentation", "counts", "size", "width", "height", "property"})


def _json_paths(doc: Any) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = [()]
    stack: list[tuple[tuple[Any, ...], Any]] = [((), doc)]
    while stack:
        path, value = stack.pop()
        items: Iterable[tuple[Any, Any]]
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        for k, child in items:
            out.append((*path, k))
            stack.append(((*path, k), child))
    return out


def _json_get(doc: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        doc = doc[k]
    return doc


def _json_where(path: tuple[Any, ...]) -> str:
    return "$" + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path)


def _nasty_json(rng: random.Random, key: Any, raws: _Raws) -> tuple[Any, str]:
    """A bad value for ``key`` (key-aware half of the time) and its description."""
    cls = KEY_CLASS.get(key) if isinstance(key, str) else None
    roll = rng.random()
    if cls is not None and roll < 0.5:
        value = rng.choice(KEY_VALUES[cls])
    elif roll < 0.7:
        raw = rng.choice(RAW_JSON)
        return raws.add(raw), show(raw)
    elif roll < 0.85:
        value = rng.choice(STR_TEXTS)
    else:
        value = rng.choice(JSON_VALUES)
    if isinstance(value, (list, dict)):
        value = copy.deepcopy(value)  # later in-place edits must not touch the catalogue
    return value, show(value)


def _mutate_json_doc(rng: random.Random, doc: Any, keys: tuple[str, ...], raws: _Raws) -> tuple[Any, str]:
    """One structural mutation of a parsed JSON value; returns the new value and a description."""
    paths = _json_paths(doc)
    path = rng.choice(paths)
    where = _json_where(path)
    parent: Any = _json_get(doc, path[:-1]) if path else None
    key = path[-1] if path else None
    node = _json_get(doc, path)
    action = rng.choices(("replace", "wrap", "delete", "dup", "swap", "insert", "rename", "strings", "empty"),
                         (40, 8, 10, 8, 7, 13, 5, 9, 10))[0]
    if action == "empty":  # empty names, ids, paths and lists
        named = [p for p in paths if p and p[-1] in EMPTY_KEYS]
        if not named:
            return _mutate_json_doc(rng, doc, keys, raws)
        present = sorted({str(p[-1]) for p in named})  # each key as likely however often it occurs; names more
        empty_key = rng.choices(present, [3 if k in ("name", "file_name", "source") else 1 for k in present])[0]
        path = rng.choice([p for p in named if p[-1] == empty_key])
        value: Any = "" if rng.random() < 0.4 else copy.copy(rng.choice((" ", None, [], {}, 0, "\t")))
        _json_get(doc, path[:-1])[path[-1]] = value
        return doc, f"{_json_where(path)} = {show(value)} (empty)"
    if action == "replace" or parent is None and action in ("delete", "dup", "swap", "rename"):
        value, desc = _nasty_json(rng, key if not isinstance(key, int) or len(path) < 2 else path[-2], raws)
        if parent is None:
            return value, f"{where} = {desc}"
        parent[key] = value
        return doc, f"{where} = {desc}"
    if action == "wrap":
        value = rng.choice(([node], {"id": node}, [[node]], {"": node}, [node, node]))
        if parent is None:
            return value, f"{where} wrapped: {show(value)}"
        parent[key] = value
        return doc, f"{where} wrapped in {type(value).__name__}"
    if action == "delete":
        del parent[key]
        return doc, f"{where} deleted"
    if action == "dup":
        n = rng.choice((2, 3, 10, 100))
        if isinstance(parent, list):
            parent[key:key + 1] = [node] * n
            return doc, f"{where} repeated x{n}"
        if isinstance(node, list) and node:
            node.extend([node[-1]] * n)
            return doc, f"{where}: last item repeated x{n}"
        return _mutate_json_doc(rng, doc, keys, raws)
    if action == "swap":
        other = rng.choice(paths)
        if other[: len(path)] == path or path[: len(other)] == other:
            return _mutate_json_doc(rng, doc, keys, raws)
        value = _json_get(doc, other)
        parent[key] = value
        return doc, f"{where} = value of {_json_where(other)} ({show(value, 30)})"
    if action == "insert":
        target = node if isinstance(node, dict) else parent if isinstance(parent, dict) else None
        if target is None:
            return _mutate_json_doc(rng, doc, keys, raws)
        new_key = rng.choice(keys + tuple(k for k in target if isinstance(k, str)))
        value, desc = _nasty_json(rng, new_key, raws)
        target[new_key] = value
        return doc, f"{where}.{new_key} = {desc}"
    if action == "rename":
        if not isinstance(parent, dict):
            return _mutate_json_doc(rng, doc, keys, raws)
        new_key = rng.choice(keys + ("", "\ud800", "a\x00b", "x" * 300, key.upper() if isinstance(key, str) else "K"))
        parent[new_key] = parent.pop(key)
        return doc, f"{where} renamed to {show(new_key)}"
    # strings: edit the text of a string node (property strings are JSON in JSON)
    if not isinstance(node, str):
        strings = [p for p in paths if isinstance(_json_get(doc, p), str)]
        if not strings:
            return _mutate_json_doc(rng, doc, keys, raws)
        path = rng.choice(strings)
        return _edit_string(rng, doc, path, keys, raws)
    return _edit_string(rng, doc, path, keys, raws)


def _edit_string(rng: random.Random, doc: Any, path: tuple[Any, ...], keys: tuple[str, ...],
                 raws: _Raws) -> tuple[Any, str]:
    text = _json_get(doc, path)
    where = _json_where(path)
    inner: Any = None
    if text[:1] in "{[":
        with contextlib.suppress(ValueError, RecursionError):
            inner = json.loads(text)
    if inner is not None and rng.random() < 0.7:
        inner_raws = _Raws()
        inner, desc = _mutate_json_doc(rng, inner, keys, inner_raws)
        new = inner_raws.splice(json.dumps(inner).encode("utf-8", "surrogatepass"), True).decode("utf-8", "surrogatepass")
        desc = f"{where} (JSON in a string): {desc}"
    else:
        piece = rng.choice(("\x00", "\ud800", "\udcff", "\x01", "\x1b", "\n", "\r", "\t", "\u2028", "\ufeff", '"',
                            "\\", "/", "../", "<", "&", ";", ",", " ", "\u0301", "\U0001f4a5", "a" * LONG, "%"))
        pos = rng.randint(0, len(text))
        new = text[:pos] + piece + text[pos:]
        desc = f"{where}: {show(piece)} inserted at {pos}"
    if path:
        _json_get(doc, path[:-1])[path[-1]] = new
        return doc, desc
    return new, desc


def _dump_json(rng: random.Random, doc: Any, raws: _Raws, indent: int | None) -> bytes:
    ascii_only = rng.random() < 0.85
    text = json.dumps(doc, ensure_ascii=ascii_only, indent=indent, separators=None if indent else (",", ":"))
    return raws.splice(text.encode("utf-8", "surrogatepass"), True)


def _parse_json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return None


_NOT_PARSED = object()


def mut_json(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """A structural mutation of a JSON document (COCO)."""
    doc = _parse_json(data)
    if doc is None:
        return None
    raws = _Raws()
    doc, desc = _mutate_json_doc(rng, doc, COCO_KEYS, raws)
    return _dump_json(rng, doc, raws, 1 if rng.random() < 0.8 else None), desc


def mut_jsonl(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """A line-level or structural mutation of one JSON Lines record (manifest)."""
    lines = data.split(b"\n")
    full = [i for i, ln in enumerate(lines) if ln.strip()]
    if not full:
        return None
    i = rng.choice(full)
    action = rng.choices(("value", "delete", "dup", "swap", "insert"), (70, 6, 8, 4, 12))[0]
    if action == "value":
        raw_line = lines[i]
        bom = raw_line.startswith(b"\xef\xbb\xbf")
        cr = raw_line.endswith(b"\r")
        doc = _parse_json(raw_line.strip(b"\r"))
        if doc is None:
            return None
        raws = _Raws()
        doc, desc = _mutate_json_doc(rng, doc, MANIFEST_KEYS, raws)
        new = _dump_json(rng, doc, raws, None)
        lines[i] = (b"\xef\xbb\xbf" if bom else b"") + new + (b"\r" if cr else b"")
        return b"\n".join(lines), f"line {i + 1}: {desc}"
    if action == "delete":
        del lines[i]
        return b"\n".join(lines), f"line {i + 1} deleted"
    if action == "dup":
        n = rng.choice((2, 5, 50))
        lines[i:i + 1] = [lines[i]] * n
        return b"\n".join(lines), f"line {i + 1} repeated x{n}"
    if action == "swap":
        j = rng.choice(full)
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines), f"lines {i + 1} and {j + 1} swapped"
    new = rng.choice((b"[1]", b'"x"', b"1", b"null", b"{}", b'{"source": null}', b"[" * DEEP + b"]" * DEEP,
                      b'{"source":"a","annotation":' + b"[" * DEEP + b"]" * DEEP + b"}",
                      b'{"source":"x","property":"' + b"[" * DEEP + b"]" * DEEP + b'"}',
                      b'{"source":"x","property":' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}",
                      b"\xff\xfe", b"{", b'{"source":"a"}{"source":"b"}', b'{"source":"a","source":"b"}',
                      b'{"source":"' + b"a" * LONG + b'"}', b'{"source":"a.jpg","hard-coefficient":NaN}',
                      b'{"source":"a.jpg","id":' + BIG_5000.encode() + b"}", b'{"source":"\\ud800"}',
                      (b'{"source":"a.jpg","annotation":[{"type":"modelarts/object_detection","annotation-loc":"'
                      b'\\u0000"}]}'), b"   ", b"\r", b"\x00", b"\xef\xbb\xbf{}"))
    lines.insert(i, new)
    return b"\n".join(lines), f"line {show(new)} inserted before line {i + 1}"


def _xml_parser() -> Any:
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def mut_xml(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """A structural mutation of an XML document (VOC)."""
    from lxml import etree

    try:
        root = etree.fromstring(data, _xml_parser())
    except (etree.XMLSyntaxError, ValueError):
        return None
    els = [e for e in root.iter() if isinstance(e.tag, str)]
    el = rng.choice(els)
    parent = el.getparent()
    raws = _Raws()
    action = rng.choices(("text", "raw", "delete", "dup", "many", "rename", "move", "add", "attr", "nest", "ns",
                          "root", "doctype", "decl", "swap", "empty"),
                         (30, 10, 8, 9, 2, 7, 4, 9, 3, 4, 2, 1, 2, 3, 4, 4))[0]
    desc: str
    if action == "empty":  # an empty name, file name, size or coordinate
        named = [e for e in els if e.tag in XML_EMPTY_TAGS]
        if not named:
            return None
        el = rng.choice(named)
        el.text = rng.choice(("", " ", None, "\n\t"))
        desc = f"<{el.tag}> emptied ({show(el.text)})"
    elif action == "text":
        value = rng.choice(NUM_TEXTS) if rng.random() < 0.6 else rng.choice(STR_TEXTS)
        try:
            el.text = value
        except ValueError:  # not XML text (control characters, NUL, surrogates): spliced in raw
            el.text = raws.add(value)
        desc = f"<{el.tag}> text = {show(value)}"
    elif action == "raw":
        raw = rng.choice(XML_RAW)
        el.text = raws.add(raw)
        desc = f"<{el.tag}> text = raw {show(raw)}"
    elif action == "delete" and parent is not None:
        parent.remove(el)
        desc = f"<{el.tag}> deleted"
    elif action == "dup" and parent is not None:
        n = rng.choice((2, 3, 10, 50))
        for _ in range(n - 1):
            el.addnext(copy.deepcopy(el))
        desc = f"<{el.tag}> repeated x{n}"
    elif action == "many":
        n = rng.choice((100, 300, 1000))
        root.extend(etree.Element("object") for _ in range(n))
        desc = f"{n} empty <object/> appended"
    elif action == "rename":
        new, old = rng.choice(VOC_TAGS), el.tag
        el.tag = new
        desc = f"<{old}> renamed to <{show(new, 20)}>"
    elif action == "move" and parent is not None:
        others = [o for o in els if o is not el and el not in o.iterancestors() and o not in el.iter()]
        if not others:
            return None
        dest = rng.choice(others)
        dest.append(el)
        desc = f"<{el.tag}> moved into <{dest.tag}>"
    elif action == "add":
        tag = rng.choice(VOC_TAGS)
        child = etree.SubElement(el, tag)
        value = rng.choice(NUM_TEXTS) if rng.random() < 0.5 else rng.choice(STR_TEXTS)
        try:
            child.text = value
        except ValueError:
            child.text = raws.add(value)
        desc = f"<{show(tag, 20)}>{show(value)}</...> added to <{el.tag}>"
    elif action == "attr":
        name = rng.choice(("a", "id", "lang", "type", "verified"))
        value = rng.choice(STR_TEXTS[:40])
        try:
            el.set(name, value)
        except ValueError:
            return None
        desc = f"<{el.tag} {name}={show(value)}>"
    elif action == "nest":
        n = rng.choice((15, 16, 17, 40, 300, DEEP))
        ntag = rng.choice((b"part", b"object", b"x", b"properties"))
        el.text = raws.add((b"<" + ntag + b">") * n + (b"</" + ntag + b">") * n)
        desc = f"<{ntag.decode()}> nested {n} deep inside <{el.tag}>"
    elif action == "ns":
        el.tag = "{urn:fuzz}" + el.tag
        desc = f"<{el.tag}> put in a namespace"
    elif action == "root":
        root.tag = rng.choice(("annotations", "Annotation", "voc", "object", "x"))
        desc = f"root renamed to <{root.tag}>"
    elif action == "swap":
        other = rng.choice(els)
        el.text, other.text = other.text, el.text
        desc = f"texts of <{el.tag}> and <{other.tag}> swapped"
    elif action in ("doctype", "decl"):
        pass
    else:
        return None
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    body = raws.splice(body, False)
    if action == "doctype":
        dt = rng.choice(XML_DOCTYPES)
        return b'<?xml version="1.0"?>\n' + dt + b"\n" + body, f"{show(dt)} added"
    if action == "decl":
        decl = rng.choice(XML_DECLS)
        return decl + b"\n" + body, f"declaration {show(decl)}"
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n' if rng.random() < 0.8 else b""
    return head + body, desc


def mut_yaml(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """A YAML-aware mutation of a ``data.yaml``: bad ``names``, whole bad documents, extra keys."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # bytes mutated before: byte-level mutations only
        return None
    action = rng.choices(("names", "doc", "key"), (55, 30, 15))[0]
    if action == "names":
        value = rng.choice(YAML_NAMES)
        new, n = re.subn(r"(?ms)^names:.*?(?=^\S|\Z)", lambda m: f"names: {value}\n", text)
        if not n:
            new = text + f"names: {value}\n"
        return new.encode("utf-8", "surrogatepass"), f"names: {show(value)}"
    if action == "doc":
        doc = rng.choice(YAML_DOCS)
        return doc.encode(), f"document = {show(doc)}"
    key = rng.choice(("nc", "path", "train", "val", "test", "names", "download", "x"))
    value = rng.choice(NUM_TEXTS[:30] + STR_TEXTS[:30])
    line = f"{key}: {json.dumps(value) if rng.random() < 0.5 else value}\n"
    return (text + line).encode("utf-8", "surrogatepass"), f"line added: {show(line)}"


_DELIMS = {"yolo": b" ", "csv": b",", "kv": b" = ", "text": b"\t", "lines": b" "}


def mut_lines(rng: random.Random, data: bytes, kind: str) -> tuple[bytes, str] | None:
    """A line or token mutation of a line-oriented text file (labels, tables, lists)."""
    lines = data.split(b"\n")
    delim = _DELIMS[kind]
    full = [i for i, ln in enumerate(lines) if ln.strip()] or [0]
    i = rng.choice(full)
    action = rng.choices(("token", "drop", "extra", "dup", "delete", "swap", "insert", "long", "quote"),
                         (38, 10, 7, 10, 7, 4, 14, 5, 5))[0]
    cells = lines[i].split(delim)
    if kind == "text" and len(cells) == 1:
        cells = lines[i].split(b",")
        delim = b","
    j = rng.randrange(len(cells))
    if action == "token":
        tok = rng.choice(TOKENS)
        cells[j] = tok
        lines[i] = delim.join(cells)
        desc = f"line {i + 1} field {j + 1} = {show(tok)}"
    elif action == "drop" and len(cells) > 1:
        del cells[j]
        lines[i] = delim.join(cells)
        desc = f"line {i + 1}: field {j + 1} removed (short row)"
    elif action == "extra":
        n = rng.choice((1, 2, 50))
        cells[j:j] = [rng.choice(TOKENS)] * n
        lines[i] = delim.join(cells)
        desc = f"line {i + 1}: {n} extra field(s)"
    elif action == "dup":
        n = rng.choice((2, 3, 20, 200))
        lines[i:i + 1] = [lines[i]] * n
        desc = f"line {i + 1} repeated x{n}"
    elif action == "delete":
        del lines[i]
        desc = f"line {i + 1} deleted"
    elif action == "swap":
        k = rng.choice(full)
        lines[i], lines[k] = lines[k], lines[i]
        desc = f"lines {i + 1} and {k + 1} swapped"
    elif action == "insert":
        new = rng.choice(LINES)
        lines.insert(i, new)
        desc = f"line {show(new)} inserted before line {i + 1}"
    elif action == "long":
        cells[j] = rng.choice((b"a" * LONG, b'"' + b"b" * LONG + b'"'))
        lines[i] = delim.join(cells)
        desc = f"line {i + 1} field {j + 1}: {LONG}-char value"
    elif action == "quote":
        pos = rng.randint(0, len(lines[i]))
        lines[i] = lines[i][:pos] + b'"' + lines[i][pos:]
        desc = f"line {i + 1}: stray quote at {pos}"
    else:
        return None
    return b"\n".join(lines), desc


_INTERESTING = (0x00, 0xFF, 0x80, 0x7F, 0x22, 0x3C, 0x3E, 0x0A, 0x0D, 0x2C, 0x20, 0x09, 0x5B, 0x7B, 0x30, 0x39,
                0x2D, 0x2E, 0x26, 0x5C)
_BYTE_INSERTS = (b"\x00", b"\xff", b"\xfe\xff", b"\xef\xbb\xbf", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80\x80", b"\r",
                 b"\r\n", b"\x1a", b"\x0b\x0c", b"\xe4\xb8", b"\\", b'"', b"<", b"&", b"\n\n\n")


def mut_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """A byte-level mutation (any file): flips, truncation, chunks, bad bytes, re-encoding."""
    n = len(data)
    action = rng.choices(("flip", "set", "truncate", "delete", "dup", "insert", "replace", "repeat", "encode"),
                         (20, 15, 12, 10, 10, 15, 8, 3, 5))[0]
    buf = bytearray(data)
    if action in ("flip", "set", "truncate", "delete", "dup") and n == 0:
        action = "insert"
    if action == "flip":
        k = rng.choice((1, 1, 2, 8))
        spots = [rng.randrange(n) for _ in range(k)]
        for p in spots:
            buf[p] ^= 1 << rng.randrange(8)
        return bytes(buf), f"{k} bit(s) flipped at {spots[:4]}"
    if action == "set":
        k = rng.choice((1, 2, 4))
        spots = [rng.randrange(n) for _ in range(k)]
        for p in spots:
            buf[p] = rng.choice(_INTERESTING) if rng.random() < 0.7 else rng.randrange(256)
        return bytes(buf), f"{k} byte(s) set at {spots[:4]}"
    if action == "truncate":
        p = rng.randrange(n)
        return data[:p], f"truncated to {p} bytes"
    if action == "delete":
        p = rng.randrange(n)
        k = rng.randint(1, max(1, min(64, n - p)))
        return data[:p] + data[p + k:], f"{k} bytes deleted at {p}"
    if action == "dup":
        p = rng.randrange(n)
        k = rng.randint(1, max(1, min(256, n - p)))
        q = rng.randint(0, n)
        return data[:q] + data[p:p + k] + data[q:], f"{k} bytes from {p} copied to {q}"
    if action == "insert":
        piece = rng.choice(_BYTE_INSERTS) if rng.random() < 0.8 else bytes(rng.randrange(256) for _ in range(8))
        p = rng.randint(0, n)
        return data[:p] + piece + data[p:], f"{show(piece)} inserted at {p}"
    if action == "replace":
        new = rng.choice((b"", b" ", b"\n", b"\xef\xbb\xbf", b"\x00" * 16, b"A" * LONG, b"\xff" * 64, PNG_SMALL))
        return new, f"content replaced by {show(new)}"
    if action == "repeat":
        k = rng.choice((2, 10, 50))
        if n * k > 2_000_000:
            return None
        return data * k, f"content repeated x{k}"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    enc = rng.choice(("utf-16", "utf-16-be", "utf-32", "gbk", "latin-1", "cp1252", "utf-7"))
    try:
        return text.encode(enc), f"re-encoded as {enc}"
    except UnicodeEncodeError:
        return None


NAME_PIECES = ("\udcff", "\udce9\udc80", "a\x01b", "a\nb", "a\tb", " ", "-", "%", "a;b", "a,b", "\u00e9", "\u732b",
               "\u202e", "\U0001f4a5", "x" * 200, ".hidden", "...", "#", "a b", "\\", "e\u0301", "\ufeff", "\r",
               "_result", "..", "~")
NEW_EXTS = (".JPG", ".jpeg", ".png", ".txt", ".xml", "", ".jpg.txt", ".txt.jpg", ".wav", ".Xml", ".")


def _layout_ok(files: Files, links: dict[str, str], dirs: list[str]) -> bool:
    names = [*files, *links]
    if len(set(names)) != len(names) or any(not n or n.startswith("/") or "//" in n for n in names):
        return False
    parents: set[str] = set()
    for n in [*names, *dirs]:
        parts = n.split("/")
        if any(not p or p in (".", "..") or len(os.fsencode(p)) > 255 for p in parts):
            return False
        parents.update("/".join(parts[:k]) for k in range(1, len(parts)))
    return not parents & set(names) and not set(dirs) & set(names)


def mut_paths(rng: random.Random, case: Case) -> str | None:
    """A file-name or layout mutation of a folder dataset: odd names, empty dirs, links, extra files."""
    names = sorted(case.files)
    if not names:
        return None
    action = rng.choices(("rename", "renamedir", "dir", "link", "add", "remove", "copy", "deep"),
                         (34, 14, 8, 8, 14, 10, 7, 5))[0]
    name = rng.choice(names)
    folder, _, base = name.rpartition("/")
    stem, ext = os.path.splitext(base)
    prefix = folder + "/" if folder else ""
    if action == "rename":
        piece = rng.choice(NAME_PIECES)
        how = rng.randrange(4)
        new_stem = (piece + stem, stem + piece, piece, stem)[how]
        new_ext = ext if rng.random() < 0.7 or how == 3 else rng.choice(NEW_EXTS)
        new = prefix + new_stem + new_ext
        case.files[new] = case.files.pop(name)
        return f"file {show(name)} renamed {show(new)}"
    if action == "renamedir":
        dirs = sorted({n.rsplit("/", 1)[0] for n in names if "/" in n})
        if not dirs:
            return None
        d = rng.choice(dirs)
        new_d = d.rsplit("/", 1)[0] + "/" + rng.choice(NAME_PIECES) if "/" in d else rng.choice(NAME_PIECES)
        for n in names:
            if n.startswith(d + "/"):
                case.files[new_d + n[len(d):]] = case.files.pop(n)
        return f"folder {show(d)} renamed {show(new_d)}"
    if action == "dir":
        new = prefix + rng.choice(("x.jpg", "x.txt", "x.xml", "Annotations", "labels", "x.wav", stem + ".txt"))
        case.dirs.append(new)
        return f"empty folder {show(new)} added"
    if action == "link":
        new = prefix + rng.choice(("loop", "self.jpg", "dangling.jpg", "dangling.txt", "dangling.xml"))
        dest = {"loop": ".", "self.jpg": "self.jpg"}.get(new.rsplit("/", 1)[-1], "nowhere" + ext)
        case.links[new] = dest
        return f"symlink {show(new)} -> {dest}"
    if action == "add":
        new, data = rng.choice(((prefix + "z.jpg", b""), (prefix + "z.jpg", PNG[:20]), (prefix + "z.png", b"<x/>"),
                                (prefix + stem + ".png", PNG_SMALL), (prefix + "z.txt", b"label\n"),
                                (prefix + stem + ".txt", b"cat\n"), (prefix + "z.xml", VOC_RICH[:300]),
                                (prefix + stem + ".xml", _voc_plain(base, [("x", 0, 0, 1, 1)])),
                                (prefix + "z_result.txt", b"a\n"), (prefix + "z.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20)))
        case.files[new] = data
        return f"file {show(new)} added ({show(data, 20)})"
    if action == "remove":
        del case.files[name]
        return f"file {show(name)} removed"
    if action == "copy":
        new = prefix + rng.choice(("copy_", "")) + stem + rng.choice(NEW_EXTS)
        case.files[new] = case.files[name]
        return f"file {show(name)} copied to {show(new)}"
    depth = rng.choice((5, 40, 120))
    new = "/".join(["d"] * depth) + "/" + base
    case.files[new] = case.files.pop(name)
    return f"file {show(name)} moved {depth} folders deep"


# --------------------------------------------------------------------------- cases


@dataclass(slots=True)
class Case:
    """One mutated dataset and the options it is run with (see :func:`make_case`)."""

    target: str
    seed: int
    case_id: int
    fmt: str
    files: Files
    links: dict[str, str] = field(default_factory=dict)
    dirs: list[str] = field(default_factory=list)
    mutations: list[str] = field(default_factory=list)
    detect: bool = False
    on_error: str = "raise"
    images: bool = False
    size_table: bool = False
    writer_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the ``convert:<writer>`` / ``validate`` ops this case runs (None: all; see :func:`make_case`)
    rotation: tuple[str, ...] | None = None

    def digest(self) -> str:
        """A fingerprint of everything the case runs with."""
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode("utf-8", "surrogatepass") + b"\0" + hashlib.sha256(self.files[name]).digest())
        h.update(repr((sorted(self.links.items()), self.dirs, self.fmt, self.detect, self.on_error, self.images,
                       self.size_table, sorted((k, sorted(v.items())) for k, v in self.writer_options.items())))
                 .encode("utf-8", "surrogatepass"))
        return h.hexdigest()[:16]


_UNSAFE = re.compile(rb"(?i)(obs|s3a?)://")


def _safe(case: Case) -> bool:
    """Never a URI that would reach a network store; never more than a few MB."""
    total = 0
    for name, data in case.files.items():
        total += len(data)
        if (b"://" in data and _UNSAFE.search(data)) or _UNSAFE.search(name.encode("utf-8", "surrogatepass")):
            return False
    return total <= 4_000_000 and _layout_ok(case.files, case.links, case.dirs)


def _mutate(rng: random.Random, t: Target, case: Case) -> str | None:
    weights = {name: w for name, (_, w) in t.kinds.items() if name in case.files}
    total = sum(weights.values())
    if t.paths and rng.random() < t.paths / (t.paths + total) or not weights:
        return mut_paths(rng, case) if t.paths else None
    name = rng.choices(list(weights), list(weights.values()))[0]
    kind = t.kinds[name][0]
    data = case.files[name]
    structural = {"json": mut_json, "jsonl": mut_jsonl, "xml": mut_xml, "yaml": mut_yaml}.get(kind)
    result: tuple[bytes, str] | None = None
    roll = rng.random()
    if structural is not None and roll < 0.75:
        result = structural(rng, data)
    elif kind in _DELIMS and roll < 0.8:
        result = mut_lines(rng, data, kind)
    if result is None:
        result = mut_bytes(rng, data)
    if result is None:
        return None
    case.files[name] = result[0]
    return f"{name}: {result[1]}"


def rotation(case_id: int, k: int | None) -> tuple[str, ...] | None:
    """``k`` of the :data:`ROTATING_OPS` for case ``case_id``, rotating so that consecutive
    cases cover every writer (and ``validate``) evenly; None (all) when ``k`` is None."""
    n = len(ROTATING_OPS)
    if k is None or k >= n:
        return None
    return tuple(ROTATING_OPS[(case_id * k + j) % n] for j in range(max(0, k)))


def make_case(target: str, seed: int, case_id: int, per_case: int | None = None) -> Case:
    """The case ``case_id`` of ``target`` for ``seed``: always the same bytes and options.

    ``per_case`` limits the converts and ``validate`` to a rotating subset of
    :data:`ROTATING_OPS` (None: all of them); it never changes the mutated input.
    """
    t = TARGETS[target]
    rng = random.Random(f"mafmt-fuzz/{seed}/{target}/{case_id}")
    case = Case(target, seed, case_id, rng.choice(t.formats), seed_files(target))
    for _ in range(rng.choices((1, 2, 3), (6, 3, 1))[0]):
        for _attempt in range(10):
            before = (dict(case.files), dict(case.links), list(case.dirs))
            desc = _mutate(rng, t, case)
            if desc is not None and _safe(case):
                case.mutations.append(desc)
                break
            case.files, case.links, case.dirs = before
    case.detect = rng.random() < 0.1
    case.on_error = rng.choice(("raise", "skip"))
    case.images = rng.random() < 0.5
    case.size_table = "sizes.csv" in case.files and rng.random() < 0.3
    case.writer_options = {w: dict(rng.choice(WRITER_OPTIONS.get(w, ({},)))) for w in WRITERS}
    case.rotation = rotation(case_id, per_case)
    return case


# --------------------------------------------------------------------------- running a case


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`CaseTimeout` in the block after ``seconds`` of CPU time (main thread, POSIX;
    else no limit). CPU time, not wall time: a busy machine slows a case down without making it
    a finding; a case blocked without spending CPU is ended by the pool's wall-clock limit."""
    if seconds <= 0 or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def fire(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"over the budget of {seconds:g} s of CPU")

    old = signal.signal(signal.SIGPROF, fire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


@contextlib.contextmanager
def guard_writes(allowed: str) -> Iterator[None]:
    """Make every write through mafmt's local storage outside ``allowed`` raise :class:`PathEscape`."""
    from mafmt.storage import local

    original = local.LocalBackend.atomic_write
    root = os.path.realpath(allowed) + os.sep

    def guarded(self: Any, uri: str, append: bool) -> Any:
        try:
            real = os.path.realpath(os.path.abspath(uri))
        except (ValueError, UnicodeError):  # NUL or an unencodable name: the real call fails on its own
            real = root
        if not real.startswith(root):
            raise PathEscape(f"write outside the target folder: {uri!r}")
        return original(self, uri, append)

    local.LocalBackend.atomic_write = guarded  # type: ignore[method-assign]
    try:
        yield
    finally:
        local.LocalBackend.atomic_write = original  # type: ignore[method-assign]


def materialise(case: Case, root: str) -> str:
    """Write the case's files, folders and links under ``root``; returns the reader's path."""
    made: set[str] = set()
    for name, data in case.files.items():
        path = os.path.join(root, name)
        folder = os.path.dirname(path)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        with open(path, "wb") as fh:
            fh.write(data)
    for d in case.dirs:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for name, dest in case.links.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(dest, path)
    os.makedirs(root, exist_ok=True)
    return entry_path(case, root)


def writer_target(out: str, writer: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Where ``writer`` writes inside ``out`` and the options it is called with."""
    opts = dict(options)
    single_xml = opts.pop("_xml", False)
    folder = os.path.join(out, writer)
    if writer == "manifest":
        return os.path.join(folder, "train.manifest"), opts
    if writer == "coco":
        return os.path.join(folder, "instances.json"), opts
    if writer == "csv":
        return os.path.join(folder, "table.csv"), opts
    if writer == "voc" and single_xml:
        return os.path.join(folder, "one.xml"), opts
    return folder, opts


def _shared(case: Case, src_root: str) -> dict[str, Any]:
    return {"images": src_root if case.images else None,
            "size_table": os.path.join(src_root, "sizes.csv") if case.size_table else None}


def op_read(case: Case, path: str, shared: dict[str, Any], counter: list[int],
            reader: Callable[..., Iterable[Any]] | None = None) -> None:
    """Read every sample; load and touch every detection document."""
    from mafmt import converters
    from mafmt.converters._common import accepted
    from mafmt.model import Detection

    fmt = converters.detect(path) if case.detect else converters.get(case.fmt)
    read = reader or fmt.read
    for sample in read(path, on_error="raise", **accepted(fmt.read, shared)):
        counter[0] += 1
        for ann in sample.annotations:
            if isinstance(ann, Detection):
                for obj in ann.load().iter_objects():
                    if obj.shape is not None:
                        obj.shape.bbox()


def op_convert(case: Case, path: str, writer: str, out: str, shared: dict[str, Any]) -> None:
    """``mafmt convert`` into ``writer`` (fresh folder), with the case's options, as the CLI calls it."""
    from mafmt import converters
    from mafmt.converters._common import accepted

    src = converters.detect(path) if case.detect else converters.get(case.fmt)
    dst_fmt = converters.get(writer)
    dst, opts = writer_target(out, writer, case.writer_options.get(writer, {}))
    converters.convert(path, dst, src.name, dst_fmt.name, on_error=case.on_error,
                       read_options=accepted(src.read, shared), **accepted(dst_fmt.write, shared), **opts)


def op_validate(case: Case, path: str) -> None:
    """``mafmt validate``: every problem of the input."""
    from mafmt import converters
    from mafmt.validation import iter_errors

    fmt = converters.detect(path) if case.detect else converters.get(case.fmt)
    for _ in iter_errors(path, fmt.name):
        pass


def exc_name(exc: BaseException) -> str:
    """``TypeError``, ``_csv.Error``, ``yaml.constructor.ConstructorError``."""
    t = type(exc)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


_PROJECT_CACHE: dict[str, str | None] = {}
_THIS_FILE = os.path.realpath(__file__)


def project_file(filename: str) -> str | None:
    """``converters/coco.py`` for a frame in the project, else None."""
    if filename not in _PROJECT_CACHE:
        real = os.path.realpath(filename)
        _PROJECT_CACHE[filename] = (os.path.relpath(real, ROOT).replace(os.sep, "/")
                                    if real.startswith(PROJECT_DIRS) else None)
    return _PROJECT_CACHE[filename]


def clip(text: str, n: int = 300) -> str:
    """``text`` on one line, at most ``n`` characters."""
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= n else text[: n - 3] + "..."


def finding(op: str, kind: str, exc: BaseException) -> Finding:
    """A :class:`Finding` located at the innermost project frame of ``exc``'s traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    located = [(f, project_file(f.filename)) for f in frames]
    project = [(f, p) for f, p in located if p and not (kind == "escape" and p.startswith("mafmt/storage/"))]
    others = [f for f in frames if os.path.realpath(f.filename) != _THIS_FILE] or frames  # not our signal handler
    if project:
        frame, file = project[-1]
    elif others:
        frame, file = others[-1], os.path.basename(others[-1].filename)
    else:
        return Finding(op, kind, exc_name(exc), "?", 0, "?", clip(_message(exc)))
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-12))
    return Finding(op, kind, exc_name(exc), file or "?", frame.lineno or 0, frame.name,
                   clip(f"{exc_name(exc)}: {_message(exc)}"), tb[-6000:])


def _message(exc: BaseException) -> str:
    try:
        return str(exc)[:2000]
    except Exception:  # noqa: BLE001 - an exception whose str() fails still gets reported
        return "<unprintable>"


def _run_op(res: CaseResult, op: str, budget: float, fn: Callable[[], None]) -> str:
    from mafmt.errors import MafmtError

    try:
        with deadline(budget):
            fn()
        outcome = "ok"
    except MafmtError:
        outcome = "error"
    except CaseTimeout as exc:
        res.findings.append(finding(op, "timeout", exc))
        outcome = "timeout"
    except PathEscape as exc:
        res.findings.append(finding(op, "escape", exc))
        outcome = "escape"
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - anything else is what the fuzzer looks for
        res.findings.append(finding(op, "crash", exc))
        outcome = "crash"
    res.outcomes[op] = outcome
    return outcome


def _maxrss_mb() -> float:
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return 0.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def expand_ops(ops: Iterable[str], subset: Iterable[str] | None = None) -> list[str]:
    """``convert`` -> ``convert:<writer>`` for every writer; with ``subset``, the converts and
    ``validate`` not in it are left out."""
    keep = None if subset is None else set(subset)
    out: list[str] = []
    for op in ops:
        for one in ([f"convert:{w}" for w in WRITERS] if op == "convert" else [op]):
            if keep is None or one not in ROTATING_OPS or one in keep:
                out.append(one)
    return out


DEFAULT_OPS = ("read", "convert", "validate")


class Workspace:
    """Where cases run: one input folder per target, brought to each case's exact content with
    the fewest file operations (a case changes one or two files of its seed; file creation
    and removal dominate the cost of a case on a disk), and a fresh output folder per case."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._state: dict[str, tuple[Files, dict[str, str], set[str]]] = {}
        self._trash: Any = None

    def input(self, case: Case) -> str:
        """The input folder of ``case.target``, holding exactly the case's files; returns the root."""
        root = os.path.join(self.base, "in-" + case.target)
        try:
            self._sync(root, case)
        except OSError:
            self._state.pop(case.target, None)
            shutil.rmtree(root, ignore_errors=True)
            materialise(case, root)
            self._state[case.target] = (dict(case.files), dict(case.links), _dirs_of(case))
        return root

    def _sync(self, root: str, case: Case) -> None:
        if case.target not in self._state:
            shutil.rmtree(root, ignore_errors=True)
        old_files, old_links, old_dirs = self._state.pop(case.target, ({}, {}, set()))
        new_dirs = _dirs_of(case)
        for name, dest in old_links.items():
            if case.links.get(name) != dest:
                os.unlink(os.path.join(root, name))
        for name in old_files:
            if name not in case.files:
                os.unlink(os.path.join(root, name))
        for d in sorted(old_dirs - new_dirs, key=lambda d: d.count("/"), reverse=True):
            os.rmdir(os.path.join(root, d))
        os.makedirs(root, exist_ok=True)
        for d in sorted(new_dirs - old_dirs, key=lambda d: d.count("/")):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        for name, data in case.files.items():
            old = old_files.get(name)
            if old is not data and old != data:
                path = os.path.join(root, name)
                if old is not None:
                    os.unlink(path)  # a new file: rewriting one in place makes ext4 flush it (auto_da_alloc)
                with open(path, "wb") as fh:
                    fh.write(data)
        for name, dest in case.links.items():
            if old_links.get(name) != dest:
                os.symlink(dest, os.path.join(root, name))
        self._state[case.target] = (dict(case.files), dict(case.links), new_dirs)

    def output(self) -> str:
        """A fresh, empty output folder (give it back with :meth:`discard`)."""
        return tempfile.mkdtemp(prefix="out-", dir=self.base)

    def discard(self, folder: str) -> None:
        """Remove an output folder, in the background: removing folders mostly waits on the
        disk, which a thread overlaps with the next case (at most 64 wait; then inline)."""
        if self._trash is None:
            import queue

            self._trash = queue.Queue()
            threading.Thread(target=self._empty_trash, name="mafmt-fuzz-trash", daemon=True).start()
        if self._trash.qsize() > 64:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            self._trash.put(folder)

    def _empty_trash(self) -> None:
        assert self._trash is not None
        while True:
            folder = self._trash.get()
            shutil.rmtree(folder, ignore_errors=True)
            self._trash.task_done()

    def flush(self) -> None:
        """Wait until every discarded folder is gone."""
        if self._trash is not None:
            self._trash.join()


def _dirs_of(case: Case) -> set[str]:
    dirs: set[str] = set()
    for name in (*case.files, *case.links, *(d + "/x" for d in case.dirs)):
        parts = name.split("/")[:-1]
        dirs.update("/".join(parts[:k]) for k in range(1, len(parts) + 1))
    return dirs


def entry_path(case: Case, root: str) -> str:
    """The path the reader is given for ``case`` materialised under ``root``."""
    entry = TARGETS[case.target].entry if case.target in TARGETS else ""
    return os.path.join(root, entry) if entry else root


def run_case(case: Case, *, ops: Iterable[str] = DEFAULT_OPS, budget: float = 5.0, workspace: Workspace | None = None,
             reader: Callable[..., Iterable[Any]] | None = None) -> CaseResult:
    """Run the ops of one case (each writer into a fresh folder) and report every finding.

    ``reader`` replaces the format's reader in the ``read`` op (the fuzzer's self-test).
    Converts are skipped (counted as the read's error) when the read failed with a
    MafmtError before its first sample and nothing else can differ: ``on_error="raise"``
    and no size table for the writers to load first. After a timeout the case's other ops
    are skipped.
    """
    res = CaseResult(case.target, case.case_id, mutations=list(case.mutations),
                     size=sum(len(v) for v in case.files.values()))
    op_list = expand_ops(ops, case.rotation)
    scratch = None
    if workspace is None:
        scratch = tempfile.mkdtemp(prefix="mafmt-fuzz-")
        workspace = Workspace(scratch)
    start, cpu, rss = time.perf_counter(), time.process_time(), _maxrss_mb()
    out = workspace.output()
    try:
        src_root = workspace.input(case)
        path = entry_path(case, src_root)
        shared = _shared(case, src_root)
        counter = [0]
        same_as_read = False
        with guard_writes(out):
            for op in op_list:
                if "timeout" in res.outcomes.values():  # one hang per case is enough to know
                    res.outcomes[op] = "skipped"
                elif op == "read":
                    outcome = _run_op(res, op, budget, lambda: op_read(case, path, shared, counter, reader))
                    same_as_read = (counter[0] == 0 and outcome == "error" and case.on_error == "raise"
                                    and not case.size_table)
                elif op.startswith("convert:"):
                    if same_as_read:
                        res.outcomes[op] = "error"
                        continue
                    writer = op.split(":", 1)[1]
                    _run_op(res, op, budget, lambda w=writer: op_convert(case, path, w, out, shared))
                elif op == "validate":
                    _run_op(res, op, budget, lambda: op_validate(case, path))
                else:
                    raise ValueError(f"unknown op {op!r}")
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            workspace.discard(out)
    res.seconds = time.perf_counter() - start
    res.cpu = time.process_time() - cpu
    res.rss_growth_mb = _maxrss_mb() - rss
    return res


# --------------------------------------------------------------------------- worker processes


def _vm_size() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _prepare_worker(memory_mb: int) -> None:
    """Import what cases use (stable timings), then cap the address space: a blow-up becomes a
    MemoryError finding instead of taking the machine down."""
    import mafmt.converters
    import mafmt.validation  # noqa: F401
    from mafmt import rle  # noqa: F401

    with contextlib.suppress(ImportError):
        from PIL import Image

        Image.init()
    if memory_mb > 0:
        try:
            import resource
        except ImportError:  # pragma: no cover - not POSIX
            return
        now = _vm_size()
        if now is not None:
            _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            limit = now + memory_mb * 1024 * 1024
            if hard != resource.RLIM_INFINITY:
                limit = min(limit, hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _do_job(job: tuple[Any, ...], config: dict[str, Any], workspace: Workspace) -> Any:
    kind = job[0]
    if kind == "case":
        _, target, seed, case_id, ops, per_case = job
        return run_case(make_case(target, seed, case_id, per_case), ops=ops, budget=config["budget"],
                        workspace=workspace)
    if kind == "minimise":
        _, target, seed, case_id, op, site_kind, site, seconds = job
        return minimise(make_case(target, seed, case_id), op, site_kind, site, budget=config["budget"],
                        max_seconds=seconds, workspace=workspace)
    if kind == "selftest":
        return _selftest(job[1], config)
    raise ValueError(f"unknown job {kind!r}")


def _selftest(what: str, config: dict[str, Any]) -> Any:
    """Deliberate failures for the pool's own tests: a crash, a hard hang, a dying worker."""
    if what == "crash":
        case = make_case("coco", 0, 0)

        def broken_reader(path: str, **options: Any) -> Iterator[Any]:
            yield from ()
            raise KeyError("deliberate")

        return run_case(case, ops=("read",), budget=config["budget"], reader=broken_reader)
    if what == "hang":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGPROF})  # the per-op budget cannot fire
        time.sleep(3600)
    if what == "die":
        os._exit(3)
    if what == "memory":
        try:  # twice the cap: lazily zeroed pages, so only the cap can refuse it
            block = bytearray(max(1, config["memory_mb"]) * 2 << 20)
        except MemoryError:
            return "MemoryError"
        return f"allocated {len(block)} bytes"
    raise ValueError(what)


def _worker_main(conn: Connection, config: dict[str, Any], index: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    _prepare_worker(config["memory_mb"])
    base = tempfile.mkdtemp(prefix=f"w{index}-", dir=config["tmp"])
    workspace = Workspace(base)
    conn.send("ready")  # the hard time limit of a job starts now, not while the worker imports
    try:
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                break
            if job is None:
                break
            try:
                result = _do_job(job, config, workspace)
            except Exception:  # noqa: BLE001 - a harness bug: reported, the worker goes on
                result = HarnessError(traceback.format_exc())
            conn.send(result)
    finally:
        workspace.flush()
        shutil.rmtree(base, ignore_errors=True)


@dataclass(slots=True)
class HarnessError:
    """The fuzzer itself failed on a job (never a finding about mafmt)."""

    traceback: str


@dataclass(slots=True)
class _Slot:
    proc: Any
    conn: Connection
    job: tuple[int, tuple[Any, ...]] | None = None
    started: float = 0.0
    ready: bool = False


class Pool:
    """Worker processes that run fuzz jobs, each job with a hard time limit.

    A worker that overruns a job's hard limit (a hang the per-op CPU budget could
    not break, e.g. inside C code) or dies is killed and replaced, and the job is reported
    as a ``hang`` finding. Workers cap their address space at ``memory_mb`` above what they
    use at start.

    Args:
        workers: number of processes (default: ``MAFMT_FUZZ_WORKERS`` or 2 per CPU, as cases
            wait on the disk about half of the time).
        budget: seconds per op before it is a ``timeout``.
        tmp: folder for the workers' scratch folders (default: a new temporary folder).
        hard_slack: seconds added to a job's worst legitimate duration for the hard limit.
    """

    def __init__(self, workers: int | None = None, *, budget: float = 5.0, memory_mb: int = 2048,
                 tmp: str | os.PathLike[str] | None = None, hard_slack: float = 30.0) -> None:
        env = os.environ.get("MAFMT_FUZZ_WORKERS")
        self.n = workers or (int(env) if env else 2 * (os.cpu_count() or 1))
        self.budget = budget
        self.hard_slack = hard_slack
        self._own_tmp = tmp is None
        self.tmp = str(tmp) if tmp is not None else tempfile.mkdtemp(prefix="mafmt-fuzz-")
        self.config = {"budget": budget, "memory_mb": memory_mb, "tmp": self.tmp}
        self._ctx = multiprocessing.get_context("spawn")
        self._slots: list[_Slot] = []
        self._spawned = 0
        self._deaths = 0

    def __enter__(self) -> Pool:  # noqa: PYI034 - not subclassed
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self) -> _Slot:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker_main, args=(child, self.config, self._spawned),
                                 name=f"mafmt-fuzz-{self._spawned}", daemon=True)
        self._spawned += 1
        proc.start()
        child.close()
        return _Slot(proc, parent)

    def _hard_limit(self, job: tuple[Any, ...]) -> float:
        if job[0] == "case":
            return self.budget * (len(expand_ops(job[4], rotation(0, job[5]))) + 1) + self.hard_slack
        if job[0] == "minimise":
            return job[7] + self.budget * 4 + self.hard_slack
        return self.budget * 4 + self.hard_slack

    def run(self, jobs: Iterable[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        """Run ``jobs``; yields ``(index, result)`` in completion order."""
        pending = list(enumerate(jobs))
        pending.reverse()
        total = len(pending)
        while len(self._slots) < min(self.n, max(1, total)):
            self._slots.append(self._spawn())
        done = 0
        last_result = time.monotonic()
        while done < total:
            for slot in self._slots:
                if slot.ready and slot.job is None and pending:
                    slot.job = pending.pop()
                    slot.started = time.monotonic()
                    slot.conn.send(slot.job[1])
            ready = wait([s.conn for s in self._slots if s.job is not None or not s.ready], timeout=1.0)
            if not ready and time.monotonic() - last_result > 120:  # say what is taking so long
                last_result = time.monotonic()
                busy = [f"{s.job[1][:4]} for {time.monotonic() - s.started:.0f} s" for s in self._slots if s.job]
                print(f"fuzz pool: no result for 120 s; running: {busy}", file=sys.stderr, flush=True)
            for i, slot in enumerate(self._slots):
                if not slot.ready:
                    if slot.conn in ready:
                        try:
                            slot.ready = slot.conn.recv() == "ready"
                        except (EOFError, OSError):
                            self._deaths += 1
                            if self._deaths > 3 * self.n:
                                raise RuntimeError("fuzz workers die while starting; is the caller's main module "
                                                   "guarded with `if __name__ == '__main__'`?") from None
                            self._slots[i] = self._replace(slot)
                    continue
                if slot.job is None:
                    continue
                index, job = slot.job
                result: Any = None
                if slot.conn in ready:
                    try:
                        result = slot.conn.recv()
                        self._deaths = 0
                    except (EOFError, OSError):
                        self._deaths += 1
                        if self._deaths > 3 * self.n:
                            raise RuntimeError("fuzz workers keep dying; is the caller's main module guarded "
                                               "with `if __name__ == '__main__'`?") from None
                        result = self._lost(job, "died", f"worker exited with code {slot.proc.exitcode}")
                        self._slots[i] = self._replace(slot)
                elif time.monotonic() - slot.started > self._hard_limit(job):
                    result = self._lost(job, "hang", f"no answer after {self._hard_limit(job):.0f} s: killed")
                    self._slots[i] = self._replace(slot)
                else:
                    continue
                slot.job = None
                done += 1
                last_result = time.monotonic()
                yield index, result

    def _replace(self, slot: _Slot) -> _Slot:
        slot.proc.kill()
        slot.proc.join(10)
        slot.conn.close()
        return self._spawn()

    def _lost(self, job: tuple[Any, ...], why: str, message: str) -> Any:
        if job[0] != "case":
            return HarnessError(f"{why}: {message}")
        _, target, seed, case_id, _ops, per_case = job
        case = make_case(target, seed, case_id, per_case)
        res = CaseResult(target, case_id, mutations=list(case.mutations), size=sum(map(len, case.files.values())))
        res.findings.append(Finding("case", "hang", why, "?", 0, "?", message))
        res.outcomes["case"] = "hang"
        return res

    def run_cases(self, target: str, case_ids: Iterable[int], *, seed: int = 0, ops: Iterable[str] = DEFAULT_OPS,
                  per_case: int | None = None) -> list[CaseResult]:
        """Run cases of one target; results in case order."""
        ids = list(case_ids)
        jobs = [("case", target, seed, i, tuple(ops), per_case) for i in ids]
        out: list[Any] = [None] * len(jobs)
        for index, result in self.run(jobs):
            if isinstance(result, HarnessError):
                raise RuntimeError(f"fuzzer failure on {target} case {ids[index]}:\n{result.traceback}")  # noqa: TRY004
            out[index] = result
        return out

    def close(self) -> None:
        """Stop the workers and remove the scratch folder."""
        for slot in self._slots:
            with contextlib.suppress(OSError, BrokenPipeError):
                slot.conn.send(None)
        for slot in self._slots:
            slot.proc.join(10)
            if slot.proc.is_alive():
                slot.proc.kill()
                slot.proc.join(5)
            slot.conn.close()
        self._slots.clear()
        if self._own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


# --------------------------------------------------------------------------- counting and reporting


@dataclass(slots=True)
class Site:
    """One distinct failure site and every case that hit it."""

    kind: str
    exc_type: str
    file: str
    line: int
    func: str
    message: str
    tb: str
    cases: Counter[str] = field(default_factory=Counter)  # target -> cases
    ops: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[str, int, str, int, int, list[str]]] = field(default_factory=list)

    @property
    def hits(self) -> int:
        return sum(self.cases.values())

    def where(self) -> str:
        return f"{self.file}:{self.line} ({self.func})"


class Tally:
    """Counts of many case results: outcomes per target and op, distinct sites, slow cases."""

    def __init__(self) -> None:
        self.cases: Counter[str] = Counter()
        self.status: dict[str, Counter[str]] = {}
        self.ops: dict[str, Counter[tuple[str, str]]] = {}
        self.seconds: Counter[str] = Counter()
        self.sites: dict[str, Site] = {}
        self.slow: list[tuple[float, str, int]] = []
        self.memory: list[tuple[float, str, int]] = []

    def add(self, res: CaseResult, *, slow: float = 1.0, memory_mb: float = 200.0) -> None:
        """Count one result; ``slow`` and ``memory_mb`` are what counts as a slow or memory-hungry case."""
        t = res.target
        self.cases[t] += 1
        self.status.setdefault(t, Counter())[res.status] += 1
        ops = self.ops.setdefault(t, Counter())
        for op, outcome in res.outcomes.items():
            ops[(op.split(":")[0], outcome)] += 1
        self.seconds[t] += res.seconds
        if res.seconds > slow:
            self.slow.append((res.seconds, t, res.case_id))
        if res.rss_growth_mb > memory_mb:
            self.memory.append((res.rss_growth_mb, t, res.case_id))
        seen: set[str] = set()
        for f in res.findings:
            key = f.site if f.kind in ("crash", "escape") else f"{f.kind}@{f.file}:{f.func}"
            site = self.sites.get(key)
            if site is None:
                site = self.sites[key] = Site(f.kind, f.exc_type, f.file, f.line, f.func, f.message, f.tb)
            site.ops[f.op] += 1
            if key in seen:
                continue
            seen.add(key)
            site.cases[t] += 1
            if len(site.examples) < 50:
                site.examples.append((t, res.case_id, f.op, len(res.mutations), res.size, res.mutations))

    def failures(self, target: str | None = None) -> list[Site]:
        """Sites (optionally of one target), by file and line."""
        sites = [s for s in self.sites.values() if target is None or target in s.cases]
        return sorted(sites, key=lambda s: (s.file, s.line, s.exc_type))


def replay_command(seed: int, target: str, case_id: int) -> str:
    """The one command that re-runs a case with full tracebacks."""
    return f"python bench/fuzz.py --seed {seed} --replay {target}:{case_id}"


def describe_failures(target: str, results: Iterable[CaseResult], *, seed: int = 0, limit: int = 40) -> str:
    """A failure message: every distinct site with its count, an example input and how to replay it."""
    tally = Tally()
    results = list(results)
    for res in results:
        tally.add(res)
    sites = tally.failures(target)
    bad = sum(1 for r in results if r.findings)
    lines = [(f"{target}: {bad} of {len(results)} cases ended in something other than ok or a MafmtError; "
             f"{len(sites)} distinct site(s) (seed {seed}):")]
    for site in sites[:limit]:
        t, case_id, _op, _, _, mutations = min(site.examples, key=lambda e: (e[3], e[4], e[1]))
        lines.append(f"- {site.kind} {site.exc_type} at {site.where()} in {site.hits} case(s), ops "
                     f"{', '.join(f'{o} x{n}' for o, n in site.ops.most_common(4))}")
        lines.append(f"    {site.message}")
        lines.append(f"    e.g. case {case_id}: {'; '.join(mutations)[:300]}")
        lines.append(f"    replay: {replay_command(seed, t, case_id)}")
    if len(sites) > limit:
        lines.append(f"... and {len(sites) - limit} more site(s)")
    if sites and sites[0].tb:
        lines.append("first traceback (tail):")
        lines.extend("    " + ln for ln in sites[0].tb.rstrip().splitlines()[-8:])
    return "\n".join(lines)


# --------------------------------------------------------------------------- minimising and saving


@dataclass(slots=True)
class Minimised:
    """A case cut down to what still reproduces one site with one op."""

    case: Case
    op: str
    reproduced: bool
    finding: Finding | None
    evaluations: int
    seconds: float


def _matches(res: CaseResult, op: str, kind: str, site: str) -> Finding | None:
    for f in res.findings:
        if f.op != op:
            continue
        if kind in ("crash", "escape") and f.site == site:
            return f
        if kind not in ("crash", "escape") and f.kind == kind and f"{f.kind}@{f.file}:{f.func}" == site:
            return f
    return None


def _clone(case: Case, **changes: Any) -> Case:
    new = copy.copy(case)
    new.files = dict(case.files)
    new.links = dict(case.links)
    new.dirs = list(case.dirs)
    new.writer_options = {k: dict(v) for k, v in case.writer_options.items()}
    for k, v in changes.items():
        setattr(new, k, v)
    return new


def _ddmin(items: list[bytes], test: Callable[[list[bytes]], bool], out_of_time: Callable[[], bool]) -> list[bytes]:
    """Delta debugging (complements only): drop chunks of ``items`` while ``test`` holds."""
    n = 2
    while len(items) >= 2 and not out_of_time():
        size = -(-len(items) // n)
        for start in range(0, len(items), size):
            candidate = items[:start] + items[start + size:]
            if test(candidate):
                items = candidate
                n = max(n - 1, 2)
                break
            if out_of_time():
                return items
        else:
            if n >= len(items):
                break
            n = min(len(items), n * 2)
    if len(items) == 1 and test([]):
        return []
    return items


_RUN = re.compile(rb"(.{1,8}?)\1{15,}", re.DOTALL)


def _shrink_runs(data: bytes, test: Callable[[bytes], bool], out_of_time: Callable[[], bool]) -> bytes:
    """Shorten long repetitions (deep nesting, 200k-char fields, 5,000 digits) together."""
    for factor in (0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.8, 0.8, 0.9, 0.9, 0.95):
        runs = [(m.start(), m.end(), m.group(1)) for m in _RUN.finditer(data)]
        if not runs or out_of_time():
            break
        out, pos = [], 0
        for start, end, unit in runs:
            count = (end - start) // len(unit)
            out += [data[pos:start], unit * max(1, int(count * factor)), data[start + count * len(unit):end]]
            pos = end
        out.append(data[pos:])
        candidate = b"".join(out)
        if candidate != data and test(candidate):
            data = candidate
    return data


def _reduce_json(data: bytes, test: Callable[[bytes], bool], out_of_time: Callable[[], bool]) -> bytes | None:
    """Delete JSON members and items while ``test`` holds; None when ``data`` is not JSON we can re-dump."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
        text = json.dumps(doc, separators=(",", ":")).encode()
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None
    if not test(text):
        return None
    i = 0
    while not out_of_time():
        paths = sorted(_json_paths(doc)[1:], key=len)
        if i >= len(paths):
            break
        path = paths[i]
        trial = copy.deepcopy(doc)
        del _json_get(trial, path[:-1])[path[-1]]
        candidate = json.dumps(trial, separators=(",", ":")).encode()
        if test(candidate):
            doc, text = trial, candidate
        else:
            i += 1
    return text


def _reduce_xml(data: bytes, test: Callable[[bytes], bool], out_of_time: Callable[[], bool]) -> bytes | None:
    """Delete XML elements while ``test`` holds; None when ``data`` is not XML we can re-write."""
    from lxml import etree

    try:
        root = etree.fromstring(data, _xml_parser())
    except (etree.XMLSyntaxError, ValueError):
        return None

    def text(r: Any) -> bytes:
        return etree.tostring(r, encoding="UTF-8", xml_declaration=False)

    best = text(root)
    if not test(best):
        return None
    i = 0
    while not out_of_time():
        els = [e for e in root.iter() if e is not root]
        if i >= len(els):
            break
        el = els[i]
        parent = el.getparent()
        pos = parent.index(el)
        parent.remove(el)
        candidate = text(root)
        if test(candidate):
            best = candidate
        else:
            parent.insert(pos, el)
            i += 1
    return best


def minimise(case: Case, op: str, kind: str, site: str, *, budget: float = 5.0, max_seconds: float = 60.0,
             workspace: Workspace | None = None) -> Minimised:
    """Cut ``case`` down (options, files, JSON/XML members, lines, repetitions, bytes) while ``op``
    still hits ``site``.

    Trials run with 400 frames more recursion headroom than normal, so an input cut down to the
    edge of a ``RecursionError`` still overflows from any caller's stack depth.
    """
    start = time.monotonic()
    evals = [0]
    trial_budget = budget if kind in ("timeout", "hang") else min(budget, 2.0)
    limit = sys.getrecursionlimit()

    def out_of_time() -> bool:
        return time.monotonic() - start > max_seconds or evals[0] > 6000

    def hits(c: Case, margin: int = 400) -> Finding | None:
        evals[0] += 1
        sys.setrecursionlimit(limit + margin)
        try:
            return _matches(run_case(c, ops=(op,), budget=trial_budget, workspace=workspace), op, kind, site)
        finally:
            sys.setrecursionlimit(limit)

    case = _clone(case, rotation=None)
    found = hits(case, 0)
    if found is None:
        return Minimised(case, op, False, None, evals[0], time.monotonic() - start)
    writer = op.split(":", 1)[1] if op.startswith("convert:") else None
    simpler = [("detect", False), ("images", False), ("size_table", False), ("on_error", "raise"),
               ("fmt", TARGETS[case.target].formats[0])]
    for attr, value in simpler:
        if getattr(case, attr) != value:
            trial = _clone(case, **{attr: value})
            if hits(trial):
                case = trial
    if writer and case.writer_options.get(writer):
        trial = _clone(case)
        trial.writer_options[writer] = {}
        if hits(trial):
            case = trial
    for name in sorted(case.links):
        trial = _clone(case)
        del trial.links[name]
        if hits(trial):
            case = trial
    for d in list(case.dirs):
        trial = _clone(case)
        trial.dirs.remove(d)
        if hits(trial):
            case = trial
    entry = TARGETS[case.target].entry
    for name in sorted(case.files, key=lambda n: -len(case.files[n])):
        if name == entry or out_of_time():
            continue
        trial = _clone(case)
        del trial.files[name]
        if _safe(trial) and hits(trial):
            case = trial
    for name in sorted(case.files, key=lambda n: -len(case.files[n])):
        def test_bytes(data: bytes, name: str = name) -> bool:
            nonlocal case
            trial = _clone(case)
            trial.files[name] = data
            if hits(trial):
                case = trial
                return True
            return False

        kind_of = TARGETS[case.target].kinds.get(name, ("", 0.0))[0]
        structured = None
        if kind_of == "json" or (kind_of == "" and name.endswith(".json")):
            structured = _reduce_json(case.files[name], test_bytes, out_of_time)
        elif kind_of == "xml" or name.endswith(".xml"):
            structured = _reduce_xml(case.files[name], test_bytes, out_of_time)
        lines = case.files[name].splitlines(keepends=True)
        if len(lines) > 1:
            _ddmin(lines, lambda items: test_bytes(b"".join(items)), out_of_time)
        if kind_of == "jsonl":
            for i, line in enumerate(case.files[name].splitlines(keepends=True)):
                def test_line(new: bytes, i: int = i, name: str = name) -> bool:
                    rows = case.files[name].splitlines(keepends=True)
                    end = b"\n" if rows[i].endswith(b"\n") else b""
                    return test_bytes(b"".join([*rows[:i], new + end, *rows[i + 1:]]))
                structured = _reduce_json(line.rstrip(b"\r\n"), test_line, out_of_time) or structured
        _shrink_runs(case.files[name], test_bytes, out_of_time)
        data = case.files[name]
        if len(data) <= 4096 and structured is None:
            _ddmin([data[i:i + 1] for i in range(len(data))], lambda items: test_bytes(b"".join(items)), out_of_time)
    final = hits(case, 0)
    return Minimised(case, op, final is not None, final or found, evals[0], time.monotonic() - start)


_GITIGNORED = {"out", "build", "dist", "__pycache__", ".venv", ".venv-ci", ".pytest_cache", ".hypothesis",
               ".mypy_cache", ".ruff_cache"}


def site_name(kind: str, exc_type: str, file: str, line: int, func: str) -> str:
    """A file-name-safe id of a site: ``coco._object.L172.TypeError``."""
    what = exc_type.rsplit(".", 1)[-1] if kind in ("crash", "escape") else kind
    text = f"{Path(file).stem}.{func}.L{line}.{what}" if kind in ("crash", "escape") else f"{Path(file).stem}.{func}.{what}"
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def _portable(name: str) -> bool:
    return name.isprintable() and all(p not in _GITIGNORED and not p.endswith(".egg-info") for p in name.split("/")) \
        and not any(c in name for c in '\\:*?"<>|')


def save_crasher(case: Case, folder: Path, name: str) -> tuple[str, str, str]:
    """Save a (minimised) case under ``folder`` as one file, a folder or a tar archive.

    Returns (path relative to ``folder``, layout ``file``/``dir``/``tar``, entry inside it).
    """
    entry = TARGETS[case.target].entry
    folder.mkdir(parents=True, exist_ok=True)
    if entry and list(case.files) == [entry] and not case.links and not case.dirs:
        path = folder / (name + (os.path.splitext(entry)[1] or ".bin"))
        path.write_bytes(case.files[entry])
        return path.name, "file", ""
    if not case.links and not case.dirs and all(_portable(n) for n in case.files):
        root = folder / name
        shutil.rmtree(root, ignore_errors=True)
        for n, data in case.files.items():
            p = root / n
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        root.mkdir(parents=True, exist_ok=True)
        return name, "dir", entry
    path = folder / (name + ".tar")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        entries: list[tuple[str, str, Any]] = [("d", d, None) for d in sorted(_dirs_of(case))]
        entries += [("f", n, case.files[n]) for n in sorted(case.files)]
        entries += [("l", n, case.links[n]) for n in sorted(case.links)]
        for kind, n, data in entries:
            info = tarfile.TarInfo(n)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if kind == "d":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind == "l":
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, data, 0o777
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    return path.name, "tar", entry


def load_crasher(folder: Path, record: dict[str, Any], dest: Path) -> Path:
    """Copy a saved crasher into ``dest`` (a scratch folder) and return the path to hand the CLI."""
    src = folder / record["path"]
    dest.mkdir(parents=True, exist_ok=True)
    if record["layout"] == "file":
        out = dest / src.name
        shutil.copyfile(src, out)
        return out
    root = dest / "in"
    if record["layout"] == "dir":
        shutil.copytree(src, root, symlinks=True)
    else:
        root.mkdir()
        with tarfile.open(src) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(root, filter="tar")
            else:  # pragma: no cover - Python without extraction filters
                tar.extractall(root)
    return root / record["entry"] if record["entry"] else root


def crasher_case(record: dict[str, Any], files: Files, links: dict[str, str] | None = None,
                 dirs: list[str] | None = None) -> Case:
    """A :class:`Case` rebuilt from a saved crasher's record and content."""
    opts = record["options"]
    return Case(record["target"], record["seed"], record["case_id"], record["format"], files, links or {},
                list(dirs or []), [record["description"]], opts["detect"], opts["on_error"], opts["images"],
                opts["size_table"], {k: dict(v) for k, v in opts["writer_options"].items()})
