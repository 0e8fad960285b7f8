"""The fast path (``schemas._fast.compile_schema``) says valid exactly when jsonschema does."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mafmt import schemas
from mafmt.schemas._fast import Unsupported, compile_schema

DATA = Path(__file__).parent / "data"
LINES = [json.loads(line) for p in [*sorted((DATA / "golden").glob("*.manifest")),
                                    DATA / "spec_examples" / "manifest-examples.manifest"]
         for line in p.read_text("utf-8").splitlines() if line.strip()]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2, 2, allow_nan=False),
                    st.sampled_from(["", "x", "true", "1-5", "00:00:01.000", "modelarts/text_entity", "E1",
                                     "PASCAL VOC", "0", "12", "#3399ff", "obs", "dataset", "/b/in/"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                          st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                           max_leaves=8)


def _paths(value: Any, parts: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [parts]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*parts, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*parts, i))
    return out


@st.composite
def mutated_lines(draw: Any) -> Any:
    line = copy.deepcopy(draw(st.sampled_from(LINES)))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(_paths(line)[1:] or [("source",)]))
        parent: Any = line
        for p in where[:-1]:
            parent = parent[p]
        if draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(where[-1], None)
        else:
            try:
                parent[where[-1]] = draw(json_values)
            except (IndexError, TypeError):
                pass
    return line


@given(mutated_lines())
def test_fast_path_agrees_with_jsonschema_on_mutated_manifest_lines(line: Any) -> None:
    v = schemas.validator("manifest-line")
    assert v.is_valid(line) == jsonschema.Draft202012Validator(v.schema).is_valid(line)


@pytest.mark.parametrize("name", schemas.names())
@given(value=json_values)
def test_fast_path_agrees_with_jsonschema_on_any_json(name: str, value: Any) -> None:
    v = schemas.validator(name)
    assert v.is_valid(value) == jsonschema.Draft202012Validator(v.schema).is_valid(value)


@pytest.mark.parametrize(("schema", "good", "bad"), [
    ({"type": "integer"}, [1, 2.0], [True, 1.5, "1"]),
    ({"enum": [1, "a"]}, [1, 1.0, "a"], [True, "b"]),
    ({"const": False}, [False], [0, None]),
    ({"prefixItems": [{"type": "string"}], "items": {"type": "integer"}}, [["a", 1], []], [[1], ["a", "b"]]),
    ({"propertyNames": {"pattern": "^a"}}, [{"ab": 1}], [{"b": 1}]),
    ({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, [{"a": 1}], [{"a": 1, "b": 2}, {}]),
    ({"$defs": {"n": {"type": "object", "properties": {"k": {"$ref": "#/$defs/n"}}}}, "$ref": "#/$defs/n"},
     [{"k": {"k": {}}}], [{"k": {"k": 1}}]),
    ({"uniqueItems": True}, [[1, 2]], [[1, 1]]),
])
def test_compiled_keywords(schema: dict[str, Any], good: list[Any], bad: list[Any]) -> None:
    check = compile_schema(schema)
    for value in good:
        assert check(value) and jsonschema.Draft202012Validator(schema).is_valid(value)
    for value in bad:
        assert not check(value) and not jsonschema.Draft202012Validator(schema).is_valid(value)


def test_unknown_keyword_is_unsupported() -> None:
    with pytest.raises(Unsupported):
        compile_schema({"unevaluatedProperties": False})
