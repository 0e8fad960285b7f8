"""What the ModelArts API commands share: the client from the environment and the
``--endpoint``/``--region``/``--project-id`` overrides, sub-commands with a description
and an example, codes accepted by name, tables that show names and local times (or
``--json`` with the raw wire values), ``--wait`` with a progress bar, and user mistakes
reported in CLI terms."""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TextIO

from mafmt.commands._util import print_json
from mafmt.errors import UsageError

__all__ = ["Col", "add_verb", "api_options", "cli_terms", "client", "code", "finish", "listing", "local_time", "named",
           "nonnegative", "positive", "positive_int", "progress_of", "show", "table", "wait_with_progress", "waiting"]

ENV_HELP = ("credentials and endpoints come from HUAWEICLOUD_SDK_AK/_SK (or _USERNAME/_PASSWORD), "
            "HUAWEICLOUD_SDK_PROJECT_ID, HUAWEICLOUD_SDK_REGION and MAFMT_MODELARTS_ENDPOINT "
            "('mafmt emulator' prints them for a local ModelArts)")


def add_verb(verbs: Any, name: str, summary: str, example: str) -> argparse.ArgumentParser:
    """A sub-command with a one-line description and an example in its ``--help``."""
    return verbs.add_parser(name, help=summary, description=summary[:1].upper() + summary[1:] + ".",
                            epilog=f"example:\n  {example}\n\n{ENV_HELP}",
                            formatter_class=argparse.RawDescriptionHelpFormatter)


def code(table: Mapping[str, int], what: str) -> Callable[[str], int]:
    """An argparse type: a name of ``table`` (``object_detection``) or one of its numbers."""
    from mafmt.client.codes import code_of

    def parse(text: str) -> int:
        try:
            return code_of(text, table, what)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = what
    return parse


def _number(kind: type, test: Callable[[Any], bool], words: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not test(value) or math.isnan(value):
            raise argparse.ArgumentTypeError(f"{text!r}: must be {words}")
        return value

    parse.__name__ = words
    return parse


#: argparse types for counts and durations (a bad value is a usage error naming the flag)
positive_int = _number(int, lambda v: v > 0, "a whole number above 0")
positive = _number(float, lambda v: 0 < v < float("inf"), "a number of seconds above 0")
nonnegative = _number(float, lambda v: 0 <= v < float("inf"), "a number of seconds, 0 or more")


@contextmanager
def cli_terms(terms: Mapping[str, str]) -> Iterator[None]:
    """Re-word usage errors of the library in CLI terms: ``framework_type`` -> ``--framework``."""
    try:
        yield
    except UsageError as exc:
        text = str(exc)
        for word, flag in sorted(terms.items(), key=lambda t: -len(t[0])):
            text = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w])", flag, text)
        if text == str(exc):
            raise
        raise UsageError(text) from None


def client(args: argparse.Namespace) -> Any:
    """The client the command uses (configured from the environment and the flags)."""
    from mafmt.client import ModelArts
    from mafmt.client._config import Config

    config = Config.resolve(endpoint=args.endpoint, region=args.region, project_id=args.project_id)
    if config.mode == "none":
        raise UsageError("no credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or HUAWEICLOUD_SDK_USERNAME "
                         "and HUAWEICLOUD_SDK_PASSWORD); 'mafmt emulator' prints a set for a local ModelArts")
    if bool(config.ak) != bool(config.sk):
        raise UsageError("HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK go together: one of them is not set")
    if config.endpoint and not re.match(r"^https?://[^/\s]+", config.endpoint):
        raise UsageError(f"--endpoint (or MAFMT_MODELARTS_ENDPOINT) {config.endpoint!r}: expected http(s)://HOST[:PORT]")
    return ModelArts(config)


def local_time(ms: Any) -> str:
    """Epoch milliseconds (or seconds, or a numeric string) as local ISO 8601."""
    try:
        value = float(ms)
    except (TypeError, ValueError):
        return "" if ms is None else str(ms)
    if value <= 0:
        return ""
    seconds = value / 1000 if value > 1e11 else value
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


class Col:
    """A table column: the header, where the value is, and how it is shown."""

    __slots__ = ("fmt", "get", "header")

    def __init__(self, header: str, get: Callable[[dict[str, Any]], Any],
                 fmt: Callable[[Any], str] = lambda v: "" if v is None else str(v)) -> None:
        self.header, self.get, self.fmt = header, get, fmt

    @classmethod
    def key(cls, key: str, fmt: Callable[[Any], str] | None = None, header: str | None = None) -> Col:
        return cls(header or key, lambda row: row.get(key), fmt or (lambda v: "" if v is None else str(v)))


