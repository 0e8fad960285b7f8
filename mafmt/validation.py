"""Validation of ModelArts files: what ``mafmt validate`` checks.

Manifest: streamed in blocks. Plain classification lines, which have no finding by
construction, skip the checks (:mod:`mafmt.lanes`): runs of them in the writer's key order
are taken by one regular expression match, others by a check of their key set and types.
Every other line is checked against the ``manifest-line`` JSON Schema (a compiled fast path
decides valid lines; jsonschema explains failing ones with exact JSON paths), then against
the rules a schema cannot express (manifest.md §12:
entity offsets within the text, triplet ends present, start before end, duplicate ids,
the VOC file behind ``annotation-loc``). VOC: the document's JSON form (:func:`voc_to_json`)
against the ``voc`` schema, errors located by line and element path, plus the reader's
own findings. COCO / YOLO files: their schema where one applies; every registered format:
it reads without error.

Every problem is a :class:`~mafmt.errors.FormatError`; ``severity == "warning"`` items do
not make the input invalid. Manifest lines are decoded with orjson; whatever it rejects is
decoded by :mod:`json`, as the reader does, so the findings do not depend on the decoder.
Speed: bench/validate_manifest.py and bench/RESULTS.md.
"""

from __future__ import annotations

import codecs
import itertools
import json
import re
from collections import Counter
from collections.abc import Generator, Iterator
from typing import Any

from mafmt import lanes, limits, storage
from mafmt.errors import FormatError, LimitError, StorageError
from mafmt.limits import check_depth
from mafmt.line_blocks import line_blocks
from mafmt.progress import Progress
from mafmt.storage.transaction import check_complete

__all__ = ["iter_errors", "validate_voc_bytes", "voc_to_json"]

#: formats whose annotations are (ModelArts) Pascal VOC XML files: validated file by file
VOC_FORMATS = frozenset({"voc", "modelarts-voc", "pascal-voc"})
USAGES = frozenset({"TRAIN", "EVAL", "TEST", "INFERENCE"})
_USAGE_SPELLINGS = USAGES | {u.lower() for u in USAGES}
_TASKS = ("image_classification", "object_detection", "image_segmentation", "text_classification", "text_entity",
          "text_triplet", "audio_classification", "audio_content", "audio_segmentation")
#: every accepted spelling of a type -> its canonical ``modelarts/...`` form
TYPES = {**{f"modelarts/{t}": f"modelarts/{t}" for t in _TASKS}, **{t: f"modelarts/{t}" for t in _TASKS},
         "modelarts/sound_classification": "modelarts/audio_classification",
         "sound_classification": "modelarts/audio_classification"}
_TEXT_TYPES = frozenset({"modelarts/text_classification", "modelarts/text_entity", "modelarts/text_triplet"})
_VOC_TYPES = frozenset({"modelarts/object_detection", "modelarts/image_segmentation"})
_TIME = re.compile(r"^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$")


def iter_errors(path: str, format: str, *, remote: bool = False, read_options: dict[str, Any] | None = None,
                progress: Progress | None = None) -> Iterator[FormatError]:
    """Every problem of the file or folder ``path`` in ``format``, lazily, in file order.

    ``remote=True`` also fetches VOC files that ``annotation-loc`` names by an object-storage
    URI (off by default: validation must not wait on a network it may not have).
    ``read_options`` go to the format's reader (e.g. ``images``/``size_table`` for YOLO).
    ``progress(done, total)`` follows the work: bytes of a manifest, files of a VOC folder
    (:data:`PROGRESS_UNITS` names the unit per format).

    Raises:
        UsageError: ``format`` is not a registered format.
    """
    try:
        check_complete(path)
    except FormatError as exc:
        yield exc
        return
    if format == "manifest":
        yield from _manifest_errors(path, (read_options or {}).get("encoding") or "utf-8", remote=remote,
                                    progress=progress)
    elif format in VOC_FORMATS:
        files = list(_xml_files(path))
        for done, xml_path in enumerate(files):
            if progress is not None:
                progress(done, len(files))
            try:
                data = storage.read_bytes(xml_path, limit=limits.MAX_XML_BYTES)
            except LimitError as exc:
                yield exc
                continue
            except StorageError as exc:
                yield FormatError(exc.message, file=xml_path)
                continue
            yield from validate_voc_bytes(data, xml_path, rules="devkit" if format == "voc" else "modelarts")
        if progress is not None:
            progress(len(files), len(files))
    else:
        from mafmt import converters

        fmt = converters.get(format)  # UsageError for an unknown format
        from mafmt.dataset_files import schema_errors

        structural = False
        for problem in schema_errors(path, fmt.name):
            structural = structural or problem.severity == "error"
            yield problem
        if not structural:  # the reader would only say the same again, in other words
            yield from _read_errors(path, fmt, read_options or {})


