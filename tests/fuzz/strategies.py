"""Hypothesis strategies for near-miss input: valid documents with one to three mistakes of the
kinds people (and attackers) make — wrong types, unknown and misspelt keys, deep nesting, huge
numbers, NaN, odd text — applied to real examples."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

ODD_TEXT = [
    "", " ", "~", "null", "yes", "on", "NaN", "nan", "-inf", "Infinity", "1e999", "-1e308",
    "0x1F", "1_000", "1,200", "$1,200", "2026-13-45", "2026-02-30", "03/01/2026", "01.02.2026",
    "9999-12-31T23:59:59Z", "0001-01-01", "99999-01-01", "1772357400000", "30d", "-5d", "0d",
    "1e308d", "999999999999d", "12mo", "*/pricing*", "[", "{", "'", '"', "\\", "%", "#",
    "{contact.email}", "{score.total}", "\x00", "\x7f", "é", "💥", "\u202e", "a\nb", "a\r\nb",
    "x" * 3000, "<script>", "'; DROP TABLE contacts; --",
]

KNOWN_KEYS = [
    "version", "name", "description", "properties", "event_types", "scores", "grade",
    "lifecycle", "rules", "groups", "when", "points", "tiers", "points_from", "per_event", "max",
    "min", "decay", "thresholds", "sum", "label", "stage", "property", "event", "where",
    "within_last", "since", "until", "count", "all", "any", "not", "equals", "any_of", "none_of",
    "contains", "matches", "regex", "between", "at_least", "at_most", "exactly", "is_known",
    "half_life", "expire_after", "every", "lose", "linear", "rows", "columns", "type", "values",
    "attributes", "order", "exclude", "qualify", "score", "list",
]


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(min_value=-(10**30), max_value=10**30),
        st.sampled_from([10**400, -(10**400), 2**63, -(2**63) - 1]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([1e308, -1e308, 5e-324, -0.0, 1e6, 1_000_001.0]),
        st.text(max_size=40),
        st.sampled_from(ODD_TEXT),
        st.booleans(),
        st.none(),
    )


def values(known_keys: list[str] = KNOWN_KEYS) -> st.SearchStrategy[Any]:
    keys = st.one_of(st.sampled_from(known_keys), st.text(max_size=12))
    return st.recursive(
        scalars(),
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(keys, children, max_size=4),
        max_leaves=12,
    )


def paths(document: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a tree of dicts and lists (the root included)."""
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found.extend(paths(value, prefix + (key,)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.extend(paths(value, prefix + (index,)))
    return found


def _get(document: Any, path: tuple) -> Any:
    for part in path:
        document = document[part]
    return document


def typo(word: str, draw: Any) -> str:
    if not word:
        return "x"
    at = draw(st.integers(0, len(word) - 1))
    kind = draw(st.sampled_from(["drop", "double", "swap", "case", "space"]))
    if kind == "drop":
        return word[:at] + word[at + 1:] or "x"
    if kind == "double":
        return word[:at] + word[at] + word[at:]
    if kind == "swap" and at + 1 < len(word):
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    if kind == "case":
        return word.upper()
    return word + " "


def mutate(document: Any, draw: Any, known_keys: list[str] = KNOWN_KEYS,
           most: int = 3) -> Any:
    """A copy of `document` with one to `most` mistakes."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, most))):
        places = paths(document)
        path = draw(st.sampled_from(places))
        kind = draw(st.sampled_from(["replace", "replace", "rename", "delete", "add", "wrap",
                                     "nest"]))
        if not path:
            if kind in ("replace", "wrap"):
                document = draw(values(known_keys)) if kind == "replace" else [document]
            continue
        parent, last = _get(document, path[:-1]), path[-1]
        if kind == "replace":
            parent[last] = draw(values(known_keys))
        elif kind == "rename" and isinstance(parent, dict):
            parent[typo(str(last), draw)] = parent.pop(last)
        elif kind == "delete":
            if isinstance(parent, dict):
                parent.pop(last)
            else:
                del parent[last]
        elif kind == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(known_keys) | st.text(max_size=8))] = draw(
                values(known_keys))
        elif kind == "wrap":
            if draw(st.booleans()):
                parent[last] = [parent[last]]
            else:
                parent[last] = {draw(st.sampled_from(known_keys)): parent[last]}
        elif kind == "nest":
            depth = draw(st.integers(2, 100))  # deeper still: the textual tests
            nested: Any = parent[last]
            key = draw(st.sampled_from(["not", "all", "any", "x"]))
            for _ in range(depth):
                nested = {key: nested} if key in ("not", "x") else {key: [nested]}
            parent[last] = nested
    return document


# --- rules built from the model language's own parts, with odd values in every slot -----------

PROPERTIES = ["industry", "employees", "annual_revenue", "job_title", "email_opt_out",
              "created_at", "lifecycle_stage", "sales_feedback", "country", "nope"]
EVENTS = ["page_view", "visit", "form_submission", "email_open", "webinar_attended", "nope"]
ATTRIBUTES = ["url", "form_id", "minutes", "campaign", "nope"]
OPERATORS = ["equals", "not_equals", "any_of", "none_of", "contains", "not_contains",
             "starts_with", "ends_with", "matches", "regex", "greater_than", "at_least",
             "less_than", "at_most", "between", "is_known", "is_unknown", "within_last",
             "changed_within"]
RANGES = ["exactly", "between", "at_least", "at_most", "include_none"]


def slot() -> st.SearchStrategy[Any]:
    """A value for any slot: odd scalars, or short lists of them."""
    return st.one_of(scalars(), st.lists(scalars(), max_size=3))


@st.composite
def criteria(draw: Any, depth: int = 0) -> dict[str, Any]:
    kind = draw(st.sampled_from(["property", "property", "event", "event", "all", "any", "not"]
                                if depth < 3 else ["property", "event"]))
    if kind == "property":
        criterion: dict[str, Any] = {"property": draw(st.sampled_from(PROPERTIES))}
        for op in draw(st.lists(st.sampled_from(OPERATORS), max_size=2)):
            criterion[op] = draw(slot())
        return criterion
    if kind == "event":
        criterion = {"event": draw(st.sampled_from(EVENTS))}
        if draw(st.booleans()):
            criterion["where"] = {draw(st.sampled_from(ATTRIBUTES)): draw(
                slot() | st.dictionaries(st.sampled_from(OPERATORS), slot(), max_size=2))}
        for key in draw(st.lists(st.sampled_from(["within_last", "since", "until"]),
                                 max_size=2)):
            criterion[key] = draw(slot())
        if draw(st.booleans()):
            criterion["count"] = draw(st.dictionaries(st.sampled_from(RANGES), slot(),
                                                      max_size=2))
        return criterion
    children = draw(st.lists(criteria(depth + 1), min_size=0, max_size=3))
    return {"not": children[0] if children else {}} if kind == "not" else {kind: children}


@st.composite
def rules(draw: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"name": draw(st.sampled_from(["r", "r", "Decision maker", ""])),
                            "when": draw(criteria())}
    for key in draw(st.lists(st.sampled_from(["points", "points", "tiers", "points_from",
                                              "per_event", "max", "min", "decay"]),
                             min_size=1, max_size=3)):
        if key == "tiers":
            rule[key] = draw(st.lists(
                st.dictionaries(st.sampled_from([*RANGES, "points"]), slot(), max_size=3),
                max_size=3))
        elif key == "decay":
            rule[key] = draw(st.dictionaries(
                st.sampled_from(["half_life", "every", "lose", "linear", "expire_after"]),
                slot(), max_size=2) | st.booleans())
        elif key == "points_from":
            rule[key] = draw(st.sampled_from(["employees", "annual_revenue", "industry", "x"]))
        else:
            rule[key] = draw(slot())
    return rule
