"""ModelArts OBS-directory import layouts (import-formats.md section 4), read and write.

=================================  ==========================================================
format name                        ModelArts ``format_name``
=================================  ==========================================================
``modelarts-imagenet``             ``ModelArts imageNet 1.0`` (one folder per label)
``modelarts-image-classification`` ``ModelArts image classification 1.0`` (image + ``.txt``)
``modelarts-voc``                  ``ModelArts PASCAL VOC 1.0`` (image + same-stem ``.xml``)
``modelarts-text-classification``  ``ModelArts text classification 1.0`` (``X.txt`` + ``X_result.txt``)
``...-combine``                    ``ModelArts text classification combine 1.0`` (text, Tab, labels)
``modelarts-audio-classification`` ``ModelArts audio classification dir 1.0`` (folder per label)
=================================  ==========================================================

Readers follow the spec's mafmt policies: the deepest folder is the label; hidden names
are skipped; files in the root of a folder-per-label layout are unlabelled (warned);
label files are UTF-8 with a GBK fallback (warned); blank lines are ignored; a text line
is split at the *last* sample separator. ``source`` is the path relative to the root.

Writers produce folders ModelArts accepts: images (or audio) are copied from where the
sample's ``source`` points, from the folder it was read from, or from ``images=``. What
a layout cannot hold is counted: samples with zero or several labels in a folder layout,
detection in a classification layout (and the reverse), ``usage`` and other sample
fields, texts with line breaks (joined with a space), and samples whose file is missing.
File-name clashes are resolved with ``_2``, ``_3`` suffixes and warned.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from mafmt import storage, voc
from mafmt.errors import FormatError, UsageError
from mafmt.formats import Format
from mafmt.losses import count_sample_losses
from mafmt.model import (
    AUDIO_CLASSIFICATION,
    IMAGE_CLASSIFICATION,
    IMAGE_SEGMENTATION,
    OBJECT_DETECTION,
    SHAPE_KINDS,
    TEXT_CLASSIFICATION,
    Annotation,
    Classification,
    Detection,
    Sample,
)
from mafmt.report import ErrorPolicy, Report, Stream, check_policy
from mafmt.storage.transaction import check_complete

from ._common import (
    AUDIO_EXTENSIONS,
    IMAGE_EXTENSIONS,
    UniqueNames,
    as_line,
    basename,
    check_options,
    output,
    read_text,
    root_origin,
    stem,
)
from ._sizes import SizeResolver, copy_image, sample_size

__all__ = ["AUDIO", "IMAGENET", "IMAGE_CLASSIFICATION_TXT", "TEXT", "TEXT_COMBINE", "VOC_PAIRS"]


def _files(root: str, most: int | None = None) -> list[str]:
    """Files under ``root`` (recursive, name order), hidden names skipped; the first ``most``."""
    return list(itertools.islice((path for path in storage.iter_files(root, recursive=True) if visible(path, root)),
                                 most))


def visible(path: str, root: str) -> bool:
    """Whether no part of ``path`` below ``root`` is a hidden name."""
    rel = storage.relative_to(path, root).removeprefix("./")
    return not (rel.startswith(".") or "/." in rel)


def _rel(path: str, root: str) -> str:
    return storage.relative_to(path, root).removeprefix("./")


def _stream(gen: Iterator[Sample], report: Report) -> Stream[Sample]:
    return Stream(gen, report)


def _start(src: str | os.PathLike[str], on_error: str, options: dict[str, Any], name: str) -> str:
    check_policy(on_error)
    check_options(name, options)
    src = os.fspath(src)
    if not storage.is_dir(src):
        raise UsageError(f"{src}: the {name} layout is a folder")
    check_complete(src)
    return src


def _counting(gen: Iterator[Sample], root: str, looked_for: str) -> Iterator[Sample]:
    """``gen``, and an error when it yields nothing: an empty result is never a success."""
    found = 0
    for sample in gen:
        found += 1
        yield sample
    if not found:
        raise FormatError(f"nothing found: looked for {looked_for}", file=root)


Check = Callable[[Report], None] | None


# --------------------------------------------------------------------------- folder per label


#: the folder-per-label layouts: name -> (annotation type, file extensions)
FOLDER_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {}


def _folder_reader(kind: str, exts: tuple[str, ...], name: str) -> Any:
    FOLDER_KINDS[name] = (kind, exts)

    def read(src: str | os.PathLike[str], *, on_error: ErrorPolicy = "raise", **options: Any) -> Stream[Sample]:
        """Samples of a folder-per-label layout: the deepest folder is the label."""
        root = _start(src, on_error, options, name)
        report = Report()

        def gen() -> Iterator[Sample]:
            paths = (p for p in _files(root) if p.lower().endswith(exts))
            yield from labelled_files(kind, root, paths, report)

        what = "images" if kind == IMAGE_CLASSIFICATION else "sound files"
        return _stream(_counting(gen(), root, f"{what} in one folder per label"), report)

    return read


def labelled_files(kind: str, root: str, paths: Iterable[str], report: Report) -> Iterator[Sample]:
    """The samples of files of a folder-per-label layout (``kind``: their annotation type)."""
    origin = root_origin(root)
    for path in paths:
        rel = _rel(path, root)
        parts = rel.split("/")
        anns: list[Annotation] = [Classification(type=kind, name=parts[-2])] if len(parts) > 1 else []
        if not anns:
            report.warn("file in the root: unlabelled")
        yield Sample(source=rel, annotations=anns, origin=origin)


def _folder_writer(kind: str, name: str) -> Any:
    def write(samples: Iterable[Sample], target: str | os.PathLike[str], *, images: str | None = None,
              overwrite: bool = False, check: Check = None, **options: Any) -> Report:
        """Copy each single-label sample's file into ``<label>/``; others are not written."""
        return _write(FolderWriter, name, samples, target, overwrite, check, {"images": images, **options})

    return write