# --------------------------------------------------------------------------- manifest


def _known_keys() -> tuple[frozenset[str], frozenset[str]]:
    from mafmt import schemas

    s = schemas.load("manifest-line")
    return frozenset(s["properties"]) | {"annotation"}, frozenset(s["$defs"]["annotation"]["properties"])


# A plain classification line, with its newline, in the key order of mafmt's writer and of
# ModelArts: JSON that has no finding by construction -- strings of printable ASCII without
# escapes (no non-ASCII text, nothing for json and orjson to disagree on), a non-empty source
# that is not content:// text, a known usage, annotations of a classification type with a
# non-empty name and string or flat-object properties, a boolean hard, a hard-coefficient in
# [0, 1], numbers short enough for any decoder; no id (ids are recorded line by line, by
# _LineCheck and the key-and-type check of _plain_object).
_CHAR = rb"[\x20\x21\x23-\x5b\x5d-\x7e]"
_STR = rb'"' + _CHAR + rb'*"'
_NUMBER = rb"-?(?:0|[1-9][0-9]{0,15})(?:\.[0-9]{1,16})?"
_SCALAR = rb"(?:" + _STR + rb"|" + _NUMBER + rb"|true|false|null)"
_MEMBERS = _STR + rb":" + _SCALAR + rb"(?:," + _STR + rb":" + _SCALAR + rb")*+"
_ANNOTATION = (rb'\{"type":"(?:modelarts/)?(?:image|text|audio|sound)_classification","name":"' + _CHAR + rb'+"'
               + rb'(?:,"annotated-by":' + _STR + rb')?(?:,"creation-time":' + _STR + rb')?'
               + rb'(?:,"property":(?:\{(?:' + _MEMBERS + rb')?\}|' + _STR + rb'))?\}')
_LINE = (rb'\{"source":"(?!content://)' + _CHAR + rb'+"(?:,"usage":"(?:TRAIN|EVAL|TEST|INFERENCE)")?'
         + rb'(?:,"annotation":\[(?:' + _ANNOTATION + rb'(?:,' + _ANNOTATION + rb')*+)?\])?'
         + rb'(?:,"hard":(?:true|false))?(?:,"hard-coefficient":(?:0(?:\.[0-9]{1,16})?|1(?:\.0{1,16})?))?\}\n')
#: a run of plain classification lines (possessive: no backtracking state kept between lines)
_PLAIN_LINES = re.compile(rb"(?:" + _LINE + rb")*+")
#: how deep a plain line nests (line, annotation list, annotation, property)
_PLAIN_DEPTH = 4


#: what ``progress(done, total)`` counts, per format (others: no progress)
PROGRESS_UNITS = {"manifest": "B", **dict.fromkeys(VOC_FORMATS, "file")}

#: the only finding whose text holds a line number of the manifest: "duplicate id 'x' (first on line 7)"
FIRST_ON_LINE = "(first on line "


def _manifest_errors(path: str, encoding: str = "utf-8", *, remote: bool = False, span: Any = None,
                     ids: dict[Any, int] | None = None,
                     progress: Progress | None = None) -> Generator[FormatError, None, int]:
    """The problems of a manifest; with ``span`` (a :class:`mafmt.shards.Span`) of its lines in
    that byte range only, numbered from ``span.first_line`` (from 1 when it is 0: the caller
    shifts the numbers), ``ids`` holding the sample ids of the lines before (what
    :mod:`mafmt.scale` gives a shard; the findings are the ones a whole-file run gives for
    those lines). ``progress`` follows the bytes read. Returns the number of the line after
    the last one read.

    Runs of plain classification lines (:data:`_PLAIN_LINES`) are taken by one regular
    expression match, without decoding: they have no finding by construction. Every other
    line goes through :class:`_LineCheck`."""
    check = _LineCheck(path, encoding, remote, {} if ids is None else ids, span is None or span.start == 0)
    try:
        if span is None:
            fh, first = storage.open_read(path), 1
        else:
            from mafmt.storage.ranges import open_range

            fh, first = open_range(path, span.start, span.end), span.first_line or 1
    except StorageError as exc:
        yield FormatError(exc.message, file=path)
        return 1
    total: int | None = None
    if progress is not None:
        try:
            total = storage.stat(path).size
        except StorageError:
            total = None
    plain = _PLAIN_LINES.match if check.lane else None
    lineno, done = first, 0
    with fh:
        for block, too_long in line_blocks(fh):
            start, lineno = lineno, (yield from _block_problems(block, lineno, plain, check))
            if progress is not None:
                done = _progress_in(block, start, done, total, progress)
            if too_long:
                yield LimitError(f"line is longer than the limit of {limits.MAX_LINE_BYTES} bytes", file=path,
                                 line=lineno)
                return lineno
    if progress is not None:
        progress(done, total if total is not None else done)
    return lineno


