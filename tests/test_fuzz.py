"""Mutation fuzzing of every reader and the writers behind it: ok or a MafmtError, never anything else.

Each reader's seed dataset (written by ``tests/fuzzing.py``) is mutated case by case --
byte flips, truncation, duplication, deep nesting, huge and non-finite numbers, lists where
scalars belong, non-UTF-8 bytes, lone surrogates and NUL, control characters, 200k-char CSV
fields, short rows, malformed RLE, odd file names, YAML alias bombs ... -- and every case
is read in full (every sample, every detection document loaded), converted into writers
(each into a fresh folder) and, in rotation, validated. Deterministic: a failure names
the seed and case and the one command that replays it. ``bench/fuzz.py`` runs the same
cases at campaign size.

Cost: about 7.5 ms of CPU a case (worker and parent, reading, one writer or validate in
rotation), so the default 1,500 cases per reader (21,000) are about 2.6 CPU-minutes: 2 to 3
minutes on 2 cores (2,000 per reader took 4 minutes on 2 busy cores). For a campaign, raise
``MAFMT_FUZZ_CASES`` (and ``MAFMT_FUZZ_SEED`` for other cases), or run
``bench/fuzz.py --cases 25000``.

Environment:

=======================  =======  ==========================================================
``MAFMT_FUZZ_CASES``     1500     cases per reader
``MAFMT_FUZZ_SEED``      0        campaign seed (a different seed, different cases)
``MAFMT_FUZZ_PER_CASE``  1        converts/validate per case, rotating over all writers and
                                  ``validate`` (``all``: every writer in every case)
``MAFMT_FUZZ_BUDGET``    5        CPU seconds per op before it is reported as a timeout
``MAFMT_FUZZ_WORKERS``   2/CPU    worker processes (cases wait on the disk half the time)
``MAFMT_FUZZ_TMP``       tmp      scratch folder (default: pytest's ``tmp_path``; a RAM disk
                                  such as ``/dev/shm`` makes the run about 3x faster)
=======================  =======  ==========================================================
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path

import fuzzing
import pytest

from mafmt import storage
from mafmt.errors import FormatError, MafmtError

CASES = int(os.environ.get("MAFMT_FUZZ_CASES", "1500"))
SEED = int(os.environ.get("MAFMT_FUZZ_SEED", "0"))
_PER_CASE = os.environ.get("MAFMT_FUZZ_PER_CASE", "1")
PER_CASE = None if _PER_CASE.strip().lower() == "all" else int(_PER_CASE)
BUDGET = float(os.environ.get("MAFMT_FUZZ_BUDGET", "5"))


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory):
    tmp = os.environ.get("MAFMT_FUZZ_TMP") or tmp_path_factory.mktemp("fuzz")
    with fuzzing.Pool(budget=BUDGET, tmp=tmp) as p:
        yield p


# --------------------------------------------------------------------------- the fuzz run


@pytest.mark.parametrize("target", fuzzing.TARGET_NAMES)
def test_reader_survives_mutations(pool: fuzzing.Pool, target: str) -> None:
    start = time.perf_counter()
    results = pool.run_cases(target, range(CASES), seed=SEED, per_case=PER_CASE)
    assert len(results) == CASES
    status = Counter(r.status for r in results)
    print(f"{target}: {CASES} cases in {time.perf_counter() - start:.1f} s: {dict(status)}")
    assert status["ok"] + status["error"] + status["crash"] + status["timeout"] + status["escape"] + \
        status["hang"] == CASES
    if any(r.findings for r in results):
        pytest.fail(fuzzing.describe_failures(target, results, seed=SEED), pytrace=False)


# --------------------------------------------------------------------------- the fuzzer itself


def test_cases_are_deterministic() -> None:
    for target in fuzzing.TARGET_NAMES:
        first = [fuzzing.make_case(target, 7, i).digest() for i in range(30)]
        assert first == [fuzzing.make_case(target, 7, i).digest() for i in range(30)]
        assert len(set(first)) > 20, f"{target}: cases barely differ"
        assert first != [fuzzing.make_case(target, 8, i).digest() for i in range(30)]
    # the rotating writer subset never changes the mutated input
    assert fuzzing.make_case("coco", 0, 5).files == fuzzing.make_case("coco", 0, 5, 1).files


def test_seed_datasets_read_and_convert_cleanly(tmp_path: Path) -> None:
    """The seeds are valid: every error a case reports comes from its mutation. The one error
    a seed may give is a writer of another task refusing it as a whole (detection samples into
    a classification layout): "nothing written ... none of the N samples fits"."""
    for target in fuzzing.TARGET_NAMES:
        t = fuzzing.TARGETS[target]
        for fmt in t.formats:
            case = fuzzing.Case(target, 0, -1, fmt, fuzzing.seed_files(target))
            ws = fuzzing.Workspace(str(tmp_path))
            res = fuzzing.run_case(case, workspace=ws)
            assert not res.findings, (target, fmt, [f.message for f in res.findings])
            assert res.outcomes["read"] == res.outcomes["validate"] == "ok", (target, fmt, res.outcomes)
            refused = [op.split(":", 1)[1] for op, outcome in res.outcomes.items() if outcome != "ok"]
            assert "manifest" not in refused, (target, fmt, res.outcomes)  # the manifest holds every sample
            root = ws.input(case)
            for writer in refused:
                with pytest.raises(FormatError, match=r"none of the \d+ samples fits"):
                    fuzzing.op_convert(case, fuzzing.entry_path(case, root), writer, ws.output(),
                                       fuzzing._shared(case, root))


def _changed_bytes(case: fuzzing.Case, seed: fuzzing.Files) -> bytes:
    """The files a mutation touched (and every file name), as one blob."""
    changed = [data for name, data in case.files.items() if seed.get(name) is not data]
    return b"\n".join([*changed, *(n.encode("utf-8", "surrogateescape") for n in case.files)])


#: what issue 12 lists, and where it must show up among the first 1,000 cases of a seed
HOSTILE = {
    "2,000-deep JSON": (("manifest", "coco"), lambda b: b"[" * 2000 in b or b'{"a":' * 2000 in b),
    "2,000-deep YAML": (("yolo-ultralytics",), lambda b: b"[" * 2000 in b),
    "2,000-deep XML": (("voc-file", "voc-folder"), lambda b: b"<part>" * 2000 in b),
    "400-digit integer": (("manifest", "coco", "voc-file", "yolo-flat", "csv-detect"),
                          lambda b: fuzzing.BIG_400.encode() in b),
    "5,000-digit integer": (("manifest", "coco", "voc-file", "yolo-darknet"), lambda b: fuzzing.BIG_5000.encode() in b),
    "inf/nan/Infinity": (("coco", "yolo-flat", "voc-file", "csv-detect"),
                         lambda b: any(x in b for x in (b"Infinity", b"NaN", b"inf", b"nan", b"1e309"))),
    "non-UTF-8 bytes": (fuzzing.TARGET_NAMES, lambda b: b"\xff" in b or b"\xed\xa0\x80" in b),
    "lone surrogate": (("manifest", "coco"), lambda b: b"\\ud800" in b),
    "NUL": (("manifest", "coco", "csv-detect", "yolo-flat"), lambda b: b"\x00" in b or b"\\u0000" in b),
    "control character": (("manifest", "coco", "csv-classify", "folders"),
                          lambda b: b"\x01" in b or b"\\u0001" in b or b"\x1b" in b),
    "200k-char CSV field": (("csv-detect", "csv-classify", "yolo-darknet"), lambda b: b"a" * fuzzing.LONG in b),
    "YAML alias bomb": (("yolo-ultralytics",), lambda b: b"*f,*f" in b),
    "malformed RLE": (("coco",), lambda b: b'"counts"' in b and b'"size"' in b),
    "empty name": (("coco", "manifest"), lambda b: b'"name": ""' in b or b'"name":""' in b),
}


@pytest.mark.parametrize("what", HOSTILE)
def test_mutations_cover_the_hostile_catalogue(what: str) -> None:
    """Every reader named gets the hostile input issue 12 names, within 1,000 cases."""
    targets, test = HOSTILE[what]
    missing = []
    for target in targets:
        seed = fuzzing.seed_files(target)
        if not any(test(_changed_bytes(fuzzing.make_case(target, SEED, i), seed)) for i in range(1000)):
            missing.append(target)
    assert not missing, f"no {what} in the first 1,000 cases of {missing}"


def test_list_as_coco_id_and_short_rows_are_generated() -> None:
    ids = rows = 0
    for i in range(1000):
        case = fuzzing.make_case("coco", SEED, i)
        with_list = [m for m in case.mutations if ".id = [" in m or "id wrapped in list" in m or "_id = [" in m]
        ids += bool(with_list)
        case = fuzzing.make_case("yolo-darknet", SEED, i)
        rows += any("sizes.csv" in m and "short row" in m for m in case.mutations)
    assert ids and rows


def _broken_reader(path: str, **options: object):
    """A fake reader with a bug: yields one sample, then fails untyped."""
    from mafmt.model import Sample

    yield Sample(source="a.jpg")
    raise KeyError("deliberate")


def _typed_reader(path: str, **options: object):
    yield from ()
    raise FormatError("bad input", file=path, line=1)


def _spinning_reader(path: str, **options: object):
    yield from ()
    while True:
        pass


def test_fuzzer_catches_a_crashing_reader(tmp_path: Path) -> None:
    case = fuzzing.make_case("coco", 0, 0)
    res = fuzzing.run_case(case, ops=("read",), reader=_broken_reader, workspace=fuzzing.Workspace(str(tmp_path)))
    assert res.status == "crash"
    (f,) = res.findings
    assert (f.op, f.kind, f.exc_type, f.func) == ("read", "crash", "KeyError", "_broken_reader")
    assert f.file == "test_fuzz.py" and "deliberate" in f.message and "Traceback" in f.tb
    text = fuzzing.describe_failures("coco", [res], seed=0)
    assert "KeyError at test_fuzz.py:" in text and "python bench/fuzz.py --seed 0 --replay coco:0" in text


def test_mafmt_errors_pass(tmp_path: Path) -> None:
    case = fuzzing.make_case("coco", 0, 0)
    res = fuzzing.run_case(case, ops=("read",), reader=_typed_reader, workspace=fuzzing.Workspace(str(tmp_path)))
    assert res.status == "error" and not res.findings


def test_fuzzer_reports_a_hang(tmp_path: Path) -> None:
    case = fuzzing.make_case("coco", 0, 0)
    start = time.monotonic()
    res = fuzzing.run_case(case, ops=("read", "convert"), budget=0.3, reader=_spinning_reader,
                           workspace=fuzzing.Workspace(str(tmp_path)))
    assert time.monotonic() - start < 5
    assert res.status == "timeout" and res.findings[0].func == "_spinning_reader"
    assert set(res.outcomes.values()) == {"timeout", "skipped"}  # the other ops are not run after a hang


def test_site_is_the_innermost_project_frame() -> None:
    from mafmt.converters import _common

    try:
        _common.stem(None)  # type: ignore[arg-type]
    except AttributeError as exc:
        f = fuzzing.finding("read", "crash", exc)
    assert (f.file, f.func, f.exc_type) == ("converters/_common.py", "stem", "AttributeError")


def test_writes_outside_the_target_are_caught(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with fuzzing.guard_writes(str(tmp_path / "out")):
        storage.write_bytes(str(tmp_path / "out" / "ok.txt"), b"fine")
        with pytest.raises(fuzzing.PathEscape):
            storage.write_bytes(str(tmp_path / "out" / ".." / "escaped.txt"), b"no")
    assert not (tmp_path / "escaped.txt").exists()


def test_pool_reports_crashes_hangs_deaths_and_memory(tmp_path: Path) -> None:
    with fuzzing.Pool(2, budget=0.5, hard_slack=1.0, memory_mb=512, tmp=tmp_path) as p:
        got = dict(p.run([("selftest", "crash"), ("selftest", "hang"), ("selftest", "die"), ("selftest", "memory")]))
        assert got[0].status == "crash" and got[0].findings[0].exc_type == "KeyError"
        assert isinstance(got[1], fuzzing.HarnessError) and got[1].traceback.startswith("hang")
        assert isinstance(got[2], fuzzing.HarnessError) and got[2].traceback.startswith("died")
        assert got[3] == "MemoryError"
        # a replaced worker goes on working
        (res,) = p.run_cases("csv-classify", [0])
        assert res.case_id == 0


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    """A tiny alias bomb (46,656 leaves if expanded, harmless here) must be refused, not expanded:
    the same document with 9 levels is the 354-byte, 3 GB bomb of issue 12."""
    files = fuzzing.seed_files("yolo-ultralytics")
    files["data.yaml"] = fuzzing.ALIAS_BOMB.encode()
    case = fuzzing.Case("yolo-ultralytics", 0, -1, "yolo", files)
    root = tmp_path / "ds"
    fuzzing.materialise(case, str(root))
    import mafmt

    with fuzzing.deadline(10), pytest.raises(MafmtError):
        list(mafmt.read(str(root), format="yolo"))


def test_minimiser_shrinks_to_what_reproduces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A JSON input with a list as COCO category id, read by a COCO reader made to crash on it,
    is cut down to a few members."""
    from mafmt.converters import coco

    real = coco.load_instances

    def crashing(src: str):  # the bug a fuzzer would find: an untyped error on a list as id
        doc = real(src)
        if any(isinstance(a, dict) and isinstance(a.get("category_id"), list) for a in doc.get("annotations") or []):
            raise TypeError("unhashable type: 'list'")
        return doc

    monkeypatch.setattr(coco, "load_instances", crashing)
    files = fuzzing.seed_files("coco")
    doc = json.loads(files["instances.json"])
    doc["annotations"][0]["category_id"] = [1]
    files["instances.json"] = json.dumps(doc, indent=1).encode()
    case = fuzzing.Case("coco", 0, -1, "coco", files)
    res = fuzzing.run_case(case, ops=("read",), workspace=fuzzing.Workspace(str(tmp_path)))
    (f,) = res.findings
    assert f.exc_type == "TypeError" and "unhashable" in f.message
    small = fuzzing.minimise(case, "read", f.kind, f.site, max_seconds=30, workspace=fuzzing.Workspace(str(tmp_path)))
    assert small.reproduced
    assert len(small.case.files["instances.json"]) < len(files["instances.json"]) / 4
    assert b"\"category_id\":[" in small.case.files["instances.json"].replace(b" ", b"").replace(b"\n", b"")
    assert "a.jpg" not in small.case.files