def _write(cls: Any, fmt: str, samples: Iterable[Sample], target: str | os.PathLike[str], overwrite: bool,
           check: Check, options: dict[str, Any]) -> Report:
    """One of this module's writers (``cls``) over ``samples``, as one transaction."""
    report = Report()
    writer = cls(report, fmt, **options)
    if not cls.direct:  # (it holds every sample until the end: the target is opened then)
        for sample in samples:
            writer.add(sample, None)
    with output(os.fspath(target), report, folder=True, overwrite=overwrite, check=check) as tx:
        if cls.direct:
            for sample in samples:
                writer.add(sample, tx)
        writer.finish(tx)
    return report


class _Writer:
    """What this module's writers share: one sample at a time (:meth:`add`), the file names
    taken (:meth:`part`, merged by :meth:`absorb`: the writer of a sharded conversion,
    :mod:`mafmt.scale`), nothing written at the end unless a writer says so."""

    direct = True  #: it writes each sample's files as it goes

    def __init__(self, report: Report, fmt: str, *, images: str | None = None, **options: Any) -> None:
        check_options(fmt, options)
        self.report = report
        self.sizes = SizeResolver(images)
        self.unique = UniqueNames()

    def begin(self, meta: Any, report: Report) -> None:
        """Before the first sample (the source's classes are not written)."""

    def add(self, sample: Sample, tx: Any) -> None:  # pragma: no cover - every writer has its own
        raise NotImplementedError

    def finish(self, tx: Any) -> None:
        """The dataset's files (none)."""

    def part(self) -> dict[str, Any]:
        """What the samples written so far leave for the next ones: the file names taken."""
        return {"names": self.unique.used}

    def absorb(self, part: dict[str, Any]) -> str | None:
        """Add the :meth:`part` of the samples that follow; returns why the result would differ
        from one writer's (a file name an earlier sample took), or None."""
        if not self.unique.used.isdisjoint(part["names"]):
            return "file names that repeat across shards"
        self.unique.used |= part["names"]
        return None


def _labels(sample: Sample, report: Report) -> list[str]:
    """The classification labels of ``sample``, with what a label layout cannot hold of it counted."""
    count_sample_losses(sample, report)
    for a in sample.annotations:
        if not isinstance(a, Classification) and not _empty_detection(a):
            report.lose(f"{a.type}->dropped")
    return [a.name for a in sample.annotations if isinstance(a, Classification) and a.name]