def _block_problems(block: bytes, lineno: int, plain: Any, check: _LineCheck) -> Generator[FormatError, None, int]:
    """The problems of the lines in ``block`` (the first numbered ``lineno``): each run of plain
    lines skipped by one ``plain(block, pos)`` match, every other line checked alone (after a
    line the match does not take, the next :data:`_UNMATCHED` lines are not tried). Returns
    the number of the line after the block."""
    pos, size, untried = 0, len(block), 0
    clean: bool | None = None  # whether the block is ASCII without \u escapes, found out when needed
    while pos < size:
        if untried:
            untried -= 1
        elif plain is not None:
            end = plain(block, pos).end()
            if end == pos:
                untried = _UNMATCHED
            else:
                lineno += block.count(b"\n", pos, end)
                pos = end
                if pos >= size:
                    break
        stop = block.find(b"\n", pos) + 1 or size
        if clean is None:
            clean = plain is not None and block.isascii() and b"\\u" not in block
        found = check.problems(block[pos:stop], lineno, clean)
        if found:
            yield from found
        lineno += 1
        pos = stop
    return lineno


#: lines not tried by the plain lines' match after one it does not take (a manifest in another
#: key order or with ids is then decoded line by line without trying it again each time)
_UNMATCHED = 32


def _progress_in(block: bytes, lineno: int, done: int, total: int | None, progress: Progress) -> int:
    """``progress(done, total)`` after every 1,000th line of ``block``; the bytes done after it."""
    pos = 0
    for n in range(lineno, lineno + block.count(b"\n")):
        pos = block.index(b"\n", pos) + 1
        if not n % 1000:
            progress(done + pos, total)
    return done + len(block)


class _LineCheck:
    """Every check of one manifest line: the plain shape in any key order first (when ``lane``),
    then the general path, whose schema validator is built at the first line that needs it."""

    def __init__(self, path: str, encoding: str, remote: bool, ids: dict[Any, int], at_start: bool = True) -> None:
        self.path, self.encoding, self.ids = path, encoding, ids
        self.bom_line = 1 if at_start else 0  # (a byte order mark only opens the file's first line)
        self.base = storage.parent(path)
        self.voc_cache: dict[str, list[FormatError]] = {} if remote else _RemoteSkipped()
        self.quick = _QUICK_LOADS if codecs.lookup(encoding).name == "utf-8" else None
        #: whether plain lines may skip the general path: lanes on, UTF-8 decoded by orjson,
        #: and a depth limit that plain lines do not reach
        self.lane = lanes.PLAIN and self.quick is not None and limits.MAX_JSON_DEPTH >= _PLAIN_DEPTH
        self._schema: Any = None

    def _prepare(self) -> None:
        from mafmt import schemas

        check = self._schema = schemas.validator("manifest-line")
        self.fast, self.explain = check.predicate, check.iter_errors
        self.sample_keys, self.ann_keys = _known_keys()

    def problems(self, raw: bytes, lineno: int, clean: bool = False) -> list[FormatError]:
        """The problems of the line ``raw`` (with its newline), numbered ``lineno``; ``clean``:
        it is known to be ASCII without ``\\u`` escapes."""
        if lineno == self.bom_line and raw.startswith(codecs.BOM_UTF8):
            raw = raw[3:]
        obj: Any = _UNSET
        if self.quick is not None:  # (orjson reads ints beyond 64 bits as floats: the rules accept integral floats)
            try:
                obj = self.quick(raw)
            except ValueError:
                pass  # the standard decoder below says what is wrong (or accepts what orjson does not)
            else:
                if (self.lane and (clean or (raw.isascii() and b"\\u" not in raw)) and _plain_object(obj)
                        and self._first(obj, lineno)):
                    return []
        if self._schema is None:
            self._prepare()
        path = self.path
        if obj is _UNSET:
            obj = _slow_decode(raw, self.encoding, path, lineno)
            if obj is None:
                return []
            if isinstance(obj, FormatError):
                return [obj]
        if type(obj) is not dict:
            return [FormatError(f"expected a JSON object, got {type(obj).__name__}", file=path, line=lineno, path="$")]
        if raw.count(b"[") + raw.count(b"{") > limits.MAX_JSON_DEPTH:
            try:
                check_depth(obj, file=path, line=lineno)
            except LimitError as exc:
                return [exc]
        found = [] if self.fast(obj) else [FormatError(msg, file=path, line=lineno, path=jpath)
                                           for jpath, msg in self.explain(obj)]
        return found + _line_rules(obj, raw, path, lineno, self.base, self.ids, self.voc_cache, self.sample_keys,
                                   self.ann_keys)

    def _first(self, obj: dict[str, Any], lineno: int) -> bool:
        """Whether the line's id (if any) is not on an earlier line; a new one is recorded."""
        sid = obj.get("id")
        return sid is None or self.ids.setdefault(sid, lineno) == lineno


