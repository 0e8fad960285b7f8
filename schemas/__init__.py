"""JSON Schemas shipped with mafmt (installed as ``mafmt.schemas``), read with
:mod:`importlib.resources`, never by paths relative to a source file."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["load", "names"]


def names() -> list[str]:
    """Names of the shipped schemas (file names without ``.schema.json``)."""
    return sorted(
        p.name[: -len(".schema.json")] for p in resources.files(__name__).iterdir() if p.name.endswith(".schema.json")
    )


@cache
def load(name: str) -> dict[str, Any]:
    """The schema called ``name`` as a dict."""
    return json.loads(resources.files(__name__).joinpath(f"{name}.schema.json").read_text("utf-8"))  # type: ignore[no-any-return]
