"""Candidate inputs of a suggested scorecard: properties and event aggregates, with the exact
criterion each one becomes in a model file.

A *characteristic* is one input: a property's value (a number, or a category), or a count of
events — of a type, of a type with an attribute value (`form_id` is `demo-request`), on a
section of the site (`url` under `/pricing`), ever or in the last 30 days. Event counts are
computed by the evaluator's own matchers on criteria parsed from model-file text, so the
points a suggested model gives are exactly the points the fit assumed. Property values are
read the way the store reads them for a model that declares their type.
"""

from __future__ import annotations

import builtins
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import numpy as np

from leadscore.catalog import (
    STANDARD_EVENT_TYPES,
    STANDARD_PROPERTIES,
    Catalog,
    CoercionError,
    PropertyDef,
    PropertyType,
    coerce_value,
)
from leadscore.evaluation import ContactSnapshot
from leadscore.evaluation.matchers import compile_criterion
from leadscore.model import parse_model
from leadscore.storage.declared import load_declared_types

__all__ = ["CATEGORICAL", "COUNT", "NUMERIC", "Characteristic", "Inputs", "build_inputs",
           "load_declared_types", "property_characteristic", "with_declared_types"]

NUMERIC, CATEGORICAL, COUNT = "numeric", "categorical", "count"
DEFAULT_EXCLUDED = frozenset({"email", "first_name", "last_name", "company", "created_at",
                              "lifecycle_stage", "sales_feedback", "owner", "referrer_url"})
MAX_VALUES_PER_ATTRIBUTE = 12
MIN_COVERAGE = 0.01  # an event type, value or section must concern ≥ 1 % of contacts
RECENT = "30d"
_URL_ATTRIBUTES = frozenset({"url", "referrer"})


@dataclass
class Characteristic:
    """One input: its values per contact and how a model file writes it."""

    key: str  # unique: "property:occupation", "event:visit", "event:page_view:url=/pricing"
    name: str  # a readable name, used for rule names
    kind: str  # numeric | categorical | count
    values: np.ndarray  # float (nan = unknown) or object (a casefolded text, None = unknown)
    property: str | None = None
    property_type: PropertyType | None = None
    when: str | None = None  # event counts: the criterion as flow YAML
    source: str = "property"  # property | event

    @builtins.property
    def event_type(self) -> str | None:
        return self.key.split(":")[1] if self.source == "event" else None


@dataclass
class Inputs:
    characteristics: list[Characteristic]
    skipped: dict[str, str] = field(default_factory=dict)  # input → why it was left out
    declared: dict[str, PropertyType] = field(default_factory=dict)  # custom property types
    custom_events: set[str] = field(default_factory=set)


def with_declared_types(catalog: Catalog, declared: dict[str, PropertyType]) -> Catalog:
    """The catalog plus the types the imports' mappings declared (the model's own and the
    standard properties keep theirs)."""
    extra = {name: PropertyDef(name, kind) for name, kind in declared.items()
             if catalog.property(name) is None}
    if not extra:
        return catalog
    own = {name: d for name, d in catalog.properties.items() if name not in STANDARD_PROPERTIES}
    return Catalog({**own, **extra}, {name: d for name, d in catalog.event_types.items()
                                      if name not in STANDARD_EVENT_TYPES})


def build_inputs(snapshots: Sequence[ContactSnapshot], catalog: Catalog, *,
                 exclude: Sequence[str] = (), include: Sequence[str] | None = None,
                 events: bool = True) -> Inputs:
    """Every candidate characteristic of `snapshots` (properties, then event aggregates)."""
    skipped: dict[str, str] = {}
    characteristics: list[Characteristic] = []
    declared: dict[str, PropertyType] = {}
    names: Counter[str] = Counter()
    for snap in snapshots:
        names.update(snap.properties.keys())
    excluded = set(exclude) | (set() if include else set(DEFAULT_EXCLUDED))
    for name in sorted(names):
        if include is not None and name not in include:
            continue
        if name in excluded:
            skipped[name] = "excluded"
            continue
        found = _property(name, snapshots, catalog)
        if isinstance(found, str):
            skipped[name] = found
            continue
        characteristics.append(found)
        if name not in STANDARD_PROPERTIES and found.property_type is not None:
            declared[name] = found.property_type
    custom: set[str] = set()
    if events and include is None:
        characteristics.extend(_event_characteristics(snapshots, catalog, skipped, custom))
    return Inputs(characteristics, skipped, declared, custom)