#: the keys of a plain line and of its annotations (each a subset of the schema's)
_PLAIN_KEYS = frozenset({"source", "usage", "id", "annotation", "hard", "hard-coefficient"})
_BASIC_KEYS = frozenset({"source", "usage", "annotation"})
_PLAIN_ANNOTATION_KEYS = frozenset({"type", "name", "annotated-by", "creation-time", "property"})
_CLASSIFICATION = frozenset(t for t, kind in TYPES.items() if kind.endswith("_classification"))
_SCALARS = frozenset({str, int, float, bool, type(None)})
_NO_ANNOTATIONS: list[Any] = []


def _plain_object(obj: Any) -> bool:
    """Whether a decoded line (ASCII, no ``\\u`` escapes) has no finding but for a duplicate
    id: what :data:`_PLAIN_LINES` takes, in any key order and spacing, also with an id or a
    lower-case usage."""
    if type(obj) is not dict or not _PLAIN_KEYS.issuperset(obj):
        return False
    source, usage, anns = obj.get("source"), obj.get("usage", "TRAIN"), obj.get("annotation", _NO_ANNOTATIONS)
    if type(source) is not str or not source or source.startswith("content://") or type(anns) is not list:
        return False
    if type(usage) is not str or usage not in _USAGE_SPELLINGS or not (_BASIC_KEYS.issuperset(obj) or _plain_extras(obj)):
        return False
    for ann in anns:
        if type(ann) is not dict or not _PLAIN_ANNOTATION_KEYS.issuperset(ann):
            return False
        kind, name = ann.get("type"), ann.get("name")
        if type(kind) is not str or kind not in _CLASSIFICATION or type(name) is not str or not name:
            return False
        if len(ann) > 2 and not _plain_details(ann):
            return False
    return True


def _plain_extras(obj: dict[str, Any]) -> bool:
    """Whether a line's ``hard``, ``hard-coefficient`` and ``id`` (where given) are plain."""
    coefficient = obj.get("hard-coefficient", 0)
    return (type(obj.get("hard", False)) is bool and type(obj.get("id", "")) in (str, int)
            and type(coefficient) in (int, float) and 0 <= coefficient <= 1)


def _plain_details(ann: dict[str, Any]) -> bool:
    """Whether an annotation's ``annotated-by``, ``creation-time`` and ``property`` (where
    given) are plain: strings, the property also an object of scalars."""
    if type(ann.get("annotated-by", "")) is not str or type(ann.get("creation-time", "")) is not str:
        return False
    prop = ann.get("property", "")
    if type(prop) is dict:
        for value in prop.values():
            if type(value) not in _SCALARS:
                return False
        return True
    return type(prop) is str


