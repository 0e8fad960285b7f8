"""Byte-compile mafmt before a benchmark times it, as ``pip install`` does for a wheel.

An editable install has no ``.pyc`` files until an import writes them, and with
``PYTHONDONTWRITEBYTECODE`` set (as on some CI machines) every run compiles mafmt's
sources again: 0.1-0.2 s per process that a user of the wheel never pays, while the peers,
installed from wheels, come compiled.
"""

from __future__ import annotations

import compileall
import importlib.util
from pathlib import Path


def compile_mafmt() -> None:
    """Write the ``.pyc`` files of the installed ``mafmt`` package (its linked folders too,
    which ``compileall`` does not follow)."""
    spec = importlib.util.find_spec("mafmt")
    if spec is None or spec.origin is None:
        return
    root = Path(spec.origin).parent
    for folder in [root, *(p for p in root.iterdir() if p.is_symlink() and p.is_dir())]:
        compileall.compile_dir(str(folder.resolve()), quiet=2)
