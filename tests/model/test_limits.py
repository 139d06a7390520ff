"""The limits of docs/limits.md: a definition file that passes validation cannot hang or
exhaust a process, and no score can become infinite or NaN."""

from __future__ import annotations

import math
import time
import tracemalloc
from datetime import UTC, datetime

import pytest

from leadscore.diagnostics import LeadscoreError
from leadscore.evaluation import ContactSnapshot, PropertyChange, Scorer
from leadscore.model import load_model, parse_model
from leadscore.model.limits import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    MAX_POINTS,
    MAX_RULES,
)

HEAD = "version: 1\nname: m\nscores:\n  fit:\n    rules:\n"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def errors_of(text: str) -> list:
    with pytest.raises(LeadscoreError) as caught:
        parse_model(text, "m.yaml")
    return caught.value.diagnostics


def codes(text: str) -> list[tuple[str, int | None]]:
    return [(d.code, d.location.line) for d in errors_of(text)]


def bounded(call, *, seconds: float = 10.0, megabytes: float | None = 100.0):
    """Run `call`, failing when it takes longer or allocates more than given (memory is traced
    only when `megabytes` is given: tracing slows a large file down threefold)."""
    if megabytes is not None:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        result = call()
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if megabytes is not None else 0
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.1f}s"
    if megabytes is not None:
        assert peak < megabytes * 1e6, f"allocated {peak / 1e6:.0f} MB"
    return result


def nested_not(depth: int) -> str:
    return (HEAD + "      - name: r\n        points: 1\n        when: "
            + "{not: " * depth + "{property: industry, equals: x}" + "}" * depth + "\n")


def test_not_nested_a_thousand_deep_is_a_placed_diagnostic():
    found = bounded(lambda: errors_of(nested_not(1000)))
    assert [d.code for d in found] == ["LS107"]
    assert found[0].location.line == 8 and found[0].location.column is not None
    assert f"more than {MAX_DEPTH} levels" in found[0].message
    assert "docs/limits.md" in (found[0].hint or "")


def test_nesting_within_the_limit_still_loads():
    model = parse_model(nested_not(20), "m.yaml")
    assert model.scores["fit"].rules[0].name == "r"


def alias_bomb(levels: int = 9) -> str:
    text = "version: 1\nname: m\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, levels):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    return text + "scores: {}\n"


def test_alias_bomb_fails_fast_with_bounded_memory():
    # 10^9 values once expanded; before the limit it grew past 1.7 GB
    found = bounded(lambda: errors_of(alias_bomb()), seconds=10, megabytes=150)
    assert [d.code for d in found] == ["LS107"]
    assert f"more than {MAX_NODES:,} values" in found[0].message
    assert "aliases" in found[0].message


def test_an_alias_that_contains_itself_is_a_diagnostic():
    found = errors_of("version: 1\nname: m\nloop: &a [*a]\nscores: {}\n")
    assert [d.code for d in found] == ["LS107"]


def test_ordinary_aliases_still_work():
    text = (HEAD + "      - name: a\n        when: &vp {property: job_title, contains: vp}\n"
            "        points: 1\n      - name: b\n        when: *vp\n        points: 2\n")
    model = parse_model(text, "m.yaml")
    assert [r.points for r in model.scores["fit"].rules] == [1, 2]


def test_a_file_larger_than_the_limit_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(HEAD + "#" * MAX_FILE_BYTES + "\n")
    with pytest.raises(LeadscoreError) as caught:
        bounded(lambda: load_model(path), seconds=5)
    assert [d.code for d in caught.value.diagnostics] == ["LS107"]
    assert "larger than 1,000,000 bytes" in caught.value.diagnostics[0].message


def test_a_flat_file_with_too_many_values_is_refused():
    text = HEAD + "      - {name: r, when: {property: industry, any_of: [" + ", ".join(
        ["x"] * (MAX_NODES + 10)) + "]}, points: 1}\n"
    found = bounded(lambda: errors_of(text), seconds=30, megabytes=None)
    assert [d.code for d in found] == ["LS107"]


