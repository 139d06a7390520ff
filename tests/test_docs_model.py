"""docs/model.md lists every standard property and event type (with its attributes) that a
model may name, and states each semantic rule that has a test of its own (named here)."""

from __future__ import annotations

import re
from pathlib import Path

from leadscore.catalog import STANDARD_PROPERTIES
from leadscore.catalog.catalog import STANDARD_EVENT_TYPES

REPO = Path(__file__).resolve().parents[1]
MODEL_DOC = (REPO / "docs/model.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = MODEL_DOC.index(f"## {title}\n")
    end = MODEL_DOC.find("\n## ", start + 1)
    return MODEL_DOC[start:end]


def test_every_standard_property_and_event_type_is_listed():
    listed = section("Properties and event types")
    named = set(re.findall(r"`([a-z_]+)`", listed))
    assert sorted(set(STANDARD_PROPERTIES) - named) == []
    assert sorted(set(STANDARD_EVENT_TYPES) - named) == []
    words = set(re.findall(r"[a-z_]+", listed))
    missing = sorted(f"{kind}.{attribute}" for kind, event in STANDARD_EVENT_TYPES.items()
                     for attribute in event.attributes if attribute not in words)
    assert missing == []


def test_every_rule_of_the_semantics_section_names_an_existing_test():
    rules = section("Semantics, each with its test")
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", rules)
    assert len(named) >= 8
    for path, test in named:
        text = (REPO / path).read_text(encoding="utf-8")
        assert re.search(rf"def {test}\(", text), f"{path} has no {test}"


def test_every_whole_model_example_compiles():
    """A ```yaml block that starts with `version: 1` and elides nothing is a whole model file
    as a reader would copy it: it compiles."""
    from leadscore.model import parse_model

    blocks = re.findall(r"```yaml\n(.*?)```", MODEL_DOC, flags=re.S)
    whole = [b for b in blocks if b.startswith("version: 1\n") and "…" not in b]
    assert len(whole) >= 1
    for block in whole:
        parse_model(block, "docs/model.md")
