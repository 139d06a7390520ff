"""Fuzzing the model loader (`leadscore validate FILE`): arbitrary bytes, the example model with
mistakes, deep nesting and aliases, in odd encodings — always exit 0 or a coded diagnostic, in
bounded time and memory."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.fuzz.harness import ENCODINGS, FUZZ, assert_clean, encode, leadscore
from tests.fuzz.strategies import mutate, rules, scalars

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = yaml.safe_load((REPO / "src/leadscore/project/templates/model.yaml").read_text())

pytestmark = pytest.mark.slow


def validate(content: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="leadscore-fuzz-") as folder:
        path = Path(folder) / "model.yaml"
        path.write_bytes(content)
        run = leadscore("validate", str(path), cwd=Path(folder))
    assert_clean(run, content[:400].decode("utf-8", "replace"))


@FUZZ
@given(st.binary(max_size=3000))
@example(b"\xff\xfe\x00\x00")
@example(b"version: 1\nname: !!python/object:os.system x\nscores: {}\n")
def test_arbitrary_bytes(content):
    validate(content)


@FUZZ
@given(st.data(), st.sampled_from(ENCODINGS), st.booleans())
def test_the_example_model_with_mistakes(data, encoding, flow):
    document = mutate(EXAMPLE, data.draw)
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False,
                          default_flow_style=flow, width=100)
    validate(encode(text, encoding))


@FUZZ
@given(st.lists(st.sampled_from(["not", "all", "any", "list", "map"]), min_size=1,
                max_size=3000), st.booleans())
@example(["not"] * 1000, True)
@example(["list"] * 5000, True)
@example(["map"] * 5000, False)
def test_deep_nesting(kinds, flow):
    inner = "{property: industry, equals: x}"
    if flow:
        text = inner
        for kind in reversed(kinds):
            text = {"not": "{{not: {0}}}", "all": "{{all: [{0}]}}", "any": "{{any: [{0}]}}",
                    "list": "[{0}]", "map": "{{x: {0}}}"}[kind].format(text)
        when = text
    else:
        lines, indent = [], 8
        for kind in kinds:
            key = {"list": "x", "map": "x"}.get(kind, kind)
            lines.append(" " * indent + f"{key}:")
            indent += 2
        when = "\n" + "\n".join(lines) + "\n" + " " * indent + "property: industry"
    validate((f"version: 1\nname: m\nscores:\n  fit:\n    rules:\n      - name: r\n"
              f"        points: 1\n        when: {when}\n").encode())


@settings(FUZZ, max_examples=max(FUZZ.max_examples // 2, 1))  # a bomb takes a second or two
@given(st.integers(1, 7), st.integers(1, 7), st.booleans())
@example(9, 10, False)
def test_aliases(levels, width, cycle):
    text = "version: 1\nname: m\nrules: &r0 [{name: r, when: {property: industry, equals: x}, " \
           "points: 1}]\n"
    for level in range(1, levels):
        text += f"a{level}: &r{level} [" + ", ".join([f"*r{level - 1}"] * width) + "]\n"
    if cycle:
        text += "loop: &loop [*loop]\n"
    text += "scores:\n  fit:\n    rules: *r0\n"
    validate(text.encode())


@FUZZ
@given(st.lists(rules(), min_size=1, max_size=4), st.lists(
    st.dictionaries(st.sampled_from(["label", "min", "max", "stage"]), scalars(), max_size=4),
    max_size=3))
def test_generated_rules_and_thresholds(rule_list, thresholds):
    document = {"version": 1, "name": "m", "properties": {"x": {"type": "number"}},
                "scores": {"fit": {"rules": rule_list, "thresholds": thresholds},
                           "total": {"sum": ["fit"]}}}
    validate(yaml.safe_dump(document, allow_unicode=True).encode())
