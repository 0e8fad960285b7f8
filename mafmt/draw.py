"""Visual overlays (``mafmt draw``) and the ``mafmt stats --plot`` dashboard, with Pillow.

Every VOC shape kind is drawn over its image with its label; colours come from the
label's ``@modelarts:color`` (VOC object property or annotation property) when present,
else from a fixed palette by label. With ``only_issues`` just the samples QA flagged are
drawn, the offending shapes outlined thick in :data:`HIGHLIGHT` (a sample-level issue
frames the whole image). A contact sheet of thumbnails is written beside them.
"""

from __future__ import annotations

import itertools
import math
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mafmt import storage
from mafmt.errors import FormatError, UsageError
from mafmt.model import BndBox, Circle, Dashed, Detection, Line, Point, Polygon, Polyline, Sample

if TYPE_CHECKING:
    from PIL import Image as PILImage


__all__ = ["HIGHLIGHT", "DrawReport", "color_for", "dashboard", "draw", "render"]

HIGHLIGHT = (255, 0, 255)
PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40)]
THUMB = 160


@dataclass(slots=True)
class DrawReport:
    """Files written and samples that could not be drawn (with why)."""

    written: list[str] = field(default_factory=list)
    contact_sheet: str | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"written": self.written, "contact_sheet": self.contact_sheet,
                "skipped": [{"source": s, "reason": r} for s, r in self.skipped]}


def _hex(value: Any) -> tuple[int, int, int] | None:
    if isinstance(value, str) and len(value.strip()) == 7 and value.strip().startswith("#"):
        try:
            n = int(value.strip()[1:], 16)
        except ValueError:
            return None
        return ((n >> 16) & 255, (n >> 8) & 255, n & 255)
    return None


def color_for(label: str | None, *props: dict[str, Any] | None) -> tuple[int, int, int]:
    """The label's ``@modelarts:color`` from the first property dict that has one, else a
    palette colour fixed by the label text."""
    for prop in props:
        rgb = _hex((prop or {}).get("@modelarts:color"))
        if rgb is not None:
            return rgb
    return PALETTE[zlib.crc32((label or "").encode("utf-8")) % len(PALETTE)]


def render(sample: Sample, image: PILImage.Image, highlight: Iterable[tuple[int | None, int | None]] = ()) -> PILImage.Image:
    """Draw the sample's annotations over a copy of ``image``.

    Args:
        highlight: ``(annotation index, object index)`` pairs to outline in :data:`HIGHLIGHT`;
            ``(None, None)`` or an annotation without object frames the whole image.
    """
    from PIL import Image, ImageDraw

    base = image.convert("RGB")
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    fill = ImageDraw.Draw(overlay)
    width = max(2, round(min(base.size) / 200))
    marks = set(highlight)
    texts: list[str] = []
    later: list[tuple[Any, tuple[int, int, int], str | None, bool]] = []
    for i, ann in enumerate(sample.annotations):
        if not isinstance(ann, Detection):
            if ann.name:
                texts.append(ann.name)
            continue
        try:
            doc = ann.load()
        except FormatError:
            continue
        for j, obj in enumerate(doc.iter_objects()):
            if obj.shape is None:
                continue
            rgb = color_for(obj.name, obj.properties, ann.property)
            if isinstance(obj.shape, Polygon):
                fill.polygon([(float(x), float(y)) for x, y in obj.shape.points], fill=(*rgb, 60))
            later.append((obj.shape, rgb, obj.name, (i, j) in marks))
    base = Image.alpha_composite(base.convert("RGBA"), overlay).convert("RGB")
    pen = ImageDraw.Draw(base)
    for shape, rgb, name, marked in sorted(later, key=lambda t: t[3]):
        _shape(pen, shape, HIGHLIGHT if marked else rgb, width * 2 if marked else width)
        x0, y0 = shape.bbox()[:2]
        if name:
            _label(pen, (float(x0), float(y0)), name, rgb)
    for k, text in enumerate(texts):
        _label(pen, (4.0, 4.0 + 14 * k), text, color_for(text, sample.annotations[0].property), below=True)
    if any(obj is None for _, obj in marks):
        pen.rectangle([0, 0, base.width - 1, base.height - 1], outline=HIGHLIGHT, width=width * 2)
    return base


