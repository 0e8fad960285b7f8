"""Benchmark: manifest validation speed, mafmt's fast path against plain jsonschema.

Writes a manifest of N lines mixing every annotation type of the spec's examples (a few
lines invalid), then times, in the same process and run:

* ``mafmt``: :func:`mafmt.validation.iter_errors` -- the whole ``mafmt validate`` work
  (read, JSON decode, compiled schema check, precise errors for failing lines, the §12
  rules a schema cannot express);
* ``jsonschema``: read, JSON decode and ``Draft202012Validator.iter_errors`` on every line
  with the same (pre-compiled) schema, nothing else -- on the first ``--baseline-lines``
  lines of the same file (same mix of lines; it is ~30x slower, so the whole file would
  take minutes).

Usage: ``python bench/validate_manifest.py [--lines N] [--repeat R] [--baseline-lines M]``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import Any

LINES = [
    {"source": "s3://demo-bucket/pets/img_0412.jpg", "usage": "TRAIN", "hard": True, "hard-coefficient": 0.35,
     "annotation": [{"type": "modelarts/image_classification", "name": "dog", "property": {"coat": "brown"},
                     "annotated-by": "human", "creation-time": "2023-04-11 09:15:42"},
                    {"type": "modelarts/image_classification", "name": "outdoor", "confidence": 0.91,
                     "annotated-by": "modelarts/active-learning", "creation-time": "2023-04-11 09:16:03"}]},
    {"source": "content://Ada Lovelace was born in London in 1815.", "usage": "TRAIN",
     "annotation": [{"type": "modelarts/text_entity", "name": "Person", "id": "E1",
                     "property": {"@modelarts:start_index": 0, "@modelarts:end_index": 12}},
                    {"type": "modelarts/text_entity", "name": "City", "id": "E2",
                     "property": {"@modelarts:start_index": 25, "@modelarts:end_index": 31}},
                    {"type": "modelarts/text_triplet", "name": "born_in", "id": "R1",
                     "property": {"@modelarts:from": "E1", "@modelarts:to": "E2"}}]},
    {"source": "s3://demo-bucket/meetings/standup_0214.wav", "usage": "TRAIN",
     "annotation": [{"type": "modelarts/audio_segmentation",
                     "property": {"@modelarts:start_time": "00:00:03.250", "@modelarts:end_time": "00:00:06.900",
                                  "@modelarts:source": "Lena", "@modelarts:content": "Yesterday I finished."}}]},
    {"source": "s3://demo-bucket/street/frame_0031.jpg", "usage": "TRAIN",
     "annotation": [{"type": "modelarts/object_detection", "annotation-loc": "./frame.xml",
                     "annotation-format": "PASCAL VOC", "annotated-by": "human"}]},
    {"source": "content://The hinge broke after two weeks.", "usage": "EVAL",
     "annotation": [{"type": "modelarts/text_classification", "name": "negative"}]},
]
BAD = {"source": "content://Bob", "annotation": [{"type": "modelarts/text_entity", "name": "x",
                                                  "property": {"@modelarts:start_index": 0}}]}
VOC = b"""<annotation><folder>NA</folder><filename>frame.jpg</filename><size><width>64</width><height>48</height>
<depth>3</depth></size><segmented>0</segmented><object><name>car</name><difficult>0</difficult>
<bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax></bndbox></object></annotation>"""


def make(folder: str, n: int) -> str:
    """Write an ``n``-line manifest (1 line in 1000 invalid) and its VOC file."""
    with open(os.path.join(folder, "frame.xml"), "wb") as fh:
        fh.write(VOC)
    path = os.path.join(folder, "bench.manifest")
    lines = [json.dumps(x, separators=(",", ":")) for x in LINES]
    bad = json.dumps(BAD, separators=(",", ":"))
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines((bad if i % 1000 == 999 else lines[i % len(lines)]) + "\n" for i in range(n))
    return path


def run_mafmt(path: str) -> int:
    from mafmt.validation import iter_errors

    return sum(1 for e in iter_errors(path, "manifest") if e.severity == "error")


def run_jsonschema(path: str, limit: int) -> int:
    import jsonschema

    from mafmt import schemas

    v = jsonschema.Draft202012Validator(schemas.load("manifest-line"))
    errors = 0
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh):
            if n >= limit:
                break
            errors += sum(1 for _ in v.iter_errors(json.loads(raw)))
    return errors


def best(fn: Any, repeat: int, *args: Any) -> tuple[float, float, int]:
    """Best wall-clock time, best CPU time of this process, and the result."""
    walls, cpus, result = [], [], 0
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn(*args)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline-lines", type=int, default=20_000)
    args = ap.parse_args()
    n, m = args.lines, min(args.lines, args.baseline_lines)
    with tempfile.TemporaryDirectory() as tmp:
        path = make(tmp, n)
        run_mafmt(path)  # warm-up: compile the schemas once
        t_fast, c_fast, e_fast = best(run_mafmt, args.repeat, path)
        t_plain, c_plain, e_plain = best(run_jsonschema, 1, path, m)
    print(f"lines: {n} (1 in 1000 invalid); jsonschema baseline on the first {m}")
    print(f"mafmt validate (fast path): {n / t_fast:>10,.0f} lines/s  ({t_fast:.2f} s; {n / c_fast:,.0f} lines per "
          f"CPU-second; {e_fast} errors)")
    print(f"plain jsonschema          : {m / t_plain:>10,.0f} lines/s  ({t_plain:.2f} s; {m / c_plain:,.0f} lines per "
          f"CPU-second; {e_plain} errors)")
    print(f"speed-up: {(n / t_fast) / (m / t_plain):.1f}x")


if __name__ == "__main__":
    main()