def test_more_rules_than_the_limit_is_a_diagnostic_at_the_first_rule_past_it():
    rule = "      - {{name: r{0}, when: {{property: industry, equals: x}}, points: 1}}\n"
    text = HEAD + "".join(rule.format(i) for i in range(MAX_RULES + 1))
    found = errors_of(text)
    assert [(d.code, d.location.line) for d in found] == [("LS108", 6 + MAX_RULES)]
    assert f"{MAX_RULES + 1:,} rules" in found[0].message


@pytest.mark.parametrize("written", ["1e308", "-1e7", ".nan", ".inf", "-.inf", "1000001"])
@pytest.mark.parametrize("where", ["points", "max", "tier", "group", "threshold", "score max"])
def test_points_caps_and_thresholds_are_finite_and_bounded(written, where):
    rule = "      - name: r\n        when: {property: industry, equals: x}\n"
    if where == "points":
        text = HEAD + rule + f"        points: {written}\n"
    elif where == "max":
        text = HEAD + rule + f"        points: 1\n        max: {written}\n"
    elif where == "tier":
        text = HEAD + ("      - name: r\n        when: {property: employees}\n"
                       f"        tiers: [{{at_least: 1, points: {written}}}]\n")
    elif where == "group":
        text = ("version: 1\nname: m\nscores:\n  fit:\n    groups:\n      - name: g\n"
                f"        min: {written}\n        rules:\n  " + rule.replace("\n  ", "\n    ")
                + "          points: 1\n")
    elif where == "threshold":
        text = HEAD + rule + f"        points: 1\n    thresholds: [{{label: A, min: {written}}}]\n"
    else:
        text = HEAD + rule + f"        points: 1\n    max: {written}\n"
    found = errors_of(text)
    assert [d.code for d in found] == ["LS137"], [str(d) for d in found]
    assert "finite numbers between -1,000,000 and 1,000,000" in found[0].message


def test_the_largest_points_allowed_still_load():
    text = HEAD + (f"      - {{name: r, when: {{property: industry, equals: x}}, "
                   f"points: {MAX_POINTS}}}\n")
    assert parse_model(text, "m.yaml").scores["fit"].rules[0].points == MAX_POINTS


@pytest.mark.parametrize("bound", ["{at_least: .inf, points: 1}",
                                   "{between: [1, .nan], points: 1}"])
def test_tier_ranges_are_finite(bound):
    text = HEAD + f"      - name: r\n        when: {{event: visit}}\n        tiers: [{bound}]\n"
    assert [d.code for d in errors_of(text)] == ["LS115"]


@pytest.mark.parametrize("text", [
    "{event: visit, within_last: 99999999999999d}", "{event: visit, within_last: 200y}",
    "{property: created_at, changed_within: 40000d}",
])
def test_durations_are_at_most_a_hundred_years(text):
    found = errors_of(HEAD + f"      - name: r\n        when: {text}\n        points: 1\n")
    assert [d.code for d in found] == ["LS114"], [str(d) for d in found]


@pytest.mark.parametrize("when", ["{event: visit, since: 99999999999999999999}",
                                  "{event: visit, since: 99999-01-01}"])
def test_times_out_of_the_calendar_are_diagnostics(when):
    found = errors_of(HEAD + f"      - name: r\n        when: {when}\n        points: 1\n")
    assert [d.code for d in found] == ["LS114"], [str(d) for d in found]


@pytest.mark.parametrize("value", ["2026-13-45", "!!int abc", "!foo bar",
                                   "!!python/object:os.system x", "!!float x"])
def test_values_yaml_cannot_read_are_placed_diagnostics(value):
    found = errors_of(f"version: 1\nname: {value}\nscores: {{}}\n")
    first = found[0]
    assert (first.code, first.location.line, first.location.column) == ("LS101", 2, 7)
    assert "quote it" in (first.hint or "")