def _shape(pen: Any, shape: Any, rgb: tuple[int, int, int], width: int) -> None:
    if isinstance(shape, BndBox):
        x0, y0, x1, y1 = (float(v) for v in shape.bbox())
        pen.rectangle([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], outline=rgb, width=width)
    elif isinstance(shape, Circle):
        cx, cy, r = float(shape.cx), float(shape.cy), abs(float(shape.r))
        pen.ellipse([cx - r, cy - r, cx + r, cy + r], outline=rgb, width=width)
    elif isinstance(shape, Point):
        x, y, r = float(shape.x), float(shape.y), width * 2
        pen.ellipse([x - r, y - r, x + r, y + r], fill=rgb)
    elif isinstance(shape, Dashed):
        _dashed(pen, shape.points, rgb, width)
    elif isinstance(shape, (Line, Polyline, Polygon)):
        pts = [(float(x), float(y)) for x, y in shape.points]
        if isinstance(shape, Polygon) and len(pts) > 2:
            pts.append(pts[0])
        pen.line(pts, fill=rgb, width=width, joint="curve")


def _dashed(pen: Any, points: Any, rgb: tuple[int, int, int], width: int, dash: float = 8.0) -> None:
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        length = math.hypot(float(x1) - float(x0), float(y1) - float(y0))
        steps = max(1, int(length // dash))
        for k in range(0, steps, 2):
            a, b = k / steps, min(1.0, (k + 1) / steps)
            pen.line([(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a), (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)],
                     fill=rgb, width=width)


def _label(pen: Any, at: tuple[float, float], text: str, rgb: tuple[int, int, int], below: bool = False) -> None:
    x, y = at
    left, top, right, bottom = pen.textbbox((0, 0), text)
    h = bottom - top + 4
    y = y if below else max(0.0, y - h)
    pen.rectangle([x, y, x + right - left + 4, y + h], fill=rgb)
    dark = sum(rgb) > 380
    pen.text((x + 2, y + 1), text, fill=(0, 0, 0) if dark else (255, 255, 255))


def draw(path: str | os.PathLike[str], *, images: str | None, out: str | os.PathLike[str], format: str | None = None,
         limit: int | None = None, only_issues: bool = False, labels: Iterable[str] | None = None,
         overwrite: bool = False, progress: Any = None, **options: Any) -> DrawReport:
    """Render samples of a dataset over their images into the folder ``out`` plus
    ``contact_sheet.png``, as one transaction (an existing ``out`` only with ``overwrite``).

    Args:
        limit: draw at most this many samples.
        only_issues: draw only samples QA flags, highlighting the offending shapes.
        labels: declared label set passed to QA (with ``only_issues``).
        progress: ``progress(done, total)`` after each sample.
        options: go to the format's reader.
    """
    from mafmt import converters
    from mafmt.converters._common import accepted
    from mafmt.progress import Tracked
    from mafmt.quality import qa as run_qa
    from mafmt.storage.transaction import Transaction

    path, out = os.fspath(path), os.fspath(out)
    fmt = converters.get(format) if format else converters.detect(path)
    if images is not None and not storage.is_dir(images):
        raise UsageError(f"{images}: not a folder (--images)")
    flagged: dict[int, list[Any]] | None = None
    if only_issues:
        flagged = run_qa(path, fmt.name, images=images, labels=labels, **options).flagged()
    report = DrawReport()
    thumbs: list[tuple[str, PILImage.Image]] = []
    stream = Tracked(fmt.read(path, on_error="skip", **accepted(fmt.read, {"images": images, **options})), progress)
    with Transaction(out, folder=True, overwrite=overwrite) as tx:
        for index, sample in enumerate(stream):
            if limit is not None and len(report.written) >= limit:
                break
            if flagged is not None and index not in flagged:
                continue
            marks = [(i.annotation, i.object) for i in (flagged or {}).get(index, [])]
            picture = _open(sample, images, report)
            if picture is None:
                continue
            result = render(sample, picture, marks)
            stem = os.path.splitext(os.path.basename(sample.source.replace("\\", "/")))[0] or "sample"
            name = f"{index + 1:05d}_{stem}.png"
            result.save(tx.path(name), format="PNG")
            report.written.append(os.path.join(out, name))
            thumb = result.copy()
            thumb.thumbnail((THUMB, THUMB))
            thumbs.append((stem, thumb))
        if thumbs:
            contact_sheet(thumbs).save(tx.path("contact_sheet.png"), format="PNG")
            report.contact_sheet = os.path.join(out, "contact_sheet.png")
    return report


def _open(sample: Sample, images: str | None, report: DrawReport) -> PILImage.Image | None:
    from PIL import Image, UnidentifiedImageError

    from mafmt.quality import image_path

    doc = None
    for ann in sample.annotations:
        if isinstance(ann, Detection):
            try:
                doc = ann.load()
            except FormatError:
                pass
            break
    where = image_path(sample, images, doc)
    if where is None or not storage.exists(where):
        report.skipped.append((sample.source, "image not found" if where else "no local image"))
        return None
    try:
        with storage.open_read(where) as fh, Image.open(fh) as img:
            img.load()
            return img.copy()
    except (OSError, UnidentifiedImageError) as exc:
        report.skipped.append((sample.source, f"unreadable image: {exc}"))
        return None


def contact_sheet(thumbs: list[tuple[str, PILImage.Image]]) -> PILImage.Image:
    """A grid of thumbnails with their names underneath."""
    from PIL import Image, ImageDraw

    cols = max(1, math.ceil(math.sqrt(len(thumbs))))
    rows = math.ceil(len(thumbs) / cols)
    cell_h = THUMB + 16
    sheet = Image.new("RGB", (cols * (THUMB + 8) + 8, rows * cell_h + 8), (32, 32, 32))
    pen = ImageDraw.Draw(sheet)
    for k, (name, thumb) in enumerate(thumbs):
        x, y = 8 + (k % cols) * (THUMB + 8), 8 + (k // cols) * cell_h
        sheet.paste(thumb, (x + (THUMB - thumb.width) // 2, y + (THUMB - thumb.height) // 2))
        pen.text((x, y + THUMB + 2), name[:26], fill=(230, 230, 230))
    return sheet


#: picture types the pictures are written as, by extension
IMAGE_TYPES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def picture_type(target: str) -> str:
    """The Pillow format for ``target``'s extension.

    Raises:
        UsageError: an extension mafmt does not write pictures as.
    """
    ext = os.path.splitext(target)[1].lower()
    kind = IMAGE_TYPES.get(ext)
    if kind is None:
        raise UsageError(f"{target}: cannot write a picture as {ext or 'a file without extension'} "
                         f"(use {', '.join(IMAGE_TYPES)})")
    return kind


def save_picture(image: PILImage.Image, target: str, *, overwrite: bool = False) -> str:
    """Write ``image`` to ``target`` as one file transaction (its type from the extension)."""
    from mafmt.storage.transaction import Transaction

    kind = picture_type(target)
    with Transaction(target, folder=False, overwrite=overwrite) as tx, tx.open() as fh:
        image.save(fh, format=kind)
    return target


def dashboard(panels: list[tuple[str, list[tuple[str, int]]]], footer: str, target: str, *,
              overwrite: bool = False) -> str:
    """A 2x2 picture of bar charts (``(title, [(name, count), ...])`` each) with a footer line."""
    from PIL import Image, ImageDraw

    w, h = 480, 300
    img = Image.new("RGB", (2 * w, 2 * h), (255, 255, 255))
    pen = ImageDraw.Draw(img)
    for k, (title, items) in enumerate(panels[:4]):
        _bars(pen, ((k % 2) * w, (k // 2) * h, w, h), title, items)
    pen.text((8, 2 * h - 14), footer, fill=(90, 90, 90))
    return save_picture(img, target, overwrite=overwrite)


def _bars(pen: Any, box: tuple[int, int, int, int], title: str, items: list[tuple[str, int]]) -> None:
    x, y, w, h = box
    pen.text((x + 10, y + 8), title, fill=(0, 0, 0))
    if not items:
        pen.text((x + 10, y + 30), "(none)", fill=(120, 120, 120))
        return
    top = max(n for _, n in items) or 1
    row = min(20, (h - 40) // len(items))
    for k, (name, n) in enumerate(items):
        ty = y + 30 + k * row
        length = int((w - 170) * n / top)
        pen.text((x + 10, ty), name[:16], fill=(40, 40, 40))
        pen.rectangle([x + 120, ty, x + 120 + max(1, length), ty + row - 4], fill=color_for(name))
        pen.text((x + 126 + length, ty), str(n), fill=(40, 40, 40))