def _slow_decode(raw: bytes, encoding: str, path: str, lineno: int) -> Any:
    """The line decoded by the standard library (the reader's decoder): the value, None for
    a blank line, or the FormatError saying why it cannot be decoded."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return FormatError(f"cannot decode as {encoding} (byte {exc.start + 1}: {exc.reason})", file=path, line=lineno)
    try:
        return _STD_LOADS(text)
    except RecursionError:
        return LimitError(f"nested deeper than {limits.MAX_JSON_DEPTH} levels", file=path, line=lineno)
    except ValueError as exc:
        if not text.strip():
            return None  # blank lines are allowed (manifest.md §2.7)
        col = getattr(exc, "colno", None)
        msg = f"invalid JSON: {limits.clip(getattr(exc, 'msg', str(exc)), 120)}" + (f" (column {col})" if col else "")
        return FormatError(msg, file=path, line=lineno)


_UNSET = object()
def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {limits.clip(text, 40)} is too large for a float")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


#: the reader's decoder: no NaN or infinities (they are not JSON), exact integers
_STD_LOADS = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant).decode
_QUICK_LOADS: Any
try:  # a C decoder, ~2.5x faster than json's on manifest lines; json decides whatever it rejects
    from orjson import loads as _QUICK_LOADS
except ImportError:  # pragma: no cover - orjson is a dependency, but the stdlib path is complete
    _QUICK_LOADS = None


def _line_rules(
    obj: dict[str, Any], text: bytes, file: str, line: int, base: str, ids: dict[Any, int],
    voc_cache: dict[str, list[FormatError]], sample_keys: frozenset[str], ann_keys: frozenset[str],
) -> list[FormatError]:
    """The manifest.md §12 rules a JSON Schema cannot express (errors and warnings)."""
    out: list[FormatError] = []
    if not sample_keys.issuperset(obj):
        out += [_warn(file, line, _jp(k), "unknown key (kept)") for k in obj if k not in sample_keys]
    usage = obj.get("usage")
    if type(usage) is str and usage not in _USAGE_SPELLINGS and usage.upper() not in USAGES:
        out.append(_warn(file, line, "$.usage", f"unknown usage {usage!r} (expected TRAIN, EVAL, TEST or INFERENCE)"))
    if type(obj.get("hard")) is str:
        out.append(_warn(file, line, "$.hard", "hard given as a string; write a JSON boolean"))
    sid = obj.get("id")
    if sid is not None and type(sid) in (str, int):
        first = ids.setdefault(sid, line)
        if first != line:
            out.append(_warn(file, line, "$.id", f"duplicate id {sid!r} {FIRST_ON_LINE}{first})"))
    if not text.isascii() or b"\\u" in text:  # raw or \u-escaped
        out += [_warn(file, line, p, "non-ASCII text outside source and name") for p in _non_ascii(obj)]
    anns = obj.get("annotation")
    if type(anns) is list and anns:
        _annotation_rules(obj, anns, out, file, line, base, voc_cache, ann_keys)
    return out


def _warn(file: str, line: int, jpath: str, msg: str) -> FormatError:
    return FormatError(msg, file=file, line=line, path=jpath, severity="warning")


def _annotation_rules(
    obj: dict[str, Any], anns: list[Any], out: list[FormatError], file: str, line: int, base: str,
    voc_cache: dict[str, list[FormatError]], ann_keys: frozenset[str],
) -> None:
    source = obj.get("source")
    content = source[10:] if type(source) is str and source.startswith("content://") else None
    superset = ann_keys.issuperset
    for i, ann in enumerate(anns):
        if type(ann) is not dict:
            continue
        if not superset(ann):
            out += [_warn(file, line, _at(i) + _jp(k)[1:], "unknown key (kept)") for k in ann if k not in ann_keys]
        kind = ann.get("type")
        kind = TYPES.get(kind) if type(kind) is str else None
        if kind is None:
            if type(ann.get("type")) is str:
                out.append(_warn(file, line, _at(i) + ".type", f"unknown type {ann['type']!r} (kept, not interpreted)"))
            continue
        if "hard" in ann and type(ann["hard"]) is str:
            out.append(_warn(file, line, _at(i) + ".hard", "hard given as a string; write a JSON boolean"))
        if content is not None and kind not in _TEXT_TYPES:
            out.append(_warn(file, line, "$.source", f"content:// text used with {kind}"))
        rule = _KIND_RULES.get(kind)
        if rule is not None:
            rule(ann, i, anns, content, out, file, line, base, voc_cache)


def _entity_rule(ann: dict[str, Any], i: int, anns: list[Any], content: str | None, out: list[FormatError],
                 file: str, line: int, base: str, voc_cache: Any) -> None:
    prop = ann.get("property")
    if type(prop) is dict:
        start, end = _integral(prop.get("@modelarts:start_index")), _integral(prop.get("@modelarts:end_index"))
        if start is not None and end is not None:
            if start >= end:
                out.append(FormatError(f"end_index {end} is not after start_index {start}", file=file,
                                       line=line, path=_at(i) + ".property['@modelarts:end_index']"))
            elif content is not None and end > len(content):
                out.append(FormatError(f"{end} is past the end of the text ({len(content)})", file=file,
                                       line=line, path=_at(i) + ".property['@modelarts:end_index']"))


def _integral(value: Any) -> int | None:
    """An integer as JSON Schema sees one (``3`` or ``3.0``), else None."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    return None


