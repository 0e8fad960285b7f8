"""mafmt: ModelArts dataset annotations, read, written, converted and checked.

The short API::

    import mafmt
    for sample in mafmt.read("train.manifest"):          # any format, streamed
        ...
    report = mafmt.write(samples, "out/", format="voc")  # -> Report (written / skipped / lost)
    report = mafmt.convert("train.manifest", "voc_out/", dst_format="voc")

Format modules: :mod:`mafmt.manifest`, :mod:`mafmt.voc`, and the converters in
:mod:`mafmt.converters`. The ModelArts-SDK-compatible facade lives in
:mod:`mafmt.modelarts`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mafmt.errors import (
    APIError,
    FormatError,
    LossError,
    MafmtError,
    StorageError,
    UnsafeXmlError,
    UsageError,
)

if TYPE_CHECKING:
    from mafmt.dataset_stats import Stats
    from mafmt.model import (
        Annotation,
        BndBox,
        Circle,
        Classification,
        Dashed,
        Detection,
        Entity,
        Line,
        Point,
        Polygon,
        Polyline,
        Sample,
        SpeechSegment,
        Transcript,
        Triplet,
        VocDocument,
        VocObject,
        VocSource,
    )
    from mafmt.progress import Progress
    from mafmt.publishing import publish
    from mafmt.quality import QaReport
    from mafmt.report import Report, Stream
    from mafmt.summary import Summary

#: names that load on first use (``import mafmt`` stays cheap: the CLI starts with it)
_LAZY = {
    **dict.fromkeys(("Annotation", "BndBox", "Circle", "Classification", "Dashed", "Detection", "Entity", "Line",
                     "Point", "Polygon", "Polyline", "Sample", "SpeechSegment", "Transcript", "Triplet",
                     "VocDocument", "VocObject", "VocSource"), "mafmt.model"),
    "Report": "mafmt.report",
    "Stream": "mafmt.report",
    "Summary": "mafmt.summary",
    "publish": "mafmt.publishing",
}


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mafmt' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "APIError",
    "Annotation",
    "BndBox",
    "Circle",
    "Classification",
    "Dashed",
    "Detection",
    "Entity",
    "FormatError",
    "Line",
    "LossError",
    "MafmtError",
    "Point",
    "Polygon",
    "Polyline",
    "Report",
    "Sample",
    "SpeechSegment",
    "StorageError",
    "Stream",
    "Summary",
    "Transcript",
    "Triplet",
    "UnsafeXmlError",
    "UsageError",
    "VocDocument",
    "VocObject",
    "VocSource",
    "__version__",
    "convert",
    "inspect",
    "publish",
    "qa",
    "read",
    "stats",
    "validate",
    "write",
]


def read(path_or_uri: str | os.PathLike[str], format: str | None = None, **options: Any) -> Stream[Sample]:
    """Stream the samples of a file or folder; the format is inferred when omitted.

    Options go to the format's reader (e.g. ``encoding="gbk"``, ``on_error="skip"``).
    """
    from mafmt import converters

    path = os.fspath(path_or_uri)
    fmt = converters.get(format) if format else converters.detect(path)
    return fmt.read(path, **options)  # type: ignore[return-value]


def write(samples: Iterable[Sample], target: str | os.PathLike[str], format: str | None = None, **options: Any) -> Report:
    """Write samples in ``format`` (inferred from the target's extension when omitted).

    Returns:
        A :class:`Report` with written / skipped counts and every loss by kind.
    """
    from mafmt import converters

    path = os.fspath(target)
    fmt = converters.get(format) if format else converters.target_format(path)
    return fmt.write(samples, path, **options)


def convert(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    src_format: str | None = None,
    dst_format: str | None = None,
    *,
    workers: int | str | None = 1,
    scheduler: Any = None,
    **options: Any,
) -> Report:
    """Read ``src`` and write ``dst`` through the shared model (see :func:`mafmt.converters.convert`).

    ``workers``: read the source's shards on that many local Dask worker processes
    (``"auto"``: the cores available); ``scheduler``: on the Dask cluster at that address (or
    a ``distributed.Client``). The output is the one of a single process (:mod:`mafmt.scale`);
    needs the extra ``mafmt[dask]``.
    """
    from mafmt import distributed

    if not distributed.wanted(workers, scheduler):
        from mafmt import converters

        return converters.convert(src, dst, src_format, dst_format, **options)
    distributed.warm(scheduler, "convert")  # (before this process imports them)
    from mafmt import converters, scale, storage

    s, d = os.fspath(src), os.fspath(dst)
    listing = storage.Snapshot()  # (the source listed once, for its detection and its cutting)
    with listing:
        reader = converters.get(src_format) if src_format else converters.detect(s)
    writer = converters.get(dst_format) if dst_format else converters.target_format(d)
    flags = {k: options.pop(k) for k in ("strict", "on_error", "overwrite", "read_options", "progress")
             if k in options}
    return scale.convert(s, d, reader, writer, strict=flags.get("strict", False),
                         on_error=flags.get("on_error", "raise"), overwrite=flags.get("overwrite", False),
                         read_options=dict(flags.get("read_options") or {}), write_options=options,
                         workers=workers, scheduler=scheduler, listing=listing,
                         one_process=lambda: converters.convert(s, d, reader.name, writer.name, **flags, **options))


def inspect(path_or_uri: str | os.PathLike[str], format: str | None = None, *, progress: Progress | None = None,
            **options: Any) -> Summary:
    """Count samples, annotations by type, labels and shapes of a dataset.

    ``progress(done, total)`` is called after each sample; ``options`` go to the reader.
    """
    from mafmt import converters
    from mafmt.converters._common import accepted
    from mafmt.progress import Tracked
    from mafmt.summary import summarize

    path = os.fspath(path_or_uri)
    fmt = converters.get(format) if format else converters.detect(path)
    stream = fmt.read(path, on_error="skip", **accepted(fmt.read, options))
    return summarize(Tracked(stream, progress), fmt.name)


def validate(path_or_uri: str | os.PathLike[str], format: str | None = None, *, remote: bool = False,
             workers: int | str | None = 1, scheduler: Any = None, **read_options: Any) -> list[FormatError]:
    """Every problem of a file or folder (errors and warnings); valid when no item has
    ``severity == "error"``. ``remote=True`` also fetches VOC files on object storage;
    ``read_options`` (``images=``, ``size_table=``) go to the format's reader.
    ``workers``/``scheduler``: check shards on Dask workers (:mod:`mafmt.scale`; the same
    findings, in the same order)."""
    from mafmt import distributed
    from mafmt.format_lookup import name_of

    path = os.fspath(path_or_uri)
    name = name_of(path, format)  # (a local manifest without loading the registry)
    if distributed.wanted(workers, scheduler):
        distributed.warm(scheduler, "validate")
        from mafmt import scale

        return scale.validate(path, name, remote=remote, read_options=read_options, workers=workers,
                              scheduler=scheduler)
    from mafmt.validation import iter_errors

    return list(iter_errors(path, name, remote=remote, read_options=read_options))


def qa(path_or_uri: str | os.PathLike[str], format: str | None = None, *, images: str | None = None,
       labels: Iterable[str] | None = None, remote: bool = False, progress: Progress | None = None,
       workers: int | str | None = 1, scheduler: Any = None, **options: Any) -> QaReport:
    """Semantic checks of a dataset of any format (see :mod:`mafmt.quality` for the check ids).
    ``workers``/``scheduler``: check shards on Dask workers (:mod:`mafmt.scale`; the same
    issues, in the same order)."""
    from mafmt import distributed

    if distributed.wanted(workers, scheduler):
        distributed.warm(scheduler, "qa")
        from mafmt import converters, scale, storage
        from mafmt.converters._common import accepted
        from mafmt.quality import qa as run

        path = os.fspath(path_or_uri)
        with storage.Snapshot():  # (a job that only reads: its source listed once, for detecting and cutting)
            fmt = converters.get(format) if format else converters.detect(path)
            labels = list(labels) if labels is not None else None
            if images is not None and not os.path.isdir(images) and not images.startswith(("obs://", "s3://")):
                return run(path, fmt.name, images=images, labels=labels, remote=remote, **options)  # its usage error
            return scale.qa(path, fmt.name, images=images, labels=labels,  # type: ignore[no-any-return]
                            remote=remote, read_options=accepted(fmt.read, {"images": images, **options}),
                            workers=workers, scheduler=scheduler,
                            one_process=lambda: run(path, fmt.name, images=images, labels=labels, remote=remote,
                                                    progress=progress, **options))
    from mafmt.quality import qa as run

    return run(path_or_uri, format, images=images, labels=labels, remote=remote, progress=progress, **options)


def stats(path_or_uri: str | os.PathLike[str], format: str | None = None, *, progress: Progress | None = None,
          workers: int | str | None = 1, scheduler: Any = None, **options: Any) -> Stats:
    """Counts and distributions of a dataset (pandas tables via ``.tables()``).
    ``workers``/``scheduler``: count shards on Dask workers (:mod:`mafmt.scale`)."""
    from mafmt import distributed

    if distributed.wanted(workers, scheduler):
        distributed.warm(scheduler, "stats")
        from mafmt import converters, scale, storage
        from mafmt.dataset_stats import stats as run

        path = os.fspath(path_or_uri)
        with storage.Snapshot():  # (as in qa)
            fmt = converters.get(format) if format else converters.detect(path)
            return scale.stats(path, fmt.name, read_options=options,  # type: ignore[no-any-return]
                               workers=workers, scheduler=scheduler,
                               one_process=lambda: run(path, fmt.name, progress=progress, **options))
    from mafmt.dataset_stats import stats as run

    return run(path_or_uri, format, progress=progress, **options)
