"""Small datasets in the shapes other tools write (CVAT, Roboflow, Kaggle, ultralytics, the VOC
devkit), built by the tests with plain file writes -- never with mafmt -- so that mafmt is
tried on layouts nobody on the project chose.

Every builder returns a :class:`Fixture`: the folder, the format name to read it with, and
what a correct reader finds there (image count, box count, class names in index order).
Images are tiny real PNG/JPEG files so that header readers (mafmt, datumaro) find sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

W, H = 64, 48
NAMES = ["cat", "dog", "traffic light"]


@dataclass
class Fixture:
    root: Path
    format: str
    images: int
    boxes: int
    names: list[str] = field(default_factory=list)
    #: (image stem, class name, (xmin, ymin, xmax, ymax)) of every box, in pixels
    expected: list[tuple[str, str, tuple[float, float, float, float]]] = field(default_factory=list)
    #: datumaro's name for the layout, when datumaro reads it
    datumaro: str | None = None
    #: where datumaro reads it, relative to ``root``: ``path`` (default the root) and the
    #: other ``import_from`` arguments that name a folder (Kaggle's ``ann_path``)
    datumaro_args: dict[str, str] = field(default_factory=dict)


def _image(path: Path, ext: str = ".jpg") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (W, H), (90, 120, 150)).save(path.with_suffix(ext))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


#: per image stem: list of (class index, xmin, ymin, xmax, ymax) in pixels
BOXES: dict[str, list[tuple[int, int, int, int, int]]] = {
    "img1": [(0, 4, 6, 20, 30), (2, 30, 10, 60, 40)],
    "img2": [(1, 0, 0, 32, 24)],
    "img3": [],  # an image without objects
    "img4": [(0, 10, 10, 50, 40), (1, 2, 2, 8, 8), (1, 40, 20, 64, 48)],
}
SPLIT = {"img1": "train", "img2": "train", "img3": "val", "img4": "val"}


def _yolo_line(c: int, x0: float, y0: float, x1: float, y1: float) -> str:
    return f"{c} {(x0 + x1) / 2 / W:.6f} {(y0 + y1) / 2 / H:.6f} {(x1 - x0) / W:.6f} {(y1 - y0) / H:.6f}\n"


def _labels(stem: str) -> str:
    return "".join(_yolo_line(*b) for b in BOXES[stem])


def _fixture(root: Path, fmt: str, names: list[str] | None = None, stems: list[str] | None = None) -> Fixture:
    stems = stems or list(BOXES)
    labels = names if names is not None else [str(i) for i in range(3)]
    expected = [(s, labels[c], (x0, y0, x1, y1)) for s in stems for c, x0, y0, x1, y1 in BOXES[s]]
    return Fixture(root, fmt, len(stems), len(expected), names or [], expected)


# --------------------------------------------------------------------------- YOLO


def ultralytics(tmp: Path) -> Fixture:
    """data.yaml with ``path:``, ``train:``/``val:`` folders; images/<split>, labels/<split>."""
    root = tmp / "ultralytics"
    for stem, split in SPLIT.items():
        _image(root / "images" / split / f"{stem}.jpg")
        _write(root / "labels" / split / f"{stem}.txt", _labels(stem))
    _write(root / "data.yaml", f"path: {root}\ntrain: images/train\nval: images/val\nnc: 3\nnames:\n"
                               "  0: cat\n  1: dog\n  2: traffic light\n")
    fx = _fixture(root, "yolo", NAMES)
    fx.datumaro = "yolo"
    return fx


def ultralytics_lists(tmp: Path) -> Fixture:
    """data.yaml whose ``train:`` is a list file of images and ``val:`` a list of folders."""
    root = tmp / "ultra-lists"
    for stem, split in SPLIT.items():
        _image(root / "images" / split / f"{stem}.jpg")
        _write(root / "labels" / split / f"{stem}.txt", _labels(stem))
    _write(root / "train.txt", "".join(f"./images/train/{s}.jpg\n" for s, sp in SPLIT.items() if sp == "train"))
    _write(root / "data.yaml", "train: train.txt\nval: [images/val]\nnames: [cat, dog, traffic light]\n")
    fx = _fixture(root, "yolo", NAMES)
    fx.datumaro = "yolo"
    return fx


def roboflow(tmp: Path) -> Fixture:
    """Roboflow's ultralytics export: ``train: ../train/images`` with split folders first."""
    root = tmp / "roboflow"
    for stem, split in SPLIT.items():
        folder = {"train": "train", "val": "valid"}[split]
        _image(root / folder / "images" / f"{stem}.jpg")
        _write(root / folder / "labels" / f"{stem}.txt", _labels(stem))
    _write(root / "data.yaml", "train: ../train/images\nval: ../valid/images\ntest: ../test/images\n\nnc: 3\n"
                               "names: ['cat', 'dog', 'traffic light']\n\nroboflow:\n  workspace: w\n  version: 1\n")
    _write(root / "README.roboflow.txt", "Exported from roboflow.com\n")
    fx = _fixture(root, "yolo", NAMES)
    fx.datumaro = "roboflow_yolo"
    return fx