class FolderWriter(_Writer):
    """One folder per label (ImageNet, audio): each single-label sample's file in ``<label>/``."""

    def __init__(self, report: Report, fmt: str, *, images: str | None = None, **options: Any) -> None:
        super().__init__(report, fmt, images=images, **options)
        self.by_label: dict[str, UniqueNames] = {}

    def add(self, sample: Sample, tx: Any) -> None:
        report = self.report
        labels = _labels(sample, report)
        if len(labels) != 1:
            report.drop("no classification label" if not labels else "several labels (a folder holds one)")
            return
        label = labels[0]
        if not _safe_folder(label):
            report.drop("label is not a usable folder name")
            return
        fname = self.by_label.setdefault(label, UniqueNames()).take(basename(sample.source), report)
        if not copy_image(sample, self.sizes, tx, f"{label}/{fname}", report, remote=True):
            report.drop("file not found (give --images DIR)")
            return
        report.written += 1

    def part(self) -> dict[str, Any]:
        return {"names": {label: u.used for label, u in self.by_label.items()}}

    def absorb(self, part: dict[str, Any]) -> str | None:
        for label, used in part["names"].items():
            mine = self.by_label.setdefault(label, UniqueNames())
            if not mine.used.isdisjoint(used):
                return "file names that repeat across shards"
            mine.used |= used
        return None


def _empty_detection(ann: Annotation) -> bool:
    """A detection without objects (the size of an image that has image-level labels only):
    nothing is lost when it is left out."""
    return isinstance(ann, Detection) and ann.document is not None and not ann.document.objects


def _safe_folder(name: str) -> bool:
    return bool(name.strip()) and name not in (".", "..") and not any(c in name for c in '/\\\0')


# --------------------------------------------------------------------------- files beside images


def _image_pairs(root: str, ext: str, what: str, report: Report,
                 orphans: bool = False) -> Iterator[tuple[str | None, str | None]]:
    """Each image under ``root`` with its same-stem ``ext`` file (or None); files of that
    kind without an image are warned about once all images were seen, and with ``orphans``
    yielded too, as ``(None, file)`` (a dataset copied without its images)."""
    yield from replay(pair_events(_files(root), ext, what, orphans), report)


#: what :func:`pair_events` gives: ``(image, sidecar)``, or ``(warning, error)`` for the report
Event = tuple[Any, Any]


def pair_events(files: list[str], ext: str, what: str, orphans: bool = False) -> list[tuple[bool, Event]]:
    """What :func:`_image_pairs` yields and warns, in its order: ``(True, (image, sidecar))``
    for a pair, ``(False, (warning, error))`` for a warning."""
    sidecars = {os.path.splitext(p)[0]: p for p in files if p.lower().endswith(ext)}
    used: set[str] = set()
    out: list[tuple[bool, Event]] = []
    for path in files:
        if path.lower().endswith(IMAGE_EXTENSIONS):
            side = sidecars.get(os.path.splitext(path)[0])
            if side is not None:
                used.add(side)
            out.append((True, (path, side)))
    for side in sidecars.values():
        if side not in used:
            out.append((False, (f"{what} without image" + ("" if orphans else " ignored"),
                                FormatError("no image with this stem", file=side, severity="warning"))))
            if orphans:
                out.append((True, (None, side)))
    return out


def replay(events: Iterable[tuple[bool, Event]], report: Report) -> Iterator[tuple[Any, Any]]:
    """The pairs of ``events``, their warnings counted in ``report`` on the way."""
    for pair, event in events:
        if pair:
            yield event
        else:
            report.warn(*event)


def _read_image_txt(src: str | os.PathLike[str], *, on_error: ErrorPolicy = "raise", **options: Any) -> Stream[Sample]:
    """Images with same-stem ``.txt`` label files (one label a line)."""
    root = _start(src, on_error, options, "modelarts-image-classification")
    report = Report()

    def gen() -> Iterator[Sample]:
        yield from image_txt_samples(root, _image_pairs(root, ".txt", "label file", report), report)

    return _stream(_counting(gen(), root, "images with same-stem .txt label files"), report)