def _triplet_rule(ann: dict[str, Any], i: int, anns: list[Any], content: str | None, out: list[FormatError],
                  file: str, line: int, base: str, voc_cache: Any) -> None:
    prop = ann.get("property")
    if type(prop) is not dict:
        return
    entity_ids = {a.get("id") for a in anns if type(a) is dict and type(a.get("type")) is str
                  and TYPES.get(a["type"]) == _ENTITY and type(a.get("id")) in (str, int)}
    for key in ("@modelarts:from", "@modelarts:to"):
        ref = prop.get(key)
        if type(ref) is str and ref not in entity_ids:
            out.append(FormatError(f"no text_entity with id {ref!r} in this line", file=file, line=line,
                                   path=f"{_at(i)}.property['{key}']"))


def _segment_rule(ann: dict[str, Any], i: int, anns: list[Any], content: str | None, out: list[FormatError],
                  file: str, line: int, base: str, voc_cache: Any) -> None:
    prop = ann.get("property")
    if type(prop) is dict:
        start, end = _seconds(prop.get("@modelarts:start_time")), _seconds(prop.get("@modelarts:end_time"))
        if start is not None and end is not None and start >= end:
            out.append(FormatError("end_time is not after start_time", file=file, line=line,
                                   path=_at(i) + ".property['@modelarts:end_time']"))


def _voc_rule(ann: dict[str, Any], i: int, anns: list[Any], content: str | None, out: list[FormatError],
              file: str, line: int, base: str, voc_cache: Any) -> None:
    fmt = ann.get("annotation-format", ann.get("annotation_format"))
    if fmt is not None and fmt != "PASCAL VOC":
        out.append(_warn(file, line, _at(i) + "['annotation-format']", f"{fmt!r} is not 'PASCAL VOC' (kept, not interpreted)"))
    key = "annotation-loc" if "annotation-loc" in ann else "annotation_loc"
    loc = ann.get(key)
    if type(loc) is str and loc:
        for e in _voc_problems(base, loc, voc_cache):
            out.append(FormatError(f"{loc}: {e}", file=file, line=line, path=f"{_at(i)}['{key}']", severity=e.severity))


_ENTITY = "modelarts/text_entity"
_KIND_RULES = {_ENTITY: _entity_rule, "modelarts/text_triplet": _triplet_rule,
               "modelarts/audio_segmentation": _segment_rule, "modelarts/object_detection": _voc_rule,
               "modelarts/image_segmentation": _voc_rule}


def _at(i: int) -> str:
    return f"$.annotation[{i}]"


def _jp(key: str) -> str:
    from mafmt.schemas import json_path

    return json_path([key])


def _non_ascii(obj: dict[str, Any]) -> Iterator[str]:
    """JSON paths of non-ASCII strings (keys or values) except ``source`` and ``name``."""

    def walk(value: Any, parts: list[Any]) -> Iterator[list[Any]]:
        if isinstance(value, dict):
            for k, v in value.items():
                if not k.isascii():
                    yield [*parts, k]
                elif k not in ("source", "name") or len(parts) > 2:
                    yield from walk(v, [*parts, k])
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from walk(v, [*parts, i])
        elif isinstance(value, str) and not value.isascii():
            yield parts

    from mafmt.schemas import json_path

    for parts in walk(obj, []):
        yield json_path(parts)


def _seconds(value: Any) -> float | None:
    m = _TIME.match(value) if isinstance(value, str) else None
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)) if m else None