def test_points_from_a_huge_or_infinite_property_value_keep_the_score_finite():
    text = ("version: 1\nname: m\nproperties: {adjustment: {type: number}}\nscores:\n"
            "  fit:\n    rules:\n"
            "      - {name: a, when: {property: adjustment, is_known: true}, "
            "points_from: adjustment}\n"
            "      - {name: b, when: {property: adjustment, is_known: true}, "
            "points_from: adjustment}\n"
            "    thresholds: [{label: high, min: 10, stage: sql}, {label: low}]\n")
    model = parse_model(text, "m.yaml")
    scorer = Scorer(model)
    # a non-finite number is no number at all: unknown, as in every engine (catalog.forms)
    for value, expected in [(1e308, 2 * MAX_POINTS), (math.inf, 0), (-math.inf, 0),
                            (-1e308, -2 * MAX_POINTS), (7, 14)]:
        snap = ContactSnapshot.build("c1", NOW, created_at=NOW, events=[],
                                     property_changes=[PropertyChange("adjustment", value, NOW)])
        for detail in (False, True):
            result = scorer.score(snap, detail=detail)
            assert result.scores["fit"].value == expected, (value, detail)
    negative = scorer.score(ContactSnapshot.build(
        "c1", NOW, created_at=NOW, events=[],
        property_changes=[PropertyChange("adjustment", -math.inf, NOW)]))
    assert negative.scores["fit"].label == "low" and negative.stage is None


# --- lists, workflows and mapping files are read by the same bounded reader -------------------

def _loaders(tmp_path):
    from leadscore.ingestion import load_mapping
    from leadscore.lists import ListSet, load_lists
    from leadscore.workflows import load_workflows

    model = load_model(EXAMPLE)
    return {
        "lists": lambda path: load_lists(path, model),
        "workflows": lambda path: load_workflows(path, model, ListSet([])),
        "mapping": load_mapping,
    }


EXAMPLE = __import__("pathlib").Path(__file__).resolve().parents[2] / (
    "src/leadscore/project/templates/model.yaml")


@pytest.mark.parametrize("kind", ["lists", "workflows", "mapping"])
@pytest.mark.parametrize("problem", ["deep", "bomb", "large"])
def test_lists_workflows_and_mapping_files_have_the_same_limits(tmp_path, kind, problem):
    path = tmp_path / f"{kind}.yaml"
    if problem == "deep":
        path.write_text("version: 1\nitems: " + "[" * 500 + "]" * 500 + "\n")
    elif problem == "bomb":
        path.write_text(alias_bomb().replace("scores: {}\n", ""))
    else:
        path.write_text("version: 1\n" + "#" * (MAX_FILE_BYTES + 1) + "\n")
    with pytest.raises(LeadscoreError) as caught:
        bounded(lambda: _loaders(tmp_path)[kind](path), seconds=10, megabytes=150)
    found = caught.value.diagnostics
    assert found[0].location.file == str(path)
    if kind == "mapping" and problem == "bomb":  # the mapping reader never expands aliases:
        assert {d.code for d in found} <= {"LS231", "LS232", "LS233"}  # its unknown keys
        return
    assert [d.code for d in found] == ["LS107"], [str(d) for d in found]


HUGE = 10**400


@pytest.mark.parametrize("count", [f"{{exactly: {HUGE}}}", f"{{between: [1, {HUGE}]}}",
                                   f"{{at_least: {HUGE}}}"])
def test_huge_whole_numbers_in_counts_load_or_are_diagnostics(count):
    text = HEAD + f"      - name: r\n        when: {{event: visit, count: {count}}}\n" \
                  "        points: 1\n"
    try:
        parse_model(text, "m.yaml")  # a count that can never be reached is harmless
    except LeadscoreError as error:
        assert all(d.code.startswith("LS1") for d in error.diagnostics)


@pytest.mark.parametrize("when", [f"{{event: visit, within_last: {HUGE}}}",
                                  f"{{event: visit, since: {HUGE}}}",
                                  f"{{event: visit, until: {-HUGE}}}",
                                  "{property: created_at, within_last: .nan}"])
def test_numbers_too_large_for_a_time_or_duration_are_diagnostics(when):
    found = errors_of(HEAD + f"      - name: r\n        when: {when}\n        points: 1\n")
    codes = {d.code for d in found}  # LS104 where the key takes text only (LS105 beside it)
    assert codes & {"LS104", "LS114"} and codes <= {"LS104", "LS105", "LS114"}, found
    assert all(len(d.message) < 200 for d in found)
