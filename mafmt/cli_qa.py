"""The ``qa``, ``stats`` and ``draw`` sub-commands: argument parsing and output only; the
work is in :mod:`mafmt.quality`, :mod:`mafmt.dataset_stats` and :mod:`mafmt.draw`."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from mafmt import storage
from mafmt.errors import UsageError

__all__ = ["add_qa_parsers", "cmd_draw", "cmd_qa", "cmd_stats", "read_labels"]


def _json(obj: Any, out: TextIO) -> None:
    out.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def read_labels(value: str | None) -> list[str] | None:
    """``--labels``: a file with one label a line, or a comma-separated list."""
    if value is None:
        return None
    if storage.exists(value) and not storage.is_dir(value):
        text = storage.read_bytes(value).decode("utf-8-sig")
        return [line.strip() for line in text.splitlines() if line.strip()]
    return [v.strip() for v in value.split(",") if v.strip()]


def _table(rows: list[list[str]], header: list[str], out: TextIO) -> None:
    widths = [max(len(header[k]), *(len(r[k]) for r in rows)) if rows else len(header[k]) for k in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        cells = [c.ljust(widths[k]) if k < len(row) - 1 else c for k, c in enumerate(row)]
        out.write("  ".join(cells).rstrip() + "\n")


def cmd_qa(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt.quality import CHECKS, qa

    report = qa(args.path, args.format, images=args.images, labels=read_labels(args.labels), remote=args.remote)
    if args.json:
        _json(report.to_dict(), out)
    else:
        rows = []
        for i in report.issues:
            where = f"{i.file}:{i.line}" if i.file and i.line else (i.file or i.source or "")
            rows.append([i.severity, i.check, CHECKS[i.check][0], where, i.path or "", i.message])
        if rows:
            _table(rows, ["severity", "check", "name", "where", "path", "message"], out)
        out.writelines(f"{p.severity}: {p}\n" for p in report.problems)
        counts = ", ".join(f"{cid} {CHECKS[cid][0]}: {n}" for cid, n in sorted(report.counts().items()))
        errors = sum(i.severity == "error" for i in report.issues)
        out.write(f"{args.path}: {report.samples} sample(s), {errors} error(s), {len(report.issues) - errors} "
                  f"warning(s){' (' + counts + ')' if counts else ''}\n")
    return 1 if report.failed(args.fail_on) else 0


def cmd_stats(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt.dataset_stats import stats

    result = stats(args.path, args.format)
    if args.plot:
        result.plot(args.plot)
    if args.json:
        _json(result.to_dict(), out)
    else:
        for name, table in result.tables().items():
            if len(table):
                out.write(f"== {name} ==\n{table.to_string(index=name not in ('overview', 'types', 'labels', 'shapes', 'usage'))}\n\n")
        if args.plot:
            out.write(f"dashboard: {args.plot}\n")
    err.writelines(f"{p.severity}: {p}\n" for p in result.problems)
    return 1 if any(p.severity == "error" for p in result.problems) else 0


def cmd_draw(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt.draw import draw

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    report = draw(args.path, images=args.images, out=args.out, format=args.format, limit=args.limit,
                  only_issues=args.only_issues, labels=read_labels(args.labels))
    if args.json:
        _json(report.to_dict(), out)
    else:
        out.write(f"{len(report.written)} image(s) drawn into {args.out}")
        out.write(f"; contact sheet {report.contact_sheet}\n" if report.contact_sheet else "\n")
        err.writelines(f"skipped {s}: {r}\n" for s, r in report.skipped)
    return 0


def add_qa_parsers(sub: Any) -> None:
    """Add ``qa``, ``stats`` and ``draw`` to the ``mafmt`` sub-command parser."""
    p = sub.add_parser("qa", help="semantic checks: shapes, image sizes, labels, ids, offsets, segments")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--format", metavar="FMT")
    p.add_argument("--images", metavar="DIR", help="folder of the images (sizes read from headers only)")
    p.add_argument("--labels", metavar="FILE|A,B", help="declared label set: a file (one a line) or a comma list")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--remote", action="store_true", help="also fetch VOC files named by obs:// / s3:// URIs")
    p.add_argument("--fail-on", choices=("error", "warning"), default="error",
                   help="exit 1 when an issue of this severity or worse is found (default: error)")
    p.set_defaults(func=cmd_qa)

    p = sub.add_parser("stats", help="samples, labels, objects per image, box sizes, usage split")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--format", metavar="FMT")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="OUT.png", help="also render a PNG dashboard")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("draw", help="render annotations over their images, plus a contact sheet")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--format", metavar="FMT")
    p.add_argument("--images", metavar="DIR", required=True, help="folder of the images")
    p.add_argument("--out", metavar="DIR", required=True, help="folder for the PNG files")
    p.add_argument("--limit", type=int, metavar="N", help="draw at most N samples")
    p.add_argument("--only-issues", action="store_true", help="only samples QA flags, offending shapes highlighted")
    p.add_argument("--labels", metavar="FILE|A,B", help="declared label set for QA (with --only-issues)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(func=cmd_draw)