def cvat_yolo(tmp: Path) -> Fixture:
    """CVAT's "YOLO 1.1": obj.data says ``names = data/obj.names``, ``train = data/train.txt``."""
    root = tmp / "cvat"
    _write(root / "obj.names", "".join(n + "\n" for n in NAMES))
    _write(root / "obj.data", "classes = 3\ntrain = data/train.txt\nnames = data/obj.names\nbackup = backup/\n")
    for stem in BOXES:
        _image(root / "obj_train_data" / f"{stem}.jpg")
        _write(root / "obj_train_data" / f"{stem}.txt", _labels(stem))
    _write(root / "train.txt", "".join(f"data/obj_train_data/{s}.jpg\n" for s in BOXES))
    fx = _fixture(root, "yolo", NAMES)
    fx.datumaro = "yolo"
    return fx


def names_and_split_folders(tmp: Path) -> Fixture:
    """obj.names with images/<split>/ and labels/<split>/, no data.yaml, and README.txt files."""
    root = tmp / "names-splits"
    _write(root / "obj.names", "".join(n + "\n" for n in NAMES))
    for stem, split in SPLIT.items():
        _image(root / "images" / split / f"{stem}.png", ".png")
        _write(root / "labels" / split / f"{stem}.txt", _labels(stem))
    _write(root / "README.txt", "Dataset of cats and dogs.\nLicense: CC BY 4.0\n")
    _write(root / "labels" / "README.txt", "one file per image\n")
    return _fixture(root, "yolo", NAMES)


def classes_txt(tmp: Path) -> Fixture:
    """images/ + labels/ + classes.txt, no splits."""
    root = tmp / "classes-txt"
    _write(root / "classes.txt", "".join(n + "\n" for n in NAMES))
    for stem in BOXES:
        _image(root / "images" / f"{stem}.jpg")
        _write(root / "labels" / f"{stem}.txt", _labels(stem))
    return _fixture(root, "yolo", NAMES)


def flat_yolo(tmp: Path) -> Fixture:
    """Label files beside the images in one folder, with classes.txt and a notes file."""
    root = tmp / "flat-yolo"
    _write(root / "classes.txt", "".join(n + "\n" for n in NAMES))
    for stem in BOXES:
        _image(root / f"{stem}.jpg")
        _write(root / f"{stem}.txt", _labels(stem))
    _write(root / "notes.txt", "labelled by hand\n")
    return _fixture(root, "yolo", NAMES)


def yolo_without_names(tmp: Path) -> Fixture:
    """images/ + labels/ and no class names anywhere: indices are the labels."""
    root = tmp / "no-names"
    for stem in BOXES:
        _image(root / "images" / f"{stem}.jpg")
        _write(root / "labels" / f"{stem}.txt", _labels(stem))
    fx = _fixture(root, "yolo")
    fx.datumaro, fx.datumaro_args = "kaggle_yolo", {"path": "images", "ann_path": "labels"}
    return fx


YOLO_LAYOUTS = [ultralytics, ultralytics_lists, roboflow, cvat_yolo, names_and_split_folders, classes_txt, flat_yolo,
                yolo_without_names]


