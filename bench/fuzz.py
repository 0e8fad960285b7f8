"""A large mutation-fuzzing campaign over every mafmt reader (and every writer behind it).

Runs the deterministic fuzzer of ``tests/fuzzing.py`` and prints, per reader, the number of
cases, their outcomes (ok / MafmtError / other), every distinct crash site with its count,
timeouts and runtime; then the table of all sites sorted by file. Optionally minimises one
input per site and saves it under ``tests/data/crashers/`` (``--save-crashers``).

Usage::

    python bench/fuzz.py --cases 25000 --json fuzz.json             # the campaign
    python bench/fuzz.py --minimise fuzz.json --save-crashers tests/data/crashers
    python bench/fuzz.py --seed 0 --replay coco:1234 [--dump DIR]    # one case, full tracebacks
    python bench/fuzz.py --cases 1500 --per-case 1 --targets coco,csv-detect   # what CI runs

Exit code: 0 when every case ended ok or in a MafmtError, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import fuzzing


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cases", type=int, default=25000, help="cases per reader (default 25000)")
    p.add_argument("--start", type=int, default=0, help="first case id (default 0)")
    p.add_argument("--seed", type=int, default=0, help="campaign seed (default 0)")
    p.add_argument("--targets", default=",".join(fuzzing.TARGET_NAMES),
                   help="comma-separated readers (default: all):\n  " + ", ".join(fuzzing.TARGET_NAMES))
    p.add_argument("--ops", default="read,convert,validate", help="ops per case (default read,convert,validate)")
    p.add_argument("--per-case", type=int, default=None,
                   help="run only this many of the converts/validate per case, rotating (default: all)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: 2 per CPU)")
    p.add_argument("--budget", type=float, default=5.0, help="CPU seconds per op before a timeout (default 5)")
    p.add_argument("--memory-mb", type=int, default=2048, help="address space per worker above its start (MB)")
    p.add_argument("--tmp", default=None, help="scratch folder (default: a new temporary folder)")
    p.add_argument("--json", dest="json_out", default=None, help="write the campaign's sites and counts here")
    p.add_argument("--minimise", metavar="JSON", default=None, help="minimise the sites of a campaign JSON")
    p.add_argument("--save-crashers", metavar="DIR", default=None,
                   help="with a campaign or --minimise: save one minimised input per site, index.json, README.md")
    p.add_argument("--minimise-seconds", type=float, default=60.0, help="time per site for minimising")
    p.add_argument("--replay", metavar="TARGET:CASE", default=None, help="run one case in-process, verbosely")
    p.add_argument("--dump", metavar="DIR", default=None, help="with --replay: also write the case's input here")
    return p.parse_args(argv)


# --------------------------------------------------------------------------- campaign


def campaign(args: argparse.Namespace) -> tuple[fuzzing.Tally, dict[str, dict[str, float]]]:
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in targets if t not in fuzzing.TARGETS]
    if unknown:
        raise SystemExit(f"unknown target(s): {', '.join(unknown)}")
    ops = tuple(o.strip() for o in args.ops.split(",") if o.strip())
    tally = fuzzing.Tally()
    times: dict[str, dict[str, float]] = {}
    harness_errors: dict[str, int] = {}
    with fuzzing.Pool(args.workers, budget=args.budget, memory_mb=args.memory_mb, tmp=args.tmp) as pool:
        print(f"seed {args.seed}, {args.cases} cases per reader from case {args.start}, ops {','.join(ops)}"
              f"{'' if args.per_case is None else f' ({args.per_case} rotating per case)'}, "
              f"{pool.n} workers, {args.budget:g} s of CPU per op", flush=True)
        for target in targets:
            start = time.perf_counter()
            ids = range(args.start, args.start + args.cases)
            jobs = [("case", target, args.seed, i, ops, args.per_case) for i in ids]
            cpu = 0.0
            step = max(1, len(jobs) // 10)
            for n, (index, res) in enumerate(pool.run(jobs), 1):
                if isinstance(res, fuzzing.HarnessError):  # a bug of the fuzzer, not of mafmt: say so, go on
                    print(f"fuzzer failure on {target} case {ids[index]}:\n{res.traceback}", file=sys.stderr)
                    harness_errors[target] = harness_errors.get(target, 0) + 1
                    continue
                tally.add(res)
                cpu += res.cpu
                if n % step == 0:
                    print(f"  {target}: {n}/{len(jobs)} ({time.perf_counter() - start:.0f} s)", file=sys.stderr,
                          flush=True)
            wall = time.perf_counter() - start
            times[target] = {"seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
                             "harness_errors": harness_errors.get(target, 0)}
            _print_target(tally, target, wall, cpu)
    return tally, times


def _print_target(tally: fuzzing.Tally, target: str, wall: float, cpu: float) -> None:
    st = tally.status.get(target, Counter())
    n = tally.cases[target]
    other = st["crash"] + st["escape"]
    print(f"\n== {target}: {n} cases in {wall:.1f} s ({cpu:.1f} s CPU): ok {st['ok']}, MafmtError {st['error']}, "
          f"other {other}, timeouts {st['timeout']}, hangs {st['hang']}")
    ops = tally.ops.get(target, Counter())
    for op in ("read", "convert", "validate"):
        outs = {o: c for (k, o), c in ops.items() if k == op}
        if outs:
            print(f"   {op:8} " + ", ".join(f"{o} {c}" for o, c in sorted(outs.items(), key=lambda x: -x[1])))
    for site in tally.failures(target):
        print(f"   {site.cases[target]:6}  {site.kind:7} {site.exc_type:28} {site.where()}")
    sys.stdout.flush()


def print_table(tally: fuzzing.Tally) -> None:
    sites = tally.failures()
    print(f"\n== {len(sites)} distinct sites, by file")
    print(f"{'file:line (function)':58} {'kind':7} {'exception':30} {'cases':>6}  readers")
    for s in sites:
        readers = ", ".join(f"{t} {c}" for t, c in s.cases.most_common())
        print(f"{s.where():58} {s.kind:7} {s.exc_type:30} {s.hits:6}  {readers}")
    if tally.slow:
        print(f"\nslow cases (> 1 s): {len(tally.slow)}; slowest: " +
              ", ".join(f"{t}:{c} {s:.1f}s" for s, t, c in sorted(tally.slow, reverse=True)[:8]))
    if tally.memory:
        print(f"memory: {len(tally.memory)} case(s) raised a worker's peak RSS by > 200 MB: " +
              ", ".join(f"{t}:{c} +{m:.0f} MB" for m, t, c in sorted(tally.memory, reverse=True)[:8]))


def tally_to_json(tally: fuzzing.Tally, times: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    return {
        "seed": args.seed, "cases": args.cases, "start": args.start, "ops": args.ops, "per_case": args.per_case,
        "budget": args.budget,
        "targets": {t: {"cases": tally.cases[t], "status": dict(tally.status.get(t, {})),
                        "ops": {f"{k}:{o}": c for (k, o), c in tally.ops.get(t, Counter()).items()},
                        **times.get(t, {})} for t in tally.cases},
        "sites": [{"kind": s.kind, "exc_type": s.exc_type, "file": s.file, "line": s.line, "func": s.func,
                   "message": s.message, "tb": s.tb, "hits": s.hits, "cases": dict(s.cases), "ops": dict(s.ops),
                   "examples": [list(e) for e in s.examples]} for s in tally.failures()],
        "slow": sorted(tally.slow, reverse=True)[:50],
        "memory": sorted(tally.memory, reverse=True)[:50],
    }


# --------------------------------------------------------------------------- minimise and save


def _site_key(s: dict[str, Any]) -> str:
    if s["kind"] in ("crash", "escape"):
        return f"{s['exc_type']}@{s['file']}:{s['line']}"
    return f"{s['kind']}@{s['file']}:{s['func']}"


def minimise_and_save(data: dict[str, Any], args: argparse.Namespace) -> int:
    seed = data["seed"]
    out = Path(args.save_crashers)
    sites = [s for s in data["sites"] if s["kind"] in ("crash", "escape")]  # a slow input is no CLI test
    jobs, meta = [], []
    for s in sites:
        examples = sorted(s["examples"], key=lambda e: (e[3], e[4], e[1]))[:3]
        for t, case_id, op, *_ in examples:
            jobs.append(("minimise", t, seed, case_id, op, s["kind"], _site_key(s), args.minimise_seconds))
            meta.append((s, t, case_id, op))
    print(f"minimising {len(sites)} sites ({len(jobs)} candidate inputs)...", flush=True)
    best: dict[str, tuple[fuzzing.Minimised, str, int, str]] = {}
    with fuzzing.Pool(args.workers, budget=args.budget, memory_mb=args.memory_mb, tmp=args.tmp) as pool:
        for index, res in pool.run(jobs):
            s, t, case_id, op = meta[index]
            key = _site_key(s)
            if isinstance(res, fuzzing.HarnessError):
                print(f"  {key}: minimiser failed: {res.traceback.splitlines()[-1]}", file=sys.stderr)
                continue
            if not res.reproduced:
                continue
            size = sum(map(len, res.case.files.values()))
            old = best.get(key)
            if old is None or size < sum(map(len, old[0].case.files.values())):
                best[key] = (res, t, case_id, op)
    if out.exists():
        for child in out.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    records = []
    names: Counter[str] = Counter()
    for s in sites:
        key = _site_key(s)
        if key not in best:
            print(f"  {key}: not reproduced alone (kept in the table, no crasher)", file=sys.stderr)
            records.append(_record(s, None, None, None, None, None))
            continue
        res, t, case_id, op = best[key]
        name = fuzzing.site_name(s["kind"], s["exc_type"], s["file"], s["line"], s["func"])
        names[name] += 1
        if names[name] > 1:
            name += f"-{names[name]}"
        rel, layout, entry = fuzzing.save_crasher(res.case, out / t, name)
        records.append(_record(s, res, t, case_id, op, (f"{t}/{rel}", layout, entry)))
        print(f"  {key}: {t}/{rel} ({sum(map(len, res.case.files.values()))} bytes, {res.evaluations} runs)")
    saved = {"seed": seed, "campaign": {k: data[k] for k in ("cases", "ops", "per_case", "budget")},
             "crashers": [r for r in records if r.get("path")], "unsaved": [r for r in records if not r.get("path")]}
    (out / "index.json").write_text(json.dumps(saved, indent=1, ensure_ascii=True) + "\n", encoding="utf-8")
    (out / "README.md").write_text(readme(saved, data), encoding="utf-8")
    print(f"saved {len(saved['crashers'])} crashers to {out}")
    return 0


def _describe(res: fuzzing.Minimised | None, s: dict[str, Any], case_id: int | None, t: str | None) -> str:
    for e in s["examples"]:
        if e[0] == t and e[1] == case_id:
            return "; ".join(e[5])
    return "; ".join(s["examples"][0][5]) if s["examples"] else ""


def _scrub(text: str) -> str:
    """A message without the scratch folders of this machine (wherever ``--tmp`` put them):
    ``<dataset>/cat/a.jpg``, ``<out>/voc/...``, ``<tmp>``."""
    worker = r"[^\s'\"]*[/\\]w\d+-\w+[/\\]"  # a worker's workspace: <tmp>/w<n>-<token>/
    text = re.sub(worker + r"in-[\w.-]+", "<dataset>", text)
    text = re.sub(worker + r"out-\w+", "<out>", text)
    tmp = re.escape(tempfile.gettempdir().rstrip("/\\"))
    return re.sub(tmp + r"[/\\][^\s'\"]*", "<tmp>", text)


def _record(s: dict[str, Any], res: fuzzing.Minimised | None, t: str | None, case_id: int | None, op: str | None,
            saved: tuple[str, str, str] | None) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "site": _site_key(s), "kind": s["kind"], "exc_type": s["exc_type"], "file": s["file"], "line": s["line"],
        "func": s["func"], "message": _scrub(s["message"]), "hits": s["hits"], "hits_by_reader": s["cases"], "ops": s["ops"],
        "description": _describe(res, s, case_id, t),
    }
    if res is not None and saved is not None:
        c = res.case
        rec.update({
            "path": saved[0], "layout": saved[1], "entry": saved[2], "target": t, "format": c.fmt, "op": op,
            "seed": c.seed, "case_id": case_id, "bytes": sum(map(len, c.files.values())),
            "options": {"detect": c.detect, "on_error": c.on_error, "images": c.images, "size_table": c.size_table,
                        "writer_options": {k: v for k, v in c.writer_options.items()
                                           if op and op == f"convert:{k}" and v}},
        })
    return rec


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def readme(index: dict[str, Any], data: dict[str, Any]) -> str:
    """The README of the crashers folder: how they were found and one row per site."""
    rows = sorted(index["crashers"] + index["unsaved"], key=lambda r: (r["file"], r["line"], r["exc_type"]))
    n_cases = sum(t["cases"] for t in data["targets"].values())
    lines = [
        "# Saved crashing inputs",
        "",
        (f"One minimised input per distinct crash site (exception type + innermost project frame) found by "
        f"`bench/fuzz.py` (seed {index['seed']}, {data['cases']} cases per reader, {n_cases} in all, "
        f"ops `{data['ops']}`). `tests/test_cli_crashers.py` runs `mafmt inspect`, `validate` and `convert` on "
        f"each and expects exit 0/1/2 with at most a one-line `mafmt: error: ...`, never a traceback."),
        "",
        ("`index.json` holds, per input, the reader format, the op that crashed, the run options and the site. "
        "A `.tar` keeps file names git or other systems cannot hold (non-UTF-8 bytes, control characters, "
        "symlinks, empty folders). Re-create the set with "
        "`python bench/fuzz.py --json fuzz.json && python bench/fuzz.py --minimise fuzz.json "
        "--save-crashers tests/data/crashers`; replay the original case with the `replay` command."),
        "",
        "| file:line (function) | exception | reader | op | triggering input | crasher | cases |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        where = f"`{r['file']}:{r['line']}` ({r['func']})"
        reader = r.get("target") or ", ".join(r["hits_by_reader"])
        crasher = f"[`{r['path']}`]({r['path']})" if r.get("path") else "(not reproduced alone)"
        desc = _md(r["description"])[:160]
        lines.append(f"| {where} | {r['exc_type'] if r['kind'] == 'crash' else r['kind']} | {reader} | "
                     f"{r.get('op') or ', '.join(r['ops'])} | {desc} | {crasher} | {r['hits']} |")
    hangs = [x for x in data["sites"] if x["kind"] in ("timeout", "hang")]
    if hangs or data.get("memory"):
        lines += ["", "## Hangs, slow inputs and memory", "",
                  (f"Ops over the {data['budget']:g} s CPU budget (where the alarm found them) and cases that raised a "
                  "worker's peak memory by more than 200 MB. Not saved as CLI tests (they would stall them); "
                  "replay one with the command shown."), "",
                  "| where | kind | reader | ops | triggering input | cases | replay |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for x in sorted(hangs, key=lambda x: (x["file"], x["func"])):
            t, case_id, _op, _n, _size, mutations = min(x["examples"], key=lambda e: (e[3], e[4], e[1]))
            lines.append(f"| `{x['file']}` ({x['func']}) | {x['kind']} | {', '.join(x['cases'])} | "
                         f"{', '.join(x['ops'])} | {_md('; '.join(mutations))[:160]} | {x['hits']} | "
                         f"`python bench/fuzz.py --seed {index['seed']} --replay {t}:{case_id}` |")
        for mb, t, case_id in data.get("memory", [])[:20]:
            lines.append(f"| peak RSS +{mb:.0f} MB | memory | {t} | | | 1 | "
                         f"`python bench/fuzz.py --seed {index['seed']} --replay {t}:{case_id}` |")
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- replay


def replay(args: argparse.Namespace) -> int:
    target, _, case_id = args.replay.partition(":")
    case = fuzzing.make_case(target, args.seed, int(case_id))
    print(f"case {target}:{case_id} (seed {args.seed}), reader format {case.fmt}")
    for m in case.mutations:
        print(f"  mutation: {m}")
    print(f"  options: detect={case.detect} on_error={case.on_error} images={case.images} "
          f"size_table={case.size_table}")
    res = fuzzing.run_case(case, budget=args.budget)
    for op, outcome in res.outcomes.items():
        print(f"  {op:48} {outcome}" + (f"  {case.writer_options.get(op[8:])}" if op.startswith("convert:")
                                         and case.writer_options.get(op[8:]) else ""))
    for f in res.findings:
        print(f"\n--- {f.op}: {f.kind} {f.exc_type} at {f.where()}\n{f.tb or f.message}")
    if args.dump:
        dest = Path(args.dump)
        path = fuzzing.materialise(case, str(dest))
        print(f"\ninput written to {dest}; the CLI: mafmt inspect {path} --format {case.fmt}")
    return 1 if res.findings else 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.replay:
        return replay(args)
    if args.minimise:
        data = json.loads(Path(args.minimise).read_text(encoding="utf-8"))
        if not args.save_crashers:
            raise SystemExit("--minimise needs --save-crashers DIR")
        return minimise_and_save(data, args)
    start = time.perf_counter()
    tally, times = campaign(args)
    print_table(tally)
    print(f"\ntotal {sum(tally.cases.values())} cases in {time.perf_counter() - start:.0f} s")
    data = tally_to_json(tally, times, args)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    if args.save_crashers:
        minimise_and_save(data, args)
    return 1 if tally.sites else 0


if __name__ == "__main__":
    sys.exit(main())
