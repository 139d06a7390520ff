"""The model language's practitioner features, written wrongly: each mistake has its code, its
place in the file and a hint."""

from __future__ import annotations

import pytest

from leadscore.diagnostics import LeadscoreError
from leadscore.model import parse_model

HEAD = """version: 1
name: m
scores:
  fit:
    rules:
      - {name: r, when: {event: visit}, points: 1}
    thresholds:
      - {label: C, max: 4.99}
      - {label: B, min: 5}
"""

# (case id, what follows HEAD, code, line, words in message or hint)
CASES = [
    ("label range operator", "lifecycle:\n  qualify:\n    sql: {score: fit, label: {above: B}}\n",
     "LS176", 12, "at_least"),
    ("label range unknown label", "lifecycle:\n  qualify:\n    sql: {score: fit, label: "
     "{at_least: b+}}\n", "LS125", 12, "labels: C, B"),
    ("list in a stage rule", "lifecycle:\n  qualify:\n    sql: {list: hot}\n", "LS124", 12,
     "lists file"),
    ("exclusion without filters", "exclude_events:\n  - {name: bots, where: {}}\n", "LS190",
     11, "user_agent"),
    ("exclusion names twice", "exclude_events:\n  - {name: bots, where: {ua: {regex: bot}}}\n"
     "  - {name: bots, where: {ua: {regex: crawl}}}\n", "LS191", 12, "unique"),
    ("exclusion unknown type", "exclude_events:\n  - {name: b, event: [visit, pagevew], where: "
     "{ua: {regex: bot}}}\n", "LS121", 11, "did you mean 'page_view'"),
    ("exclusion bad operator", "exclude_events:\n  - {name: b, where: {ua: {regexp: bot}}}\n",
     "LS111", 11, "did you mean 'regex'"),
    ("exclusion bad regex", "exclude_events:\n  - {name: b, where: {ua: {regex: '(a'}}}\n",
     "LS114", 11, "regular expression"),
    ("exclusion operator of another type", "exclude_events:\n  - {name: b, event: visit, "
     "where: {source: {at_least: 3}}}\n", "LS113", 11, "starts_with"),
    ("daily limit without per_event", "  two:\n    rules:\n      - {name: r, when: {event: "
     "visit}, points: 1, max_per_day: 3}\n", "LS192", 12, "per_event: true"),
    ("daily limit of zero", "  two:\n    rules:\n      - {name: r, when: {event: visit}, "
     "points: 1, per_event: true, max_per_day: 0}\n", "LS193", 12, "above 0"),
]


def errors_of(text: str) -> list:
    with pytest.raises(LeadscoreError) as caught:
        parse_model(text, "m.yaml")
    return caught.value.diagnostics


@pytest.mark.parametrize("case,tail,code,line,words", CASES, ids=[c[0] for c in CASES])
def test_each_mistake_has_code_place_and_hint(case, tail, code, line, words):
    found = errors_of(HEAD + tail)
    matching = [d for d in found if d.code == code]
    assert matching, f"expected {code}, got {[str(d) for d in found]}"
    assert (matching[0].location.file, matching[0].location.line) == ("m.yaml", line)
    assert words in f"{matching[0].message} {matching[0].hint or ''}"


def test_score_conditions_stay_out_of_scoring_rules():
    text = HEAD + "  two:\n    rules:\n      - {name: r, when: {score: fit, label: B}, points: 1}\n"
    assert [d.code for d in errors_of(text)] == ["LS117"]


def test_a_label_range_is_the_labels_at_or_beyond_it_in_score_order():
    model = parse_model(HEAD + "lifecycle:\n  qualify:\n    sql: {score: fit, label: {at_least: "
                        "C}}\n    mql: {score: fit, label: {at_most: C}}\n", "m.yaml")
    (_, sql), (_, mql) = model.lifecycle.qualify
    assert sql.labels == {"b", "c"} and mql.labels == {"c"}
    assert sql.labels_written == "C or above (B, C)"


def test_every_event_criterion_carries_the_exclusions_of_its_type():
    model = parse_model(HEAD.replace("{event: visit}", "{event: page_view}") + (
        "exclude_events:\n  - {name: bots, where: {ua: {regex: bot}}}\n"
        "  - {name: office, event: visit, where: {ip: {starts_with: '10.'}}}\n"), "m.yaml")
    criterion = model.scores["fit"].rules[0].criterion
    assert [e.name for e in criterion.excluding] == ["bots"]
    assert [e.name for e in model.exclusions] == ["bots", "office"]