def _property(name: str, snapshots: Sequence[ContactSnapshot],
              catalog: Catalog) -> Characteristic | str:
    return property_characteristic(name, [snap.properties.get(name) for snap in snapshots],
                                   catalog)


def property_characteristic(name: str, raw: Sequence[Any],
                            catalog: Catalog) -> Characteristic | str:
    """A property as an input, from its value per contact; a text saying why not otherwise."""
    definition = catalog.property(name)
    known = [v for v in raw if v is not None]
    if not known:
        return "never known"
    kind = definition.type if definition is not None else _infer_type(known)
    if kind is PropertyType.DATE:
        return "a date"
    if kind is PropertyType.NUMBER:
        values = np.full(len(raw), np.nan)
        for i, value in enumerate(raw):
            number = _as(value, PropertyType.NUMBER)
            if isinstance(number, int | float) and not isinstance(number, bool):
                values[i] = float(number)
        if len(np.unique(values[~np.isnan(values)])) < 2 and not np.isnan(values).any():
            return "the same value for every contact"
        return Characteristic(f"property:{name}", name, NUMERIC, values, name, kind)
    texts = np.empty(len(raw), dtype=object)
    for i, value in enumerate(raw):
        typed = _as(value, kind)
        texts[i] = None if typed is None else _text(typed)
    distinct = {t for t in texts if t is not None}
    known_count = sum(1 for t in texts if t is not None)
    if len(distinct) < 2 and known_count == len(texts):
        return "the same value for every contact"
    if len(distinct) > 50 and len(distinct) > 0.5 * known_count:
        return f"an identifier-like text ({len(distinct):,} distinct values)"
    return Characteristic(f"property:{name}", name, CATEGORICAL, texts, name, kind)


def _infer_type(known: list[Any]) -> PropertyType:
    if all(isinstance(v, bool) for v in known):
        return PropertyType.BOOL
    numbers = sum(1 for v in known if _as(v, PropertyType.NUMBER) is not None)
    return PropertyType.NUMBER if numbers >= 0.98 * len(known) else PropertyType.STRING


def _as(value: Any, kind: PropertyType) -> Any:
    """A value as the store reads it for a property of type `kind` (None if it does not fit)."""
    if value is None or isinstance(value, dict | list):
        return None
    try:
        return coerce_value(value, kind)
    except CoercionError:
        return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).casefold()


# -- events --------------------------------------------------------------------------------

def _event_characteristics(snapshots: Sequence[ContactSnapshot], catalog: Catalog,
                           skipped: dict[str, str], custom: set[str]) -> list[Characteristic]:
    n = len(snapshots)
    contacts_with: Counter[str] = Counter()
    value_cover: dict[tuple[str, str], Counter[str]] = {}
    distinct: dict[tuple[str, str], set[str]] = {}
    for snap in snapshots:
        contacts_with.update(snap.events.keys())
        for kind, series in snap.events.items():
            seen: set[tuple[str, str]] = set()
            for attributes in series.attributes:
                for attribute, shown in attribute_tokens(attributes):
                    bucket = distinct.setdefault((kind, attribute), set())
                    if len(bucket) <= 200:
                        bucket.add(shown)
                    seen.add((attribute, shown))
            for attribute, shown in seen:
                value_cover.setdefault((kind, attribute), Counter())[shown] += 1
    specs = event_specs(n, contacts_with, value_cover, distinct, catalog, skipped, custom)
    if not specs:
        return []
    return event_characteristics(specs, _count_events(snapshots, specs, custom))


def event_characteristics(specs: list[Any], counts: list[Any]) -> list[Characteristic]:
    """The event-count inputs of `specs` (key, label, criterion text) from their counts per
    contact, leaving out those no contact has."""
    return [Characteristic(spec_key, label, COUNT, values, when=when, source="event")
            for (spec_key, label, when), values in zip(specs, counts, strict=True)
            if values.any()]