def named(table: Mapping[str, int]) -> Callable[[Any], str]:
    """A formatter showing a code by its name."""
    from mafmt.client.codes import name_of

    return lambda v: name_of(v, table)


def table(rows: Iterable[dict[str, Any]], columns: Sequence[str | Col], out: TextIO) -> int:
    cols = [c if isinstance(c, Col) else Col.key(c) for c in columns]
    rows = list(rows)
    cells = [[c.fmt(c.get(r)) for c in cols] for r in rows]
    widths = [max([len(c.header), *(len(row[i]) for row in cells)]) for i, c in enumerate(cols)]
    out.write("  ".join(c.header.upper().ljust(w) for c, w in zip(cols, widths)).rstrip() + "\n")
    out.writelines("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n" for row in cells)
    return len(rows)


_TIME_KEYS = re.compile(r"(^|_)(time|at)$|^(create|update|publish|transition|due)_(time|at)$")


def show(obj: dict[str, Any], args: argparse.Namespace, out: TextIO,
         formats: Mapping[str, Callable[[Any], str]] | None = None) -> int:
    """One object: ``--json`` as sent by the service, else ``key  value`` lines with codes
    by name (``formats``) and epoch times as local ISO 8601."""
    if args.json:
        print_json(dict(obj), out)
        return 0
    width = max((len(k) for k in obj), default=0)
    for key, value in obj.items():
        if value in (None, [], {}, ""):
            continue
        if formats and key in formats:
            text = formats[key](value)
        elif _TIME_KEYS.search(key) and isinstance(value, (int, float)) and not isinstance(value, bool):
            text = local_time(value)
        else:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        out.write(f"{key:<{width}}  {text}\n")
    return 0


def listing(items: Iterable[Any], columns: Sequence[str | Col], args: argparse.Namespace, out: TextIO) -> int:
    """Rows as a table, or ``--json`` (the raw wire objects)."""
    if args.json:
        print_json([dict(i) for i in items], out)
    else:
        table(items, columns, out)
    return 0


def progress_of(state: dict[str, Any]) -> tuple[int, int | None]:
    """(done, total) of a waited-for object: samples of a task, else a percentage."""
    if state.get("total_sample_count"):
        done = state.get("imported_sample_count", state.get("finished_sample_count")) or 0
        return int(done), int(state["total_sample_count"])
    if isinstance(state.get("progress"), (int, float)):
        return int(state["progress"]), 100
    return 0, None


def wait_with_progress(task: Any, args: argparse.Namespace, err: TextIO, label: str) -> Any:
    """``task.wait`` with a progress bar on a terminal (not with ``--quiet``)."""
    from mafmt.progress import bar_for

    bar = bar_for(label, err, quiet=getattr(args, "quiet", False), unit="%")
    if bar is None:
        return task.wait(timeout=args.timeout, poll=args.poll)
    with bar:
        return task.wait(timeout=args.timeout, poll=args.poll, progress=lambda s: bar(*progress_of(s)))


def finish(task: Any, args: argparse.Namespace, out: TextIO, err: TextIO, label: str = "waiting",
           formats: Mapping[str, Callable[[Any], str]] | None = None) -> int:
    if args.wait:
        wait_with_progress(task, args, err, label)
    return show(dict(task), args, out, formats)


def api_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", metavar="URL", help="ModelArts base URL (default: MAFMT_MODELARTS_ENDPOINT or region)")
    p.add_argument("--region", metavar="ID", help="region ID (default: HUAWEICLOUD_SDK_REGION)")
    p.add_argument("--project-id", metavar="ID", help="project ID (default: HUAWEICLOUD_SDK_PROJECT_ID)")
    p.add_argument("--json", action="store_true", help="print JSON with the raw wire values instead of a table")


def waiting(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", action="store_true", help="wait until the task finishes (exit 1 if it fails)")
    p.add_argument("--timeout", type=positive, default=3600.0, metavar="S", help="give up waiting after S seconds")
    p.add_argument("--poll", type=positive, default=1.0, metavar="S", help="first polling interval in seconds")
    p.add_argument("--quiet", action="store_true", help="no progress bar while waiting")
