"""Fuzzing the mapping loader (`leadscore.ingestion.load_mapping`): arbitrary bytes and the
documented example mapping with mistakes, in odd encodings — it loads, or raises diagnostics
with codes; never another exception; bounded time and memory."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from leadscore.ingestion import load_mapping
from tests.fuzz.harness import ENCODINGS, FUZZ, call_loader, encode
from tests.fuzz.strategies import mutate

EXAMPLE = {
    "version": 1, "contact_id": "Prospect ID", "email": "Email", "created_at": "Created On",
    "columns": {"Lead Source": "original_source", "Do Not Email": "email_opt_out",
                "TotalVisits": "total_visits"},
    "null_values": ["Select", "N/A"], "include_unmapped": False, "exclude": ["Tags"],
    "types": {"total_visits": "number"}, "defaults": {"created_at": "2026-01-01"},
    "outcome": {"column": "Converted", "positive": ["1"], "negative": ["0"], "stage": "won",
                "at": "2015-06-30"},
}
KEYS = [*EXAMPLE, "row_ids", "updated_at", "column", "positive", "negative", "stage", "at",
        "at_column", "number", "bool", "date", "enum", "string"]

pytestmark = pytest.mark.slow


def load(content: bytes) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="leadscore-fuzz-") as folder:
        path = Path(folder) / "mapping.yaml"
        path.write_bytes(content)
        return call_loader(lambda: load_mapping(path))


@FUZZ
@given(st.binary(max_size=2000))
@example(b"version: 1\ncontact_id: [" + b"[" * 3000 + b"]" * 3001 + b"\n")
@example(b"version: 1\ncontact_id: !!binary x\n")
def test_arbitrary_bytes(content):
    load(content)


@FUZZ
@given(st.data(), st.sampled_from(ENCODINGS), st.booleans())
def test_the_example_mapping_with_mistakes(data, encoding, flow):
    document = mutate(EXAMPLE, data.draw, known_keys=KEYS)
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False,
                          default_flow_style=flow)
    load(encode(text, encoding))


def test_the_example_mapping_loads():
    assert load(yaml.safe_dump(EXAMPLE).encode()) == []
