"""A stored value's typed forms, and reading a declared property from them: the SQL engines
read the forms, the Python store reads the raw value; both must give the same typed value."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.catalog import (
    PropertyDef,
    PropertyType,
    TypedForms,
    attribute_forms,
    enum_option,
    read_attribute,
    read_forms,
    read_value,
    to_micros,
    typed_forms,
)
from leadscore.storage.snapshots import ValueReader

T = PropertyType
JAN5 = to_micros(datetime(2026, 1, 5, tzinfo=UTC))


@pytest.mark.parametrize("raw,forms", [
    ("Alpha", ("Alpha", None, None, None)),
    (" 1,200 ", ("1,200", 1200, None, None)),
    ("2026-01-05", ("2026-01-05", None, None, JAN5)),
    ("yes", ("yes", None, True, None)),
    (True, ("True", None, True, None)),
    (1, ("1", 1, True, 1_000_000)),
    (2.5, ("2.5", 2.5, None, 2_500_000)),
    (5.0, ("5", 5, None, 5_000_000)),
    ("", (None, None, None, None)),
    (None, (None, None, None, None)),
    (float("nan"), (None, None, None, None)),
    (float("inf"), (None, None, None, None)),
    ({"a": 1}, (None, None, None, None)),
    ([1, 2], (None, None, None, None)),
])
def test_typed_forms(raw, forms):
    assert typed_forms(raw) == TypedForms(*forms)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**15, 10**15),
              st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
              st.sampled_from(["2026-01-05", "2026-01-05T10:00:00Z", " 12 ", "1,200", "yes",
                               "MQL", "mql", " Lead ", "1.0", "t", "checked", "1e3"])),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner,
                                                               max_size=2),
    max_leaves=3)
OPTIONS = ("lead", "MQL", "sql")


@settings(max_examples=500, deadline=None)
@given(raw=json_values)
def test_reading_the_forms_equals_what_the_store_reads(raw):
    forms = typed_forms(raw)
    if isinstance(raw, float) and not math.isfinite(raw):
        # JSON has no NaN or infinity (a store keeps them as null): every form is unknown
        assert forms == (None, None, None, None)
        return
    for kind in (T.STRING, T.NUMBER, T.BOOL, T.DATE):
        stored = ValueReader({"p": PropertyDef("p", kind)}).read("p", raw, forms)
        assert read_forms(forms, kind) == stored, kind
        assert read_value(raw, kind) == stored, kind
    # an enumeration: the text form, as an option (ignoring case) or unknown
    text = ValueReader({"p": PropertyDef("p", T.STRING)}).read("p", raw, forms)
    assert read_forms(forms, T.ENUM, OPTIONS) == enum_option(text, OPTIONS)
    assert read_value(raw, T.ENUM, OPTIONS) == enum_option(text, OPTIONS)


@pytest.mark.parametrize("raw,kind,value", [
    ("5", T.NUMBER, None), (5, T.NUMBER, 5), (True, T.NUMBER, None), (5, T.STRING, None),
    ("x", T.STRING, "x"), ("", T.STRING, ""), (1, T.BOOL, None), (False, T.BOOL, False),
    ("2026-01-05", T.DATE, datetime(2026, 1, 5, tzinfo=UTC)), (1767571200, T.DATE, None),
    ("soon", T.DATE, None), (float("inf"), T.NUMBER, None), ("x", T.ENUM, "x"),
])
def test_an_attribute_counts_only_when_its_json_type_fits(raw, kind, value):
    assert read_attribute(raw, kind) == value


def test_attribute_columns_follow_the_same_rule():
    assert attribute_forms("2026-01-05") == ("2026-01-05", None, None, JAN5)
    assert attribute_forms(3) == (None, 3.0, None, None)
    assert attribute_forms(True) == (None, None, True, None)


def test_an_enum_reads_as_its_option_whatever_the_case():
    assert read_value(" mql ", T.ENUM, OPTIONS) == "MQL"
    assert read_value("prospect", T.ENUM, OPTIONS) is None
    assert read_value(1.0, T.ENUM, ("1", "2")) == "1"  # through the string form, as text
