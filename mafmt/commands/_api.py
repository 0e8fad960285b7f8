"""What the ModelArts API commands share: the client from the environment and the
``--endpoint``/``--region``/``--project-id`` overrides, tables or ``--json``, ``--wait``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from mafmt.commands._util import print_json

__all__ = ["api_options", "client", "finish", "listing", "show", "table", "waiting"]


def client(args: argparse.Namespace) -> Any:
    from mafmt.client import ModelArts

    return ModelArts(endpoint=args.endpoint, region=args.region, project_id=args.project_id)


def table(rows: Iterable[dict[str, Any]], columns: Sequence[str], out: TextIO) -> int:
    rows = list(rows)
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    out.write("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")
    out.writelines("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n" for row in cells)
    return len(rows)


def show(obj: dict[str, Any], args: argparse.Namespace, out: TextIO) -> int:
    if args.json:
        print_json(dict(obj), out)
    else:
        width = max((len(k) for k in obj), default=0)
        for key, value in obj.items():
            if value not in (None, [], {}, ""):
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                out.write(f"{key:<{width}}  {text}\n")
    return 0


def listing(items: Iterable[Any], columns: Sequence[str], args: argparse.Namespace, out: TextIO) -> int:
    if args.json:
        print_json([dict(i) for i in items], out)
    else:
        table(items, columns, out)
    return 0


def finish(task: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.wait:
        task.wait(timeout=args.timeout, poll=args.poll, progress=err if err.isatty() else False)
    return show(dict(task), args, out)


def api_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", metavar="URL", help="ModelArts base URL (default: MAFMT_MODELARTS_ENDPOINT or region)")
    p.add_argument("--region", metavar="ID", help="region ID (default: HUAWEICLOUD_SDK_REGION)")
    p.add_argument("--project-id", metavar="ID", help="project ID (default: HUAWEICLOUD_SDK_PROJECT_ID)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def waiting(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", action="store_true", help="wait until the task finishes (exit 1 if it fails)")
    p.add_argument("--timeout", type=float, default=3600.0, metavar="S", help="give up waiting after S seconds")
    p.add_argument("--poll", type=float, default=1.0, metavar="S", help="first polling interval")