#: the VOC files' findings kept for lines that name a file again (memory stays flat in the
#: number of files and problems)
_VOC_CACHE = 8192


class _RemoteSkipped(dict):  # type: ignore[type-arg]
    """A VOC cache that marks object-storage locations as not to be fetched."""


def _voc_problems(base: str, ref: str, cache: dict[str, list[FormatError]]) -> list[FormatError]:
    found = cache.get(ref)
    if found is not None:
        return found
    if len(cache) >= _VOC_CACHE:  # bounded: the oldest half goes (a file named again later is read again)
        for key in list(itertools.islice(cache, _VOC_CACHE // 2)):
            del cache[key]
    loc = storage.resolve(base, ref)
    if isinstance(cache, _RemoteSkipped) and storage.scheme_of(loc) not in (None, "file"):
        cache[ref] = []
        return []
    if loc not in cache:
        try:
            data = storage.read_bytes(loc, limit=limits.MAX_XML_BYTES)
        except LimitError as exc:
            cache[loc] = [FormatError(f"VOC file {exc.reason}")]
            cache[ref] = cache[loc]
            return cache[loc]
        except StorageError as exc:
            # a remote file we cannot reach (no credentials, no network) is not proof of an error
            remote = storage.scheme_of(loc) not in (None, "file")
            severity = "warning" if remote and exc.status != 404 else "error"
            cache[loc] = [FormatError(f"VOC file cannot be read: {exc.message}", severity=severity)]
        else:
            cache[loc] = [
                FormatError(f"{e.path}: {e.reason}" if e.path else e.reason, severity=e.severity)
                for e in validate_voc_bytes(data, loc)
            ]
    cache[ref] = cache[loc]
    return cache[loc]


# --------------------------------------------------------------------------- VOC


_CONTAINERS = frozenset({"annotation", "size", "source", "object", "part", "properties", "bndbox", "point", "line",
                         "dashed", "polygon", "polyline", "circle"})


def voc_to_json(root: Any, skip: frozenset[int] = frozenset()) -> tuple[dict[str, Any],
                                                                      dict[tuple[Any, ...], tuple[Any, str]]]:
    """The JSON form of a VOC element tree, as the ``voc`` schema expects it.

    Elements with children become objects, leaves their stripped text; ``object`` and
    ``part`` are always arrays, any other repeated element becomes an array. The objects
    whose index (0-based) is in ``skip`` are left as None (ones known to be valid).

    Returns:
        The JSON form and a map from JSON path (a tuple of keys and indexes) to the element
        and its element path (``/annotation/object[2]/bndbox``), both built in one walk.
    """
    where: dict[tuple[Any, ...], tuple[Any, str]] = {(): (root, "/annotation")}

    def convert(el: Any, parts: tuple[Any, ...], elpath: str) -> Any:
        kids = [c for c in el if isinstance(c.tag, str)]
        if not kids:
            text = (el.text or "").strip()
            return {} if not text and el.tag in _CONTAINERS else text
        total = Counter(c.tag for c in kids)
        seen: Counter[str] = Counter()
        out: dict[str, Any] = {}
        for c in kids:
            tag = c.tag
            seen[tag] += 1
            indexed = total[tag] > 1 or tag in ("object", "part")
            cpath = f"{elpath}/{tag}[{seen[tag]}]" if indexed else f"{elpath}/{tag}"
            if tag in ("object", "part"):
                items = out.setdefault(tag, [])
                path = (*parts, tag, len(items))
                if skip and not parts and tag == "object" and len(items) in skip:
                    items.append(None)
                    continue
                where[path] = (c, cpath)
                items.append(convert(c, path, cpath))
            elif total[tag] > 1:
                items = out.setdefault(tag, [])
                path = (*parts, tag, len(items))
                where[path] = (c, cpath)
                if len(items) == 0:
                    where[(*parts, tag)] = (c, cpath)
                items.append(convert(c, path, cpath))
            else:
                where[(*parts, tag)] = (c, cpath)
                out[tag] = convert(c, (*parts, tag), cpath)
        return out

    data = convert(root, (), "/annotation")
    return (data if isinstance(data, dict) else {}), where


def validate_voc_bytes(data: bytes, name: str | None = None, *, rules: str = "modelarts") -> list[FormatError]:
    """Every problem of one VOC document, in document order, each with line and element path.

    The document is parsed once. The reader's findings (under ``rules``: ``"modelarts"`` or
    the VOC ``"devkit"``'s) are merged with the schema errors of the JSON form: where both
    speak of the same element the reader's (more specific) message is kept; a reader issue
    inside or around an element the schema already flagged is dropped as a duplicate. An
    empty ``<annotation/>`` is a valid (empty) document, as for the reader.
    """
    from mafmt import schemas, voc  # (imported here: a manifest of classification lines does without lxml)

    text_read = voc.parse.plain_text_records(data, name, rules)
    if text_read is not None:
        return text_read[3]  # a plain document read from its text: its issues are all its problems
    try:
        root = voc.parse.parse_tree(data, name)
        issues, valid = voc.parse.document_issues(root, name, rules=rules)
    except FormatError as exc:
        return [exc]
    if not len(root):
        return issues
    doc, where = voc_to_json(root, valid)  # (without the plain objects: they break no rule of the schema)
    cap = limits.MAX_DOCUMENT_FINDINGS
    explained = list(schemas.validator("voc").iter_errors_by_item(doc, "object", limit=cap, known=valid))
    if not explained:
        return issues
    capped = bool(issues) and voc.parse.is_unlisted_note(issues[-1])  # the reader stopped listing
    if capped:
        issues = issues[:-1]
    reader_paths = {i.path for i in issues}
    schema_errors = [e for e in (_locate(jpath, msg, where, name) for jpath, msg in explained)
                     if not (rules == "devkit" and e.path in reader_paths)]
    shared = {e.path for e in schema_errors} & reader_paths
    found = [e for e in schema_errors if e.path not in shared]
    flagged = {e.path for e in found if e.path}
    inside = {a for p in flagged for a in _ancestors(p)}  # every path below which something was flagged
    found += [i for i in issues
              if i.path in shared or not (i.path and (i.path in flagged or i.path in inside
                                                      or any(a in flagged for a in _ancestors(i.path))))]
    found.sort(key=lambda e: (e.line or 0))
    if capped or len(found) > cap:  # bounded, on any input: one finding stands for the rest
        exact = None if capped or len(schema_errors) >= cap else len(found) - cap
        line = found[cap].line if len(found) > cap else None
        found = found[:cap] + [voc.parse.unlisted_note(exact, name, line)]
    return found


def _ancestors(path: str) -> Iterator[str]:
    """The element paths above ``path``, below the root (``/annotation`` itself excluded)."""
    cut = path.rfind("/")
    while cut > len("/annotation"):
        path = path[:cut]
        yield path
        cut = path.rfind("/")


_PART = re.compile(r"\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\.([A-Za-z_][A-Za-z0-9_]*)")


def _locate(jpath: str, msg: str, where: dict[tuple[Any, ...], tuple[Any, str]], name: str | None) -> FormatError:
    """Turn a JSON path of the VOC JSON form into the element path and line."""
    parts: list[Any] = []
    for m in _PART.finditer(jpath[1:]):
        parts.append(int(m.group(1)) if m.group(1) is not None else (m.group(2) if m.group(2) is not None else m.group(3)))
    tail: list[str] = []
    while tuple(parts) not in where and parts:
        last = parts.pop()
        if isinstance(last, str):
            tail.insert(0, last)
    el, xp = where.get(tuple(parts), (None, "/annotation"))
    return FormatError(msg, file=name, line=getattr(el, "sourceline", None), path="/".join([xp, *tail]))


def _xml_files(path: str) -> Iterator[str]:
    """The XML files of a file or folder (sub-folders included, e.g. a dataset's Annotations/)."""
    if storage.is_dir(path):
        yield from sorted(p for p in storage.iter_files(path, recursive=True) if p.lower().endswith(".xml"))
    else:
        yield path


# --------------------------------------------------------------------------- other formats


def _read_errors(path: str, fmt: Any, options: dict[str, Any]) -> Iterator[FormatError]:
    """What the format's own reader reports while reading everything."""
    from mafmt.converters._common import accepted

    try:
        stream = fmt.read(path, on_error="skip", **accepted(fmt.read, options))
        for _ in stream:
            pass
    except FormatError as exc:
        yield exc
        return
    except StorageError as exc:
        yield FormatError(exc.message, file=path)
        return
    report = getattr(stream, "report", None)
    yield from (report.problems if report is not None else [])
