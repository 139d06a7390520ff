"""The model file: the example loads, every mistake is reported with code, place and hint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadscore.diagnostics import LeadscoreError
from leadscore.model import load_model, model_json_schema, parse_model

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "src/leadscore/project/templates/model.yaml"


def test_example_model_loads_with_its_scores_and_stage_thresholds():
    model = load_model(EXAMPLE)
    assert list(model.scores) == ["fit", "engagement", "feedback", "total"]
    assert model.stage_score is not None and model.stage_score.name == "total"
    assert [t.label for t in model.scores["total"].thresholds] == ["Lead", "MQL", "SQL"]
    assert model.grade is not None and model.grade.rows == "fit"


def test_committed_json_schema_is_current():
    committed = json.loads((REPO / "schema/model.schema.json").read_text())
    assert committed == json.loads(json.dumps(model_json_schema())), (
        "schema/model.schema.json is stale: run `make schema`")


def errors_of(text: str) -> list:
    with pytest.raises(LeadscoreError) as caught:
        parse_model(text, "m.yaml")
    return caught.value.diagnostics


HEAD = "version: 1\nname: m\nscores:\n  s:\n    rules:\n"

PROB = (HEAD + "      - {name: r, when: {event: visit}, points: 1}\n"
        "    probability:\n")

# (case id, rules section or whole file, expected code, expected line, text in message or hint)
CASES = [
    ("yaml syntax", "version: 1\nname: [m\nscores: {}\n", "LS101", 3, "YAML syntax"),
    ("duplicate key", "version: 1\nname: m\nname: n\nscores: {}\n", "LS102", 3, "duplicate"),
    ("unknown key did you mean",
     HEAD + "      - name: r\n        when: {property: industry, equals: x}\n        pionts: 1\n",
     "LS103", 8, "did you mean 'points'"),
    ("wrong type", HEAD + "      - name: r\n        when: {property: industry, equals: x}\n"
     "        points: many\n", "LS104", 8, "number"),
    ("missing required", "version: 1\nname: m\n", "LS105", 1, "scores"),
    ("version", "version: 2\nname: m\nscores: {}\n", "LS106", 1, "version: 1"),
    ("no kind", HEAD + "      - name: r\n        when: {equals: x}\n        points: 1\n",
     "LS110", 7, "exactly one of property, event"),
    ("two operators", HEAD + "      - name: r\n        when: {property: industry, equals: x, "
     "contains: y}\n        points: 1\n", "LS111", 7, "one operator"),
    ("operator beside events", HEAD + "      - name: r\n        when: {event: page_view, "
     "contains: x}\n        points: 1\n", "LS112", 7, "where"),
    ("operator type", HEAD + "      - name: r\n        when: {property: employees, contains: x}"
     "\n        points: 1\n", "LS113", 7, "at_least"),
    ("bad duration", HEAD + "      - name: r\n        when: {event: visit, within_last: soon}"
     "\n        points: 1\n", "LS114", 7, "duration"),
    ("unknown property", HEAD + "      - name: r\n        when: {property: job_titel, "
     "contains: x}\n        points: 1\n", "LS120", 7, "did you mean 'job_title'"),
    ("unknown event type", HEAD + "      - name: r\n        when: {event: pageview}\n"
     "        points: 1\n", "LS121", 7, "did you mean 'page_view'"),
    ("unknown attribute", HEAD + "      - name: r\n        when: {event: page_view, where: "
     "{ulr: x}}\n        points: 1\n", "LS122", 7, "did you mean 'url'"),
    ("points and tiers", HEAD + "      - name: r\n        when: {event: visit}\n", "LS130", 6,
     "points"),
    ("overlapping tiers", HEAD + "      - name: r\n        when: {event: visit}\n"
     "        tiers:\n          - {between: [2, 5], points: 3}\n"
     "          - {at_least: 5, points: 6}\n", "LS133", 10, "both include 5"),
    ("duplicate rule name", HEAD + "      - {name: r, when: {event: visit}, points: 1}\n"
     "      - {name: r, when: {event: visit}, points: 2}\n", "LS134", 7, "twice"),
    ("overlapping thresholds", "version: 1\nname: m\nscores:\n  s:\n    rules:\n"
     "      - {name: r, when: {event: visit}, points: 1}\n    thresholds:\n"
     "      - {label: MQL, min: 35, max: 64}\n      - {label: SQL, min: 60}\n",
     "LS142", 9, "overlaps"),
    ("unknown stage", "version: 1\nname: m\nscores:\n  s:\n    rules:\n"
     "      - {name: r, when: {event: visit}, points: 1}\n    thresholds:\n"
     "      - {label: MQL, min: 35, stage: mgl}\n", "LS144", 8, "did you mean 'mql'"),
    ("unknown summed score", "version: 1\nname: m\nscores:\n  s:\n    rules:\n"
     "      - {name: r, when: {event: visit}, points: 1}\n  total:\n    sum: [s, engagment]\n",
     "LS140", 8, "engagment"),
    ("probability neither", PROB + "      within: 90d\n", "LS148", 7, "points"),
    ("probability both", PROB + "      points: [[0, 0.1]]\n"
     "      logistic: {intercept: 0, slope: 1}\n", "LS148", 7, "one of them"),
    ("probability above one", PROB + "      points: [[0, 0.1], [5, 1.5]]\n", "LS148", 8,
     "between 0 and 1"),
    ("probability scores fall", PROB + "      points: [[5, 0.1], [0, 0.2]]\n", "LS148", 8,
     "must rise"),
    ("probability bad within", PROB + "      within: soon\n      points: [[0, 0.1]]\n",
     "LS114", 8, "duration"),
    ("decay kinds", HEAD + "      - name: r\n        when: {event: visit}\n        points: 1\n"
     "        decay: {half_life: 30d, linear: 90d}\n", "LS116", 9, "one kind"),
]


@pytest.mark.parametrize("case,text,code,line,words", CASES, ids=[c[0] for c in CASES])
def test_each_mistake_has_code_place_and_explanation(case, text, code, line, words):
    found = errors_of(text)
    matching = [d for d in found if d.code == code]
    assert matching, f"expected {code}, got {[str(d) for d in found]}"
    diagnostic = matching[0]
    assert diagnostic.location.file == "m.yaml"
    assert diagnostic.location.line == line
    assert diagnostic.location.column is not None
    assert words in f"{diagnostic.message} {diagnostic.hint or ''}"


def test_all_mistakes_reported_in_one_run_including_after_structural_ones():
    text = HEAD + (
        "      - name: a\n        when: {property: job_titel, contains: vp}\n        points: 1\n"
        "      - name: b\n        when: {event: visit}\n        pionts: 3\n"
        "      - name: c\n        when: {event: vist}\n        points: 1\n"
    )
    found = errors_of(text)
    assert [(d.code, d.location.line) for d in found] == [
        ("LS120", 7), ("LS103", 11), ("LS121", 13)]


def test_missing_file_is_a_diagnostic_not_a_traceback(tmp_path):
    with pytest.raises(LeadscoreError) as caught:
        load_model(tmp_path / "nope.yaml")
    assert caught.value.diagnostics[0].code == "LS100"