def event_specs(n: int, contacts_with: Counter[str],
                value_cover: dict[tuple[str, str], Counter[str]],
                distinct: dict[tuple[str, str], set[str]], catalog: Catalog,
                skipped: dict[str, str], custom: set[str]) -> list[tuple[str, str, str]]:
    """The event inputs worth counting, as (key, name, criterion) — from how many of the `n`
    contacts have each event type, each (type, attribute) value or site section
    (`value_cover`), and the distinct values seen per (type, attribute). A value's ties in
    coverage are broken by the value itself, so the choice never depends on reading order."""
    specs: list[tuple[str, str, str]] = []  # (key, name, when)
    for kind in sorted(contacts_with):
        if contacts_with[kind] < MIN_COVERAGE * n:
            skipped[f"event {kind}"] = "too rare"
            continue
        if kind not in STANDARD_EVENT_TYPES and kind not in catalog.event_types:
            custom.add(kind)
        specs.append((f"event:{kind}", f"{kind} (count)", _flow({"event": kind})))
        specs.append((f"event:{kind}:{RECENT}", f"{kind} in the last {RECENT} (count)",
                      _flow({"event": kind, "within_last": RECENT})))
        for (owner, attribute), cover in sorted(value_cover.items()):
            if owner != kind or not _filterable(catalog, kind, attribute, custom):
                continue
            if attribute not in _URL_ATTRIBUTES and len(distinct[(owner, attribute)]) > 50:
                continue
            ranked = sorted(cover.items(), key=lambda vc: (-vc[1], vc[0]))
            common = [v for v, c in ranked[:MAX_VALUES_PER_ATTRIBUTE]
                      if c >= MIN_COVERAGE * n]
            for value in common:
                if attribute in _URL_ATTRIBUTES:
                    test: dict[str, Any] = {"matches": [f"*/{value}", f"*/{value}/*",
                                                        f"*/{value}?*"]}
                    label = f"{kind} on /{value} (count)"
                else:
                    test = {"any_of": [value]}
                    label = f"{kind} with {attribute} {value} (count)"
                specs.append((f"event:{kind}:{attribute}={value}", label,
                              _flow({"event": kind, "where": {attribute: test}})))
    return specs


def attribute_tokens(attributes: Any) -> list[tuple[str, str]]:
    """(attribute, value shown) of one event's attributes that an input may filter on: text
    values, casefolded, and of a URL its site section."""
    if not isinstance(attributes, dict):
        return []
    found = []
    for attribute, value in attributes.items():
        if not isinstance(value, str) or not value:
            continue
        shown = _section(value) if attribute in _URL_ATTRIBUTES else value.casefold()
        if shown is not None:
            found.append((attribute, shown))
    return found


def _filterable(catalog: Catalog, kind: str, attribute: str, custom: set[str]) -> bool:
    if kind in custom:
        return True
    definition = catalog.event_types.get(kind)
    if definition is None:
        return False
    if definition.open_attributes:
        return True
    return definition.attributes.get(attribute) in (PropertyType.STRING, PropertyType.ENUM)


def _section(url: str) -> str | None:
    """The first path segment of a URL ('https://x.com/pricing/team' → 'pricing')."""
    path = urlparse(url).path if "://" in url else url
    parts = [p for p in path.split("/") if p]
    if not parts:
        return None
    head = parts[0].casefold()
    return head if head.replace("-", "").replace("_", "").isalnum() else None


def _flow(data: dict[str, Any]) -> str:
    """A flow mapping that YAML reads back as `data` (JSON is a subset of YAML)."""
    return json.dumps(data, ensure_ascii=False)


def probe_model_text(whens: Sequence[str], custom_events: set[str]) -> str:
    """A model whose rules are the given criteria, to compile them exactly as a file would."""
    lines = ["version: 1", "name: probe"]
    if custom_events:
        lines.append("event_types:")
        lines.extend(f"  {json.dumps(kind)}: {{}}" for kind in sorted(custom_events))
    lines += ["scores:", "  probe:", "    rules:"]
    for i, when in enumerate(whens):
        lines += [f"      - name: r{i}", f"        when: {when}",
                  "        tiers: [{at_least: 1, points: 1}]"]
    return "\n".join(lines) + "\n"


def _count_events(snapshots: Sequence[ContactSnapshot], specs: list[tuple[str, str, str]],
                  custom: set[str]) -> list[np.ndarray]:
    model = parse_model(probe_model_text([when for _, _, when in specs], custom), "<probe>")
    shared: dict = {}
    matchers = [compile_criterion(rule.criterion, shared)
                for rule in model.scores["probe"].all_rules()]
    counts = [np.zeros(len(snapshots)) for _ in matchers]
    for i, snap in enumerate(snapshots):
        memo: dict = {}
        for j, matcher in enumerate(matchers):
            counts[j][i] = len(matcher.times(snap, memo))
    return counts