def image_txt_samples(root: str, pairs: Iterable[tuple[Any, Any]], report: Report) -> Iterator[Sample]:
    """The samples of images with their ``.txt`` label files (or None)."""
    origin = root_origin(root)
    for path, txt in pairs:
        assert path is not None  # no orphans asked for
        anns: list[Any] = []
        if txt is not None:
            text, gbk = read_text(txt)
            if gbk:
                report.warn("label file read as GBK")
            anns = [Classification(type=IMAGE_CLASSIFICATION, name=ln.strip()) for ln in text.splitlines()
                    if ln.strip()]
        yield Sample(source=_rel(path, root), annotations=anns, origin=origin)


def _write_image_txt(samples: Iterable[Sample], target: str | os.PathLike[str], *, images: str | None = None,
                     overwrite: bool = False, check: Check = None, **options: Any) -> Report:
    """Copy each image and write ``<stem>.txt`` with its labels (none for unlabelled)."""
    return _write(ImageTxtWriter, "modelarts-image-classification", samples, target, overwrite, check,
                  {"images": images, **options})


class ImageTxtWriter(_Writer):
    """Each image, and ``<stem>.txt`` with its labels beside it."""

    def add(self, sample: Sample, tx: Any) -> None:
        report = self.report
        labels = _labels(sample, report)
        if sample.source.startswith("content://"):
            report.drop("a text, not an image")
            return
        if sample.annotations and not labels:
            report.drop("no classification label")
            return
        fname = self.unique.take(basename(sample.source), report)
        if not copy_image(sample, self.sizes, tx, fname, report, remote=True):
            report.drop("file not found (give --images DIR)")  # a label file without its image reads as nothing
            return
        if labels:
            rel = stem(fname) + ".txt"
            text = "".join(as_line(n, tx.final(rel)) + "\n" for n in labels)
            report.outputs.append(tx.write_text(rel, text))
        report.written += 1


def _read_voc_pairs(src: str | os.PathLike[str], *, on_error: ErrorPolicy = "raise", **options: Any) -> Stream[Sample]:
    """Images with same-stem ModelArts VOC ``.xml`` files (all shapes kept)."""
    root = _start(src, on_error, options, "modelarts-voc")
    report = Report()

    def gen() -> Iterator[Sample]:
        yield from voc_pair_samples(root, _image_pairs(root, ".xml", "XML file", report, orphans=True), on_error,
                                    report)

    return _stream(_counting(gen(), root, "images with same-stem .xml files"), report)


def voc_pair_samples(root: str, pairs: Iterable[tuple[Any, Any]], on_error: str, report: Report) -> Iterator[Sample]:
    """The samples of images with their ``.xml`` files (or None), and of XML files without image."""
    origin = root_origin(root)
    for path, xml in pairs:
        anns: list[Any] = []
        if xml is not None:
            try:
                doc = voc.read_document(xml, report=report)
            except FormatError as exc:
                if on_error == "raise":
                    raise
                report.skip(exc)
                continue
            seg = doc.segmented == 1 or doc.mask_source is not None
            anns = [Detection(type=IMAGE_SEGMENTATION if seg else OBJECT_DETECTION,
                              annotation_format="PASCAL VOC", document=doc)]
        if path is None:  # the XML of an image that is not there: named as the XML says, when it can be
            assert xml is not None
            key = os.path.splitext(_rel(xml, root))[0]
            name = anns[0].document.filename if anns else None
            ext = os.path.splitext(name)[1] if name and stem(name) == stem(key) else ".jpg"
            yield Sample(source=key + (ext or ".jpg"), annotations=anns, origin=origin)
            continue
        yield Sample(source=_rel(path, root), annotations=anns, origin=origin)


def _write_voc_pairs(samples: Iterable[Sample], target: str | os.PathLike[str], *, images: str | None = None,
                     size_table: str | None = None, overwrite: bool = False, check: Check = None,
                     **options: Any) -> Report:
    """Copy each image and write its ModelArts VOC document beside it as ``<stem>.xml``
    (:class:`VocPairsWriter`)."""
    return _write(VocPairsWriter, "modelarts-voc", samples, target, overwrite, check,
                  {"images": images, "size_table": size_table, **options})


