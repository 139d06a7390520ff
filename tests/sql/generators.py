"""Hypothesis strategies: whole model files, lists files and contact histories built to land on
the edges where engines could disagree — events exactly at a window's, an expiry's or a step's
boundary, at the moment of scoring and just after it; values of the wrong type, cleared
properties, empty histories; negative and fractional points, caps at every level, tiers,
per-event rules (with and without a daily limit, events on either side of midnight UTC), every
kind of decay, counts that include none, since/until; text, glob and regex operators on ASCII
and common Latin letters; event exclusions; stage rules on scores' labels and values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from hypothesis import strategies as st

from leadscore.catalog import duration_micros, parse_duration, to_micros
from leadscore.evaluation.ledger import LedgerEntry
from leadscore.sql.reference import History

AS_OF = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
AS_OF_US = to_micros(AS_OF)
DURATIONS = ["90s", "1h", "1.5h", "1d", "7d", "30d"]
DURATION_US = [duration_micros(parse_duration(d)) for d in DURATIONS]
DAY_US = 86_400_000_000

TEXTS = ["Alpha", "alpha", "BETA beta", "gamma-ray", "Ärger", "café", "ÉCOLE", "naïve", "x.y",
         "a%b_c", "", "  padded ", "50% off", "back\\slash", "it's", "line\nbreak", "Straße",
         "señor", "Œuvre", "bête"]
WORDS = ["alpha", "Beta", "gam", "é", "café", "x.y", "%", "_", "50", "line", "ß", "ÉCO", "ray",
         "'", "\\"]
GLOBS = ["*alpha*", "?eta*", "[a-c]*", "*[!a-z]", "caf?", "*.y", "*%*", "*_*", "[]]*",
         "x*y*z", "*é*", "[à-ÿ]*", "*"]
REGEXES = ["^al", "a.b", r"\bbeta\b", "[[:alpha:]]+-", r"\d+", "CAF", "é", "^$", r"x\.y",
           "ph(a|e)se", r"\s", "[^a-z]", "a{1,2}l", r"\Qx.y\E", r"\w+\W", r"(?s)line.break",
           r"[\d%]", "ç|ñ", r"\Bet", "y$"]
NUMBERS = [-3, 0, 1, 2.5, 5, 12, 1200]
POINTS = [-40, -7.5, -1.25, 0.1, 1, 2.5, 3, 10, 12.345678, 25, 60]
ENUM_OPTIONS = ["alpha", "Beta", "GAMMA"]

PROPERTIES = {"p_text": "string", "p_num": "number", "p_flag": "bool", "p_date": "date",
              "p_enum": "enum"}
ACT_ATTRIBUTES = {"label": "string", "size": "number", "ok": "bool", "when": "date"}
EVENT_TYPES = ["act", "free", "page_view", "visit"]


def iso(micros: int) -> str:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    return moment.isoformat().replace("+00:00", "Z")


# --- edges in time -------------------------------------------------------------------------------

@st.composite
def ages(draw) -> int:
    """An age in µs before the moment of scoring (negative: after it), often on an edge."""
    d = draw(st.sampled_from(DURATION_US))
    midnight = AS_OF_US % DAY_US  # the age of the last UTC midnight (daily limits' edge)
    return draw(st.one_of(
        st.sampled_from([0, 1, -1, d, d - 1, d + 1, 2 * d, 3 * d - 1, -d]),
        st.sampled_from([midnight, midnight + 1, midnight - 1, midnight + DAY_US]),
        st.integers(-DAY_US, 40 * DAY_US)))


def moments() -> st.SearchStrategy[int]:
    return ages().map(lambda age: AS_OF_US - age)


# --- values --------------------------------------------------------------------------------------

def raw_values(kind: str) -> st.SearchStrategy[Any]:
    """Stored JSON values for a property or attribute of `kind`: mostly fitting, sometimes
    not (the engines must agree on what does not fit)."""
    fitting = {
        "string": st.sampled_from(TEXTS),
        "number": st.sampled_from(NUMBERS),
        "bool": st.booleans(),
        "date": moments().map(iso),
        "enum": st.sampled_from(ENUM_OPTIONS + ["ALPHA", "beta", "delta", " gamma "]),
    }[kind]
    wrong = st.sampled_from([0, 1, 5, 2.5, True, False, "12", "1,200", "2026-01-05", "yes",
                             "Alpha", {"a": 1}, [1], "2026-02-28T12:00:00Z"])
    return st.one_of(fitting, fitting, wrong)


# --- criteria ------------------------------------------------------------------------------------

def texts_value() -> st.SearchStrategy[Any]:
    words = st.sampled_from(WORDS + [""])  # every text contains, starts and ends with ""
    return st.one_of(words, st.lists(words, min_size=1, max_size=3))


def value_test(kind: str, *, attribute: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """One operator and its written value for a value of `kind`."""
    flags = st.sampled_from([{"is_known": True}, {"is_known": False}, {"is_unknown": True}])
    if kind in ("string", "enum"):
        words = (st.sampled_from(ENUM_OPTIONS + ["gamma", "BETA"]) if kind == "enum"
                 else st.sampled_from(WORDS + ["Alpha", "café"]))
        tests = [
            words.map(lambda w: {"equals": w}), words.map(lambda w: {"not_equals": w}),
            st.lists(words, min_size=1, max_size=3).map(lambda w: {"any_of": w}),
            st.lists(words, min_size=1, max_size=3).map(lambda w: {"none_of": w}),
            texts_value().map(lambda w: {"contains": w}),
            texts_value().map(lambda w: {"not_contains": w}),
            texts_value().map(lambda w: {"starts_with": w}),
            texts_value().map(lambda w: {"ends_with": w}),
            st.one_of(st.sampled_from(GLOBS), st.lists(st.sampled_from(GLOBS), min_size=1,
                                                       max_size=2)).map(lambda g: {"matches": g}),
            st.sampled_from(REGEXES).map(lambda r: {"regex": r}), flags]
    elif kind == "number":
        numbers = st.sampled_from(NUMBERS)
        tests = [numbers.map(lambda n, op=op: {op: n}) for op in (
            "equals", "not_equals", "greater_than", "at_least", "less_than", "at_most")]
        tests += [st.lists(numbers, min_size=1, max_size=3).map(lambda n: {"any_of": n}),
                  st.lists(numbers, min_size=1, max_size=3).map(lambda n: {"none_of": n}),
                  st.lists(numbers, min_size=2, max_size=2).map(
                      lambda n: {"between": sorted(n)}), flags]
    elif kind == "bool":
        tests = [st.booleans().map(lambda b: {"equals": b}),
                 st.booleans().map(lambda b: {"not_equals": b}), flags]
    else:  # date
        dates = moments().map(iso)
        tests = [dates.map(lambda d, op=op: {op: d}) for op in (
            "greater_than", "at_least", "less_than", "at_most", "equals")]
        tests += [st.lists(moments(), min_size=2, max_size=2).map(
            lambda m: {"between": [iso(v) for v in sorted(m)]}),
            st.sampled_from(DURATIONS).map(lambda d: {"within_last": d}), flags]
    if not attribute:
        tests.append(st.sampled_from(DURATIONS).map(lambda d: {"changed_within": d}))
    return st.one_of(*tests)


@st.composite
def property_criterion(draw) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(PROPERTIES) + ["created_at", "job_title", "employees"]))
    kind = PROPERTIES.get(name) or {"created_at": "date", "job_title": "string",
                                    "employees": "number"}[name]
    return {"property": name, **draw(value_test(kind))}


@st.composite
def event_criterion(draw, *, count: bool = True) -> dict[str, Any]:
    kind = draw(st.sampled_from(EVENT_TYPES))
    out: dict[str, Any] = {"event": kind}
    attributes = {"act": ACT_ATTRIBUTES, "page_view": {"url": "string"},
                  "visit": {"source": "string"},
                  "free": {"label": draw(st.sampled_from(["string", "number"])),
                           "size": "number"}}[kind]
    where = {}
    for name in draw(st.lists(st.sampled_from(sorted(attributes)), max_size=2, unique=True)):
        where[name] = draw(value_test(attributes[name], attribute=True))
    if where:
        out["where"] = where
    window = draw(st.sampled_from(["ever", "within", "since", "until", "both", "all"]))
    if window in ("within", "all"):
        out["within_last"] = draw(st.sampled_from(DURATIONS))
    since = draw(moments()) if window in ("since", "both", "all") else None
    until = draw(moments()) if window in ("until", "both", "all") else None
    if since is not None and until is not None and since > until:  # as moments: an ISO
        since, until = until, since  # text without a fraction does not sort as its moment
    if since is not None:
        out["since"] = iso(since)
    if until is not None:
        out["until"] = iso(until)
    if count and draw(st.booleans()):
        form = draw(st.sampled_from(["exactly", "between", "at_least", "at_most", "none"]))
        low, high = sorted(draw(st.lists(st.integers(0, 4), min_size=2, max_size=2)))
        out["count"] = {"exactly": {"exactly": low}, "between": {"between": [low, high]},
                        "at_least": {"at_least": high}, "at_most": {"at_most": high},
                        "none": {"at_most": high, "include_none": True}}[form]
    return out


def criteria(depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    leaves = st.one_of(property_criterion(), event_criterion())
    if depth == 0:
        return leaves
    inner = criteria(depth - 1)
    return st.one_of(
        leaves, leaves,
        st.lists(inner, min_size=1, max_size=3).map(lambda items: {"all": items}),
        st.lists(inner, min_size=1, max_size=3).map(lambda items: {"any": items}),
        inner.map(lambda item: {"not": item}))


# --- rules, scores, models -----------------------------------------------------------------------

def decays() -> st.SearchStrategy[Any]:
    d = st.sampled_from(DURATIONS)
    return st.one_of(
        st.just(None), st.just(False),
        d.map(lambda v: {"half_life": v}),
        st.tuples(d, st.sampled_from(["25%", "50%", "30%", "100%"])).map(
            lambda p: {"every": p[0], "lose": p[1]}),
        d.map(lambda v: {"linear": v}),
        d.map(lambda v: {"expire_after": v}),
        st.tuples(d, d).map(lambda p: {"half_life": p[0], "expire_after": p[1]}),
        st.tuples(d, d).map(lambda p: {"every": p[0], "lose": "50%", "expire_after": p[1]}))


@st.composite
def tiers(draw, *, count: bool) -> list[dict[str, Any]]:
    cuts = sorted(draw(st.sets(st.integers(0, 6) if count else st.sampled_from(NUMBERS),
                               min_size=1, max_size=3)))
    out = []
    for i, low in enumerate(cuts):
        high = cuts[i + 1] - 1 if i + 1 < len(cuts) else None
        points = draw(st.sampled_from(POINTS))
        if count and low == 0 and high is not None:
            tier = {"at_most": high, "include_none": True, "points": points}
        elif high is None:
            tier = {"at_least": low, "points": points}
        elif not count and i + 1 < len(cuts):
            tier = {"between": [low, cuts[i + 1] - 0.5], "points": points}
        else:
            tier = {"between": [low, high], "points": points}
        out.append(tier)
    return out


@st.composite
def rule(draw, name: str) -> dict[str, Any]:
    form = draw(st.sampled_from(["points", "points", "points", "event_tiers", "property_tiers",
                                 "per_event", "points_from"]))
    out: dict[str, Any] = {"name": name}
    if form == "event_tiers":
        out["when"] = draw(event_criterion(count=False))
        out["tiers"] = draw(tiers(count=True))
    elif form == "property_tiers":
        out["when"] = {"property": "p_num"}
        out["tiers"] = draw(tiers(count=False))
    elif form == "per_event":
        out["when"] = draw(event_criterion())
        out["points"] = draw(st.sampled_from(POINTS))
        out["per_event"] = True
        if draw(st.booleans()):
            out["max_per_day"] = draw(st.sampled_from([0.5, 2.5, 5, 12.345678, 60]))
    elif form == "points_from":
        out["when"] = draw(criteria(1))
        out["points_from"] = "p_num"
    else:
        out["when"] = draw(criteria())
        out["points"] = draw(st.sampled_from(POINTS))
    decay = draw(decays())
    if decay is not None:
        out["decay"] = decay
    low, high = sorted(draw(st.lists(st.sampled_from([-20, -2.5, 0, 4, 15.5]), min_size=2,
                                     max_size=2)))
    caps = draw(st.sampled_from(["none", "min", "max", "both"]))
    if caps in ("min", "both"):
        out["min"] = low
    if caps in ("max", "both"):
        out["max"] = high
    return out


@st.composite
def thresholds(draw, prefix: str, stages: bool = False) -> list[dict[str, Any]]:
    mins = sorted(draw(st.sets(st.sampled_from([-10, 0, 2.5, 5, 10.01, 20, 35]), min_size=1,
                               max_size=3)))
    out: list[dict[str, Any]] = []
    if draw(st.booleans()):
        out.append({"label": f"{prefix}low", "max": mins[0] - 0.01})
    stage_names = ["lead", "mql", "sql", "other"]
    for i, low in enumerate(mins):
        item: dict[str, Any] = {"label": f"{prefix}{i}", "min": low}
        if i + 1 < len(mins) and draw(st.booleans()):
            item["max"] = round(mins[i + 1] - 0.01, 2)
        if stages:
            item["stage"] = stage_names[i % len(stage_names)]
        out.append(item)
    return out


@st.composite
def model_texts(draw) -> str:
    """A whole model file (YAML text) that `parse_model` accepts."""
    scores: dict[str, Any] = {}
    n = 0
    for score_name in ("one", "two"):
        score: dict[str, Any] = {}
        if draw(st.booleans()):
            score["decay"] = draw(decays().filter(lambda d: d not in (None, False)))
        rules = []
        for _ in range(draw(st.integers(1 if score_name == "one" else 0, 3))):
            n += 1
            rules.append(draw(rule(f"r{n} ‘{score_name}’")))
        groups = []
        for g in range(draw(st.integers(0 if rules else 1, 2))):
            members = []
            for _ in range(draw(st.integers(1, 3))):
                n += 1
                members.append(draw(rule(f"r{n}")))
            group: dict[str, Any] = {"name": f"g{g}", "rules": members}
            low, high = sorted(draw(st.lists(st.sampled_from([-15, 0, 7.5, 30]), min_size=2,
                                             max_size=2)))
            caps = draw(st.sampled_from(["none", "min", "max", "both"]))
            if caps in ("min", "both"):
                group["min"] = low
            if caps in ("max", "both"):
                group["max"] = high
            if draw(st.booleans()):
                group["decay"] = draw(decays().filter(lambda d: d is not None))
            groups.append(group)
        if rules:
            score["rules"] = rules
        if groups:
            score["groups"] = groups
        if draw(st.booleans()):
            score["max"] = draw(st.sampled_from([5, 40.5, 100]))
        if draw(st.booleans()):
            score["min"] = draw(st.sampled_from([-50, -5, 0]))
        score["thresholds"] = draw(thresholds(score_name[0]))
        scores[score_name] = score
    total: dict[str, Any] = {"sum": ["one", "two"],
                             "thresholds": draw(thresholds("t", stages=True))}
    if draw(st.booleans()):
        total["max"] = 60
    scores["total"] = total
    model: dict[str, Any] = {
        "version": 1, "name": "generated",
        "properties": {name: ({"type": kind, "values": ENUM_OPTIONS} if kind == "enum"
                              else {"type": kind}) for name, kind in PROPERTIES.items()},
        "event_types": {"act": {"attributes": ACT_ATTRIBUTES}, "free": {}},
        "scores": scores,
        "grade": {"rows": "one", "columns": "two",
                  "labels": {f"o{0}t{0}": "hot", "olowt0": "cold"}},
    }
    if draw(st.booleans()):
        model["exclude_events"] = [{**item, "name": f"x{i}"} for i, item in enumerate(
            draw(st.lists(exclusion(), min_size=1, max_size=2)))]
    lifecycle: dict[str, Any] = {}
    labels = {name: [t["label"] for t in score["thresholds"]] for name, score in scores.items()}
    if draw(st.booleans()):
        lifecycle["exclude"] = draw(st.lists(st.one_of(property_criterion(),
                                                       score_condition(labels)),
                                             min_size=1, max_size=2))
    if draw(st.booleans()):
        lifecycle["qualify"] = {stage: draw(stage_criteria(labels)) for stage in draw(
            st.lists(st.sampled_from(["mql", "sql", "opportunity"]), min_size=1, max_size=2,
                     unique=True))}
    if lifecycle:
        model["lifecycle"] = lifecycle
    return yaml.safe_dump(model, allow_unicode=True, sort_keys=False)


@st.composite
def exclusion(draw) -> dict[str, Any]:
    """An `exclude_events` rule: for some event types or all, one or two attribute filters
    (compared as the types in scope declare them, else as text)."""
    types = draw(st.one_of(st.none(), st.lists(st.sampled_from(EVENT_TYPES), min_size=1,
                                               max_size=2, unique=True)))
    declared = {"label": "string", "size": "number", "url": "string", "source": "string"}
    if types == ["page_view"]:
        declared = {"url": "string"}
    elif types == ["visit"]:
        declared = {"source": "string"}
    out: dict[str, Any] = {"name": "x"}  # named by its place (`model_texts`)
    if types is not None:
        out["event"] = types
    names = draw(st.lists(st.sampled_from(sorted(declared)), min_size=1, max_size=2,
                          unique=True))
    out["where"] = {name: draw(value_test(declared[name], attribute=True)) for name in names}
    return out


@st.composite
def score_condition(draw, labels: dict[str, list[str]]) -> dict[str, Any]:
    """A condition on a computed score: its value, its label(s), a label range
    (`label: {at_least: …}` / `{at_most: …}`), or whether it is scored (`is_known` /
    `is_unknown`) — what stage rules and lists combine."""
    name = draw(st.sampled_from(sorted(labels)))
    form = draw(st.sampled_from(["value", "label", "labels", "at_least", "at_most", "known"]))
    if form == "known":  # scored / unscored: the flag every engine computes
        return {"score": name, draw(st.sampled_from(["is_known", "is_unknown"])):
                draw(st.booleans())}
    if form == "value":
        op = draw(st.sampled_from(["at_least", "greater_than", "at_most", "equals"]))
        return {"score": name, op: draw(st.sampled_from([-10, 0, 2.5, 5, 10.01, 20, 35]))}
    label = draw(st.sampled_from(labels[name]))
    if form == "label":
        return {"score": name, "label": label}
    if form == "labels":
        return {"score": name, "label": draw(st.lists(st.sampled_from(labels[name]),
                                                      min_size=1, max_size=2, unique=True))}
    return {"score": name, "label": {form: label}}


def stage_criteria(labels: dict[str, list[str]]) -> st.SearchStrategy[dict[str, Any]]:
    """A stage rule's criterion: criteria of the contact's data and conditions on its scores,
    alone or combined (`all` of a fit label and an engagement label, say)."""
    scored = score_condition(labels)
    return st.one_of(
        criteria(1), scored,
        st.lists(st.one_of(scored, criteria(0)), min_size=2, max_size=3).map(
            lambda items: {"all": items}),
        st.lists(st.one_of(scored, criteria(0)), min_size=2, max_size=3).map(
            lambda items: {"any": items}),
        scored.map(lambda item: {"not": item}))


@st.composite
def list_texts(draw) -> str:
    """A lists file for a generated model: score (value, scored) and label conditions, `list:`
    conditions,
    property and event filters, exclusions."""
    lists = []
    for i in range(draw(st.integers(1, 3))):
        group_options = [
            st.just({"score": "total", "label": "t0"}),
            st.sampled_from(["at_least", "at_most"]).map(
                lambda op: {"score": "total", "label": {op: "t0"}}),
            st.sampled_from(NUMBERS).map(lambda v: {"score": "one", "at_least": v}),
            st.sampled_from(["one", "two", "total"]).map(
                lambda name: {"score": name, "is_unknown": True}),
            property_criterion(), event_criterion()]
        if i > 0:
            group_options.append(st.just({"list": f"l{i - 1}"}))
        groups = draw(st.lists(st.lists(st.one_of(*group_options), min_size=1, max_size=2),
                               min_size=1, max_size=2))
        item: dict[str, Any] = {"name": f"l{i}", "groups": groups}
        if draw(st.booleans()):
            item["exclude"] = draw(st.lists(st.one_of(property_criterion(),
                                                      event_criterion()), min_size=1,
                                            max_size=2))
        lists.append(item)
    return yaml.safe_dump({"version": 1, "lists": lists}, allow_unicode=True, sort_keys=False)


# --- histories -----------------------------------------------------------------------------------

@st.composite
def attributes(draw, kind: str) -> dict[str, Any]:
    names = {"act": ACT_ATTRIBUTES, "page_view": {"url": "string"},
             "visit": {"source": "string"},
             "free": {"label": "string", "size": "number"}}[kind]
    out = {}
    for name in draw(st.lists(st.sampled_from(sorted(names)), max_size=len(names), unique=True)):
        out[name] = draw(raw_values(names[name]))
    return out


@st.composite
def histories(draw, max_contacts: int = 5) -> History:
    history = History()
    for i in range(draw(st.integers(1, max_contacts))):
        cid = f"c{i}"
        created = AS_OF_US - draw(st.one_of(st.just(0), st.just(-1),
                                            st.integers(0, 60 * DAY_US)))
        history.contacts.append((cid, created))
        seq = 0
        names = sorted(PROPERTIES) + ["created_at", "job_title", "employees"]
        for name in draw(st.lists(st.sampled_from(names), max_size=5)):
            kind = PROPERTIES.get(name) or {"created_at": "date", "job_title": "string",
                                            "employees": "number"}[name]
            value = draw(st.one_of(st.none(), raw_values(kind)))
            seq += 1
            history.changes.append((cid, name, draw(moments()), seq, value))
        for _ in range(draw(st.integers(0, 8))):
            kind = draw(st.sampled_from(EVENT_TYPES + ["deal_won", "opportunity_created"]))
            attrs = draw(attributes(kind)) if kind in EVENT_TYPES else {}
            history.events.append((cid, kind, draw(moments()), attrs))
        for _ in range(draw(st.integers(0, 4))):
            history.ledger.append(draw(ledger_entries(cid, len(history.ledger) + 1)))
    return history


@st.composite
def ledger_entries(draw, contact_id: str, entry_id: int) -> LedgerEntry:
    """A score ledger entry: set-to or change-by, of a score of the generated models (or of
    none), effective before, at or after the moment of scoring, with or without an expiry
    (on the moment, before it, after it), sometimes voided."""
    effective = draw(moments())
    expires = draw(st.one_of(st.none(), st.sampled_from([AS_OF_US, AS_OF_US + 1]),
                             ages().map(lambda age: effective + abs(age) + 1)))
    cents = draw(st.one_of(st.integers(-20_000, 20_000), st.sampled_from([0, 1, -1, 6_500])))
    return LedgerEntry(entry_id, contact_id, draw(st.sampled_from(["one", "two", "total",
                                                                   "gone"])),
                       draw(st.sampled_from(["set", "change"])), cents, effective, expires,
                       voided_us=draw(st.sampled_from([None, None, None, AS_OF_US])))
