"""Where the images, label files and class names of a YOLO dataset are: every common layout.

:func:`discover` returns the class names and a list of :class:`Split` (a split name, image
files and label files paired by path stem), for these layouts:

* **darknet / CVAT "YOLO 1.1" / ModelArts YOLO** -- ``obj.data`` (``names``, ``train``,
  ``valid``, ``test`` paths, which CVAT prefixes with ``data/``; a path that does not exist
  is tried without that prefix), ``obj.names``, list files of images, label files beside
  the images (``obj_train_data/``);
* **ultralytics / Roboflow** -- ``data.yaml`` (or ``dataset.yaml``) with ``path:`` and
  ``train:``/``val:``/``test:`` given as folders, list files or lists of those, relative to
  ``path`` (default: the YAML's folder); as ultralytics does, a ``../x`` that does not
  exist is tried as ``x`` (Roboflow writes ``train: ../train/images``). Labels of an image
  ``.../images/a.jpg`` are ``.../labels/a.txt``;
* **no YAML** -- ``classes.txt``, ``obj.names`` or one ``*.names`` file, with
  ``images/<split>/`` + ``labels/<split>/``, ``images/`` + ``labels/``, split folders
  first (``train/images`` + ``train/labels``), or label files beside the images;
* **no class names at all** -- indices are kept as labels.

Text files that are not label files (``README.txt``, class lists, image lists) are never
read as labels: inside a ``labels`` folder every ``.txt`` is a label file but the class
lists; beside images, a ``.txt`` is a label file when an image has its stem (or, in a
folder without any image, when its first line reads as a YOLO row).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from mafmt import limits, storage
from mafmt.errors import FormatError

from ._common import IMAGE_EXTENSIONS, read_text

__all__ = ["SPLIT_TO_USAGE", "Layout", "Split", "discover", "load_yaml", "looks_like_rows", "may_hold_rows",
           "parse_names_yaml"]

SPLIT_TO_USAGE = {"train": "TRAIN", "val": "EVAL", "valid": "EVAL", "validation": "EVAL", "test": "TEST"}
_KV = re.compile(r"^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$")
_NOT_LABELS = frozenset({"classes.txt", "obj.names", "train.txt", "valid.txt", "val.txt", "test.txt", "sizes.csv",
                         "readme.txt", "license.txt", "labels.txt", "notes.txt"})
_ROW = re.compile(r"^\s*\d+(\s+[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?){4,}\s*$")  # one way to match: linear time
#: a line that is meant as a YOLO row, well-formed or not: a class index and numbers
_ROWISH = re.compile(r"^\s*\d+(\s+\S+)+\s*$")


@dataclass(slots=True)
class Split:
    """One subset of the dataset: image and label files paired by their key (the path
    below the subset's folders, without extension)."""

    name: str | None
    images: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    root: str = ""

    def keys(self) -> list[str]:
        return sorted(set(self.images) | set(self.labels))


@dataclass(slots=True)
class Layout:
    """What :func:`discover` found."""

    kind: str
    names: list[str] | None
    splits: list[Split]
    looked_for: str
    #: what the reader should warn about (a split that names another split's folder, read once)
    notes: list[str] = field(default_factory=list)


def load_yaml(text: str, file: str | None = None) -> Any:
    """YAML data: safe types only, no aliases, bounded nesting (:func:`.safe_yaml.load`;
    PyYAML is imported only when a YAML file is read)."""
    from .safe_yaml import load

    return load(text, file)


def parse_names_yaml(text: str, file: str | None = None) -> list[str]:
    """Class names of an ultralytics ``data.yaml``: a list, or an index map ``{0: a, 1: b}``."""
    data = load_yaml(text, file)
    return _names(data.get("names") if isinstance(data, dict) else None, file) or []


def _names(names: Any, file: str | None) -> list[str] | None:
    if names is None:
        return None
    if isinstance(names, dict):
        try:
            order = sorted(names, key=lambda k: int(k))
        except (TypeError, ValueError, OverflowError):
            raise FormatError("names: the keys of a names map are class indices", file=file, path="names") from None
        if [int(k) for k in order] != list(range(len(order))):
            raise FormatError("names: class indices must be 0..N-1 without gaps", file=file, path="names")
        return [str(names[k]) for k in order]
    if isinstance(names, list):
        return [str(n) for n in names]
    raise FormatError(f"names must be a list or a map, got {limits.clip(names, 60)}", file=file, path="names")


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def _names_file(path: str) -> list[str]:
    return _lines(read_text(path)[0])


def _exists(path: str) -> bool:
    try:
        return storage.exists(path)
    except ValueError:
        return False


def _find(root: str, ref: str, strip: tuple[str, ...] = ()) -> str | None:
    """``ref`` resolved against ``root``; a prefix in ``strip`` is dropped when the path as
    given does not exist (CVAT's ``data/``, Roboflow's ``../``)."""
    ref = ref.strip().replace("\\", "/")
    if not ref:
        return None
    path = ref if os.path.isabs(ref) or storage.scheme_of(ref) else storage.join(root, ref)
    if _exists(path):
        return path
    for prefix in strip:
        if ref.startswith(prefix):
            return _find(root, ref[len(prefix):], strip)
    return None


def _files(folder: str, exts: tuple[str, ...], listing: list[str] | None = None) -> list[str]:
    """The files of ``folder`` (recursive; or of its ``listing``) that end in ``exts``, hidden names skipped."""
    out = []
    for path in storage.iter_files(folder, recursive=True) if listing is None else listing:
        if not path.lower().endswith(exts):
            continue
        rel = storage.relative_to(path, folder).removeprefix("./")
        if not (rel.startswith(".") or "/." in rel):
            out.append(path)
    return out


def _key(path: str, folder: str) -> str:
    return os.path.splitext(storage.relative_to(path, folder).removeprefix("./"))[0]


def _label_name(path: str) -> bool:
    """Whether a text file's name may be a label file's (not a list, names or notes file)."""
    return path.replace("\\", "/").rsplit("/", 1)[-1].lower() not in _NOT_LABELS


def _label_files(folder: str, listing: list[str] | None = None) -> dict[str, str]:
    return {_key(p, folder): p for p in _files(folder, (".txt",), listing) if _label_name(p)}


#: at most this many text files are looked at by :func:`may_hold_rows` before it says maybe
_FEW_TEXTS = 8


def may_hold_rows(root: str) -> bool:
    """Whether some text file below ``root`` may be a label file that starts with a YOLO row:
    False only when at most :data:`_FEW_TEXTS` text files may be label files
    (:func:`_label_name`) and none starts with a row. The label files of every layout of
    :func:`discover` but darknet's (named by list files) are among them."""
    texts = []
    for p in storage.iter_files(root, recursive=True):
        if p.lower().endswith(".txt") and _label_name(p):
            texts.append(p)
            if len(texts) > _FEW_TEXTS:
                return True
    return any(looks_like_rows(p) for p in texts)


def _image_files(folder: str, listing: list[str] | None = None) -> dict[str, str]:
    return {_key(p, folder): p for p in _files(folder, IMAGE_EXTENSIONS, listing)}


def _pair_folders(name: str | None, images: str | None, labels: str | None, root: str) -> Split:
    split = Split(name, root=root)
    if images is not None and storage.is_dir(images):
        split.images = _image_files(images)
    if labels is not None and storage.is_dir(labels):
        split.labels = _label_files(labels)
    return split


def _labels_of(image_folder: str) -> str:
    """ultralytics' rule: the labels of ``.../images/x`` are in ``.../labels/x``."""
    p = image_folder.replace("\\", "/").rstrip("/")
    if "/images/" in p + "/":
        head, _, tail = (p + "/").rpartition("/images/")
        return (head + "/labels/" + tail).rstrip("/")
    return storage.join(storage.parent(p), "labels") if p.endswith("images") else p


def _list_split(name: str | None, list_file: str, root: str, strip: tuple[str, ...]) -> Split:
    """A subset given as a list file of image paths; label files sit beside the images
    (darknet) or in the matching ``labels`` folder (ultralytics)."""
    split = Split(name, root=root)
    for line in _lines(read_text(list_file)[0]):
        image = _find(root, line, strip) or _find(storage.parent(list_file), line, strip)
        if image is None:  # the image is not there (a dataset written without its images): its label file may be
            ref = line.strip().replace("\\", "/")
            for prefix in ("", *strip):
                if prefix and not ref.startswith(prefix):
                    continue
                guess = storage.join(root, ref[len(prefix):])
                if _exists(os.path.splitext(guess)[0] + ".txt"):
                    image = guess
                    break
            if image is None:
                continue
        key = _key(image, root)
        split.images[key] = image  # listed; may be missing (then sizes come from a size table)
        for label in (os.path.splitext(image)[0] + ".txt",
                      os.path.splitext(_labels_of(storage.parent(image)) + "/" + os.path.basename(image))[0] + ".txt"):
            if _exists(label):
                split.labels[key] = label
                break
    return split


def _darknet(root: str) -> Layout:
    text, _ = read_text(storage.join(root, "obj.data"))
    conf = {m.group(1).lower(): m.group(2).split("#")[0].strip() for m in map(_KV.match, text.splitlines()) if m}
    strip = ("data/", "./")
    names_path = _find(root, conf.get("names") or "obj.names", strip) or _find(root, "obj.names")
    names = _names_file(names_path) if names_path else None
    splits = []
    for key in ("train", "valid", "test"):
        ref = conf.get(key)
        found = _find(root, ref, strip) if ref else None
        if found is not None and not storage.is_dir(found):
            splits.append(_list_split(key, found, root, strip))
        elif found is not None or storage.is_dir(storage.join(root, f"obj_{key}_data")):
            folder = found or storage.join(root, f"obj_{key}_data")
            splits.append(_pair_folders(key, folder, folder, root))
    return Layout("darknet", names, splits, "label files beside the images listed in obj.data's train/valid lists")


def _ultralytics(root: str, yaml_path: str) -> Layout:
    text, _ = read_text(yaml_path, limit=limits.MAX_YAML_BYTES)
    data = load_yaml(text, yaml_path)
    if not isinstance(data, dict):
        raise FormatError("data.yaml is not a mapping (path, train, val, names)", file=yaml_path)
    names = _names(data.get("names"), yaml_path)
    here = storage.parent(yaml_path)
    base = here
    if isinstance(data.get("path"), str) and data["path"].strip():
        given = data["path"].strip()
        candidate = given if os.path.isabs(given) or storage.scheme_of(given) else storage.join(here, given)
        base = candidate if storage.is_dir(candidate) else here  # a dataset moved after its YAML was written
    splits = []
    used: dict[str, str] = {}  # folder or list file -> the split that read it
    notes: list[str] = []
    for key in ("train", "val", "test"):
        value = data.get(key)
        refs = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        for ref in refs:
            found = _find(base, str(ref), ("../", "./")) or _find(here, str(ref), ("../", "./"))
            if found is not None and found in used:  # coco128.yaml: val is train's folder; each image once
                notes.append(f"{key} is the same as {used[found]} ({ref}): its images read once, as {used[found]}")
                continue
            if found is not None:
                used[found] = key
            if found is None:
                guess = storage.join(base, str(ref))
                labels = _labels_of(guess)
                if storage.is_dir(labels):  # labels written without images
                    splits.append(_pair_folders(key, None, labels, root))
                continue
            if storage.is_dir(found):
                splits.append(_pair_folders(key, found, _labels_of(found), root))
            else:
                splits.append(_list_split(key, found, root, ("../", "./")))
    if not any(data.get(k) for k in ("train", "val", "test")):
        splits += _folders(root)
    return Layout("ultralytics", names, splits,
                  f"images and labels of train/val/test in {os.path.basename(yaml_path)} (labels of .../images/ are "
                  "in .../labels/)", notes)


def _folders(root: str) -> list[Split]:
    """``images/<split>`` + ``labels/<split>``, ``images`` + ``labels``, or ``<split>/images`` +
    ``<split>/labels``."""
    images, labels = storage.join(root, "images"), storage.join(root, "labels")
    splits = []
    if storage.is_dir(images) or storage.is_dir(labels):
        inner = [s for s in SPLIT_TO_USAGE if storage.is_dir(storage.join(images, s)) or storage.is_dir(storage.join(labels, s))]
        if inner:
            return [_pair_folders(s, storage.join(images, s), storage.join(labels, s), root) for s in inner]
        return [_pair_folders(None, images, labels, root)]
    for s in SPLIT_TO_USAGE:
        folder = storage.join(root, s)
        if storage.is_dir(storage.join(folder, "labels")) or storage.is_dir(storage.join(folder, "images")):
            splits.append(_pair_folders(s, storage.join(folder, "images"), storage.join(folder, "labels"), root))
    return splits


def _flat(root: str) -> list[Split]:
    """Label files beside the images, in one folder (and its sub-folders)."""
    split = Split(None, root=root)
    listing = list(storage.iter_files(root, recursive=True))  # (listed once for both)
    split.images = _image_files(root, listing)
    for key, path in _label_files(root, listing).items():
        if key in split.images or (not split.images and _looks_like_labels(path)):
            split.labels[key] = path
    return [split]


def _looks_like_labels(path: str) -> bool:
    try:
        text = read_text(path)[0]
    except FormatError:
        return False
    rows = _lines(text)
    return not rows or bool(_ROWISH.match(rows[0])) and all(_number(t) for t in rows[0].split()[1:])


def _number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def looks_like_rows(path: str) -> bool:
    """Whether the text file ``path`` starts with a YOLO row (``class x y w h``)."""
    try:
        rows = _lines(read_text(path)[0])
    except FormatError:
        return False
    return bool(rows) and bool(_ROW.match(rows[0]))


def _names_at(root: str) -> list[str] | None:
    for name in ("classes.txt", "obj.names"):
        path = storage.join(root, name)
        if _exists(path):
            return _names_file(path)
    for folder in (root, storage.join(root, "labels")):
        if storage.is_dir(folder):
            found = [p for p in storage.iter_files(folder) if p.lower().endswith((".names", "/classes.txt"))]
            if len(found) == 1:
                return _names_file(found[0])
    return None


def discover(root: str) -> Layout:
    """The layout of the YOLO dataset folder ``root``."""
    if _exists(storage.join(root, "obj.data")):
        return _darknet(root)
    for name in ("data.yaml", "dataset.yaml", "data.yml"):
        path = storage.join(root, name)
        if _exists(path):
            return _ultralytics(root, path)
    names = _names_at(root)
    splits = _folders(root)
    if splits:
        return Layout("folders", names, splits, "label files in labels/ (or labels/<split>/, <split>/labels/)")
    return Layout("flat", names, _flat(root), "label files (.txt) beside the images, one per image")