class VocPairsWriter(_Writer):
    """Each image, and its ModelArts VOC document beside it as ``<stem>.xml`` (named after the
    sample's ``source``, with every field ModelArts requires). ModelArts' reader requires
    ``<size>``: a document without one gets the image's size (size table or image header); a
    sample whose size cannot be found is dropped as ``no image size``, which ``convert`` turns
    into an error naming the images unless ``on_error="skip"``."""

    def __init__(self, report: Report, fmt: str, *, images: str | None = None, size_table: str | None = None,
                 **options: Any) -> None:
        super().__init__(report, fmt, images=images, **options)
        self.sizes = SizeResolver(images, size_table)

    def add(self, sample: Sample, tx: Any) -> None:
        report = self.report
        docs = voc.sample_documents(sample, report)
        if len(docs) > 1:
            report.lose("extra detection document->dropped", len(docs) - 1)
        if sample.source.startswith("content://"):
            report.drop("a text, not an image")
            return
        if not docs and sample.annotations:
            report.drop("no detection annotation")
            return
        doc = docs[0] if docs else None
        if doc is not None and (doc.width is None or doc.height is None):
            found = sample_size(sample, self.sizes)
            if found is None:
                report.drop_unsized(sample.source)
                return
            doc = replace(doc, width=found[0], height=found[1], depth=doc.depth or found[2])
        fname = self.unique.take(basename(sample.source) or "image.jpg", report)
        copy_image(sample, self.sizes, tx, fname, report, remote=True)
        if doc is not None:
            doc = voc.modelarts_document(doc, fname)
            report.outputs.append(tx.write_bytes(stem(fname) + ".xml", voc.document_to_bytes(doc)))
        report.written += 1


# --------------------------------------------------------------------------- text classification


def _read_text(src: str | os.PathLike[str], *, on_error: ErrorPolicy = "raise", sample_separator: str = "\t",
               label_separator: str = ",", **options: Any) -> Stream[Sample]:
    """Text classification folders, both layouts: ``X.txt`` + ``X_result.txt`` pairs, and
    single files of ``text<sep>label,label`` lines (split at the last separator)."""
    root = _start(src, on_error, options, "modelarts-text-classification")
    report = Report()

    def gen() -> Iterator[Sample]:
        yield from text_samples(text_files(_files(root)), on_error, report, sample_separator, label_separator)

    return _stream(_counting(gen(), root, "text files (.txt, .csv) with their labels"), report)


def text_files(files: list[str]) -> list[tuple[str, str | None]]:
    """The text files of a text classification folder, each with its ``_result`` file (or None)."""
    files = [p for p in files if p.lower().endswith((".txt", ".csv"))]
    names = set(files)
    out: list[tuple[str, str | None]] = []
    for path in files:
        base, ext = os.path.splitext(path)
        if base.endswith("_result") and base[: -len("_result")] + ext in names:
            continue
        result = base + "_result" + ext
        out.append((path, result if result in names else None))
    return out


def text_samples(files: Iterable[tuple[str, str | None]], on_error: str, report: Report, sample_separator: str,
                 label_separator: str) -> Iterator[Sample]:
    """The samples of text files with their ``_result`` files (:func:`text_files`)."""

    def labels(cell: str) -> list[Annotation]:
        return [Classification(type=TEXT_CLASSIFICATION, name=n.strip()) for n in cell.split(label_separator)
                if n.strip()]

    for path, result in files:
        text, gbk = read_text(path)
        if gbk:
            report.warn("text file read as GBK")
        lines = [ln.rstrip("\r") for ln in text.split("\n")]
        if result is not None:
            rlines = [ln.rstrip("\r") for ln in read_text(result)[0].split("\n")]
            while lines and not lines[-1]:
                lines.pop()
            while rlines and not rlines[-1]:
                rlines.pop()
            if len(lines) != len(rlines):
                exc = FormatError(f"{len(lines)} text lines but {len(rlines)} label lines in {result}", file=path)
                if on_error == "raise":
                    raise exc
                report.skip(exc)
                continue
            for ln, lab in zip(lines, rlines):
                yield Sample(source="content://" + ln, annotations=labels(lab))
            continue
        for ln in lines:
            if not ln.strip():
                continue
            body, sep, cell = ln.rpartition(sample_separator)
            if not sep:
                report.warn("text line without separator: unlabelled")
                yield Sample(source="content://" + ln)
            else:
                yield Sample(source="content://" + body, annotations=labels(cell))