# --------------------------------------------------------------------------- VOC


def _voc_xml(stem: str, ext: str = ".jpg", *, difficult: bool = True, floats: bool = False,
             folder: bool = True, roboflow: bool = False) -> str:
    objs = []
    for c, x0, y0, x1, y1 in BOXES[stem]:
        coords = (x0 + 0.5, y0 + 0.25, x1 - 0.5, y1) if floats else (x0, y0, x1, y1)
        diff = "<difficult>0</difficult>" if difficult else ""
        objs.append(f"<object><name>{NAMES[c]}</name><pose>Unspecified</pose><truncated>0</truncated>{diff}"
                    "<bndbox>" + "".join(f"<{t}>{v}</{t}>" for t, v in zip(("xmin", "ymin", "xmax", "ymax"), coords))
                    + "</bndbox></object>")
    head = ("<folder></folder>" if roboflow else "<folder>VOC2012</folder>") if folder else ""
    name = f"<filename>{stem}{ext}</filename>"
    if roboflow:  # as Roboflow writes it: a path, a source, and occluded after difficult
        name += f"<path>{stem}{ext}</path><source><database>roboflow.com</database></source>"
        objs = [o.replace("</difficult>", "</difficult><occluded>0</occluded>") for o in objs]
    return (f"<annotation>{head}{name}<size><width>{W}</width><height>{H}</height>"
            f"<depth>3</depth></size><segmented>0</segmented>{''.join(objs)}</annotation>\n")


def voc_devkit(tmp: Path) -> Fixture:
    """The devkit layout; ``img3`` is listed in ImageSets but has no XML (an unannotated image)."""
    root = tmp / "devkit"
    for stem, split in SPLIT.items():
        _image(root / "JPEGImages" / f"{stem}.jpg")
        if stem != "img3":
            _write(root / "Annotations" / f"{stem}.xml", _voc_xml(stem))
    for split in ("train", "val"):
        _write(root / "ImageSets" / "Main" / f"{split}.txt", "".join(s + "\n" for s, sp in SPLIT.items() if sp == split))
    _write(root / "labelmap.txt", "# label:color_rgb:parts:actions\n" + "".join(f"{n}:::\n" for n in NAMES))
    fx = _fixture(root, "voc", NAMES)
    fx.datumaro = "voc"
    return fx


def voc_kaggle(tmp: Path) -> Fixture:
    """Kaggle's ``annotations/`` + ``images/`` (lower case), files written by other tools:
    no ``folder``, no ``difficult``, PNG images."""
    root = tmp / "kaggle"
    for stem in BOXES:
        _image(root / "images" / f"{stem}.png", ".png")
        _write(root / "annotations" / f"{stem}.xml", _voc_xml(stem, ".png", difficult=False, folder=False))
    fx = _fixture(root, "voc", NAMES)
    fx.datumaro, fx.datumaro_args = "kaggle_voc", {"path": "images", "ann_path": "annotations"}
    return fx


def voc_roboflow(tmp: Path) -> Fixture:
    """Roboflow's VOC export: ``train/`` and ``valid/`` with images and XML side by side."""
    root = tmp / "roboflow-voc"
    for stem, split in SPLIT.items():
        folder = {"train": "train", "val": "valid"}[split]
        _image(root / folder / f"{stem}.jpg")
        _write(root / folder / f"{stem}.xml", _voc_xml(stem, roboflow=True))
    return _fixture(root, "voc", NAMES)


def voc_flat_floats(tmp: Path) -> Fixture:
    """A flat folder of XML files with float corners, images beside them."""
    root = tmp / "flat-voc"
    for stem in BOXES:
        _image(root / f"{stem}.jpg")
        _write(root / f"{stem}.xml", _voc_xml(stem, floats=True))
    fx = _fixture(root, "voc", NAMES)
    fx.expected = [(s, n, (b[0] + 0.5, b[1] + 0.25, b[2] - 0.5, b[3])) for s, n, b in fx.expected]
    return fx


VOC_LAYOUTS = [voc_devkit, voc_kaggle, voc_roboflow, voc_flat_floats]
