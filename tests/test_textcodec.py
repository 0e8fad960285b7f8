"""The text codec: any JSON value survives a text field, and any text survives a round trip."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mafmt import textcodec

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
@settings(max_examples=500)
def test_decode_encode_is_identity_for_json(value):
    text = textcodec.encode(value)
    assert textcodec.decode(text) == value
    assert text == text.strip()  # XML readers strip text: nothing may depend on surrounding blanks


@given(st.text())
@settings(max_examples=500)
def test_text_another_tool_wrote_is_written_back_unchanged(text):
    text = text.strip()
    if textcodec._UNSAFE.search(text):
        return  # cannot be in an XML document in the first place
    assert textcodec.encode(textcodec.decode(text)) == text


def test_examples():
    assert textcodec.decode("1") == 1 and textcodec.decode("1.5") == 1.5 and textcodec.decode("true") is True
    assert textcodec.decode("[[1,2,3,4,5,6]]") == [[1, 2, 3, 4, 5, 6]]
    assert textcodec.decode("1.50") == "1.50" and textcodec.decode("007") == "007" and textcodec.decode("1e5") == "1e5"
    assert textcodec.decode("NaN") == "NaN" and textcodec.decode("Infinity") == "Infinity"
    assert textcodec.decode("1e400") == "1e400"
    assert textcodec.encode("1") == '"1"' and textcodec.encode(" a ") == '" a "' and textcodec.encode("a") == "a"
    assert textcodec.encode("bell\x07") == '"bell\\u0007"' and textcodec.decode('"bell\\u0007"') == "bell\x07"
    assert textcodec.decode('"a"') == '"a"'  # a quoted word another tool wrote stays quoted
    assert textcodec.encode({"size": [4, 5], "counts": "abc"}) == '{"size":[4,5],"counts":"abc"}'
    assert textcodec.decode("[" * 5000 + "]" * 5000) == "[" * 5000 + "]" * 5000  # too deep: just text