def _text_writer(combine: bool) -> Any:
    def write(samples: Iterable[Sample], target: str | os.PathLike[str], *, overwrite: bool = False,
              check: Check = None, **options: Any) -> Report:
        """Write the texts (``content://`` sources) and their labels as ModelArts accepts them."""
        return _write(CombinedTextWriter if combine else TextWriter, "modelarts-text-classification", samples,
                      target, overwrite, check, options)

    return write


class TextWriter(_Writer):
    """The texts in ``<name>.txt``, their labels in ``<name>_result.txt``, a line each."""

    direct = False  #: it holds every sample until the end
    combine = False

    def __init__(self, report: Report, fmt: str, *, name: str = "text", sample_separator: str = "\t",
                 label_separator: str = ",", **options: Any) -> None:
        check_options(fmt, options)
        if len(sample_separator) != 1 or len(label_separator) != 1:
            raise UsageError("separators must be exactly one character")
        self.report = report
        self.name, self.sample_separator, self.label_separator = name, sample_separator, label_separator
        self.texts: list[str] = []
        self.results: list[str] = []

    def add(self, sample: Sample, tx: Any) -> None:
        report = self.report
        count_sample_losses(sample, report)
        text = sample.text
        if text is None:
            report.drop("not a text (content://) sample")
            return
        if "\n" in text or "\r" in text:
            report.lose("line break in text->space")
            text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
        labels = []
        for a in sample.annotations:
            if isinstance(a, Classification) and a.name:
                if self.label_separator in a.name or "\n" in a.name:
                    report.warn("label contains the label separator")
                labels.append(a.name)
            else:
                report.lose(f"{a.type}->dropped")
        cell = self.label_separator.join(labels)
        if self.combine:
            self.texts.append(f"{text}{self.sample_separator}{cell}" if labels else text)
            if not labels and self.sample_separator in text:
                report.warn("unlabelled text contains the separator")
        else:
            self.texts.append(text)
            self.results.append(cell)
        report.written += 1

    def finish(self, tx: Any) -> None:
        """The text file (and the labels' file)."""
        report = self.report
        report.outputs.append(tx.write_text(f"{self.name}.txt", "".join(t + "\n" for t in self.texts)))
        if not self.combine:
            report.outputs.append(tx.write_text(f"{self.name}_result.txt", "".join(r + "\n" for r in self.results)))

    def part(self) -> dict[str, Any]:
        return {"texts": self.texts, "results": self.results}

    def absorb(self, part: dict[str, Any]) -> str | None:
        self.texts.extend(part["texts"])
        self.results.extend(part["results"])
        return None


class CombinedTextWriter(TextWriter):
    """Each text and its labels on one line of ``<name>.txt``."""

    combine = True


# --------------------------------------------------------------------------- helpers


def _has(path: str, test: Any) -> bool:
    if not storage.is_dir(path):
        return False
    try:
        return any(test(p) for p in _files(path, 2000))
    except Exception:  # noqa: BLE001 - sniffing never fails loudly
        return False


def _sniff_pairs(ext: str) -> Any:
    def sniff(path: str) -> bool:
        if not storage.is_dir(path):
            return False
        files = _files(path, 5000)
        sidecars = {os.path.splitext(p)[0]: p for p in files if p.lower().endswith(ext)}
        pairs = [sidecars[os.path.splitext(p)[0]] for p in files
                 if p.lower().endswith(IMAGE_EXTENSIONS) and os.path.splitext(p)[0] in sidecars]
        if not pairs:
            return False
        if ext == ".xml" and any(_split_folder(p, path) for p in pairs[:5]):
            return False  # split folders of image/XML pairs (Roboflow): the voc reader keeps the splits
        if ext == ".txt":  # label names, not YOLO rows (those are read as yolo)
            from .yolo_layouts import looks_like_rows

            return not any(looks_like_rows(p) for p in pairs[:5])
        return True

    return sniff


def _split_folder(path: str, root: str) -> bool:
    parts = _rel(path, root).split("/")
    return len(parts) > 1 and parts[0].lower() in ("train", "val", "valid", "test")


def _sniff_folders(exts: tuple[str, ...]) -> Any:
    def sniff(path: str) -> bool:
        if not storage.is_dir(path):
            return False
        files = _files(path, 5000)
        media = [p for p in files if p.lower().endswith(exts)]
        others = [p for p in files if p.lower().endswith((".txt", ".xml"))]
        nested = sum("/" in _rel(p, path) for p in media)
        return not others and nested * 2 > len(media)

    return sniff


def _sniff_text(path: str) -> bool:
    return _has(path, lambda p: p.endswith("_result.txt"))


IMAGENET = Format(
    name="modelarts-imagenet",
    read=_folder_reader(IMAGE_CLASSIFICATION, IMAGE_EXTENSIONS, "modelarts-imagenet"),
    write=_folder_writer(IMAGE_CLASSIFICATION, "modelarts-imagenet"),
    holds=frozenset({IMAGE_CLASSIFICATION}),
    description="ModelArts imageNet 1.0: one folder per label holding its images (single label)",
    directory=True,
    aliases=("imagenet", "image-folders"),
    sniff=_sniff_folders(IMAGE_EXTENSIONS),
)

IMAGE_CLASSIFICATION_TXT = Format(
    name="modelarts-image-classification",
    read=_read_image_txt,
    write=_write_image_txt,
    holds=frozenset({IMAGE_CLASSIFICATION, "multi-label"}),
    description="ModelArts image classification 1.0: image + same-stem .txt with one label a line",
    directory=True,
    aliases=("image-txt",),
    sniff=_sniff_pairs(".txt"),
)

VOC_PAIRS = Format(
    name="modelarts-voc",
    read=_read_voc_pairs,
    write=_write_voc_pairs,
    holds=frozenset({OBJECT_DETECTION, IMAGE_SEGMENTATION, "properties", "parts", "hard-example"}) | frozenset(SHAPE_KINDS),
    description="ModelArts PASCAL VOC 1.0: image + same-stem ModelArts VOC .xml side by side (all shapes)",
    directory=True,
    aliases=("modelarts-pascal-voc-1.0", "voc-pairs"),
    sniff=_sniff_pairs(".xml"),
)

TEXT = Format(
    name="modelarts-text-classification",
    read=_read_text,
    write=_text_writer(combine=False),
    holds=frozenset({TEXT_CLASSIFICATION, "multi-label"}),
    description="ModelArts text classification 1.0: X.txt + X_result.txt, line n labels line n (reads combine too)",
    directory=True,
    aliases=("text-classification",),
    sniff=_sniff_text,
)

TEXT_COMBINE = Format(
    name="modelarts-text-classification-combine",
    read=_read_text,
    write=_text_writer(combine=True),
    holds=frozenset({TEXT_CLASSIFICATION, "multi-label"}),
    description="ModelArts text classification combine 1.0: text<Tab>label,label per line",
    directory=True,
    aliases=("text-classification-combine",),
)

AUDIO = Format(
    name="modelarts-audio-classification",
    read=_folder_reader(AUDIO_CLASSIFICATION, AUDIO_EXTENSIONS, "modelarts-audio-classification"),
    write=_folder_writer(AUDIO_CLASSIFICATION, "modelarts-audio-classification"),
    holds=frozenset({AUDIO_CLASSIFICATION}),
    description="ModelArts audio classification dir 1.0: one folder per label holding its sound files",
    directory=True,
    aliases=("audio-folders",),
    sniff=_sniff_folders(AUDIO_EXTENSIONS),
)
