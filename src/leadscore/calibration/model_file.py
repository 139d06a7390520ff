"""A fitted scorecard written down as an ordinary model file: property tiers, `any_of` rules
and event-count tiers, with the neutral level and the trends explained in its header."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from leadscore.calibration.binning import (
    MONOTONE_TOLERANCE,
    VALIDATION_FOLDS,
    Bin,
    Binned,
    number,
)
from leadscore.calibration.features import CATEGORICAL, COUNT, Characteristic, Inputs
from leadscore.calibration.scorecard import Scorecard
from leadscore.catalog import PropertyType


def _q(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _tier(b: Bin, *, count: bool = False) -> str:
    if b.low is not None and b.high is not None:
        bound = (f"exactly: {number(b.low)}" if b.low == b.high
                 else f"between: [{number(b.low)}, {number(b.high)}]")
    elif b.low is not None:
        bound = f"at_least: {number(b.low)}"
    else:
        bound = f"at_most: {number(b.high or 0)}"
        if count:  # the lowest count bin holds the contacts with no such event
            bound += ", include_none: true"
    return f"{{{bound}, points: {b.points}}}"


def category_when(ch: Characteristic, b: Bin) -> str:
    name = ch.property
    written: list[Any] = list(b.values)
    if ch.property_type is PropertyType.BOOL:
        written = [v == "true" for v in b.values]
    parts = []
    if written:
        if len(written) == 1:
            parts.append({"property": name, "equals": written[0]})
        else:
            parts.append({"property": name, "any_of": written})
    if b.unknown:
        parts.append({"property": name, "is_unknown": True})
    return _q(parts[0] if len(parts) == 1 else {"any": parts})


def unique_name(name: str, taken: set[str]) -> str:
    base = name if len(name) <= 80 else name[:79] + "…"
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base} ({n})"
        n += 1
    taken.add(candidate)
    return candidate


def _rules(binned: Sequence[Binned]) -> list[str]:
    lines: list[str] = []
    taken: set[str] = set()
    for b in binned:
        ch = b.characteristic
        if ch.kind == CATEGORICAL:
            for bin_ in b.bins:
                if bin_.points == 0:
                    continue
                name = unique_name(f"{ch.property}: {bin_.label}", taken)
                lines += [f"      - name: {_q(name)}",
                          f"        when: {category_when(ch, bin_)}",
                          f"        points: {bin_.points}"]
            continue
        tiers = [t for t in b.ranges if t.points != 0]
        note = b.trend_note()
        if tiers:
            when = _q({"property": ch.property}) if ch.kind != COUNT else ch.when
            lines += [f"      # {note}"] if note else []
            lines += [f"      - name: {_q(unique_name(ch.name, taken))}", f"        when: {when}",
                      "        tiers:"]
            lines += [f"          - {_tier(t, count=ch.kind == COUNT)}" for t in tiers]
        for unknown in (x for x in b.bins if x.unknown and x.points != 0):
            lines += [f"      - name: {_q(unique_name(f'{ch.name}: unknown', taken))}",
                      f"        when: {_q({'property': ch.property, 'is_unknown': True})}",
                      f"        points: {unknown.points}"]
    return lines


def neutral_note(card: Scorecard) -> list[str]:
    """What the file's header says about the neutral level and the trends."""
    share = f"{card.min_share:.0%}"
    lines = [f"Neutral level (0 points, weight of evidence 0): a category seen in fewer than "
             f"{share} of the training contacts, one never seen, and an unknown value unless "
             f"at least {share} were unknown (then it is a bin of its own); every bin holds at "
             f"least {share} of the training contacts."]
    numeric = [b for b in card.binned if b.characteristic.kind != CATEGORICAL]
    if numeric:
        monotone = [b.characteristic.name for b in numeric if b.trend != "free"]
        free = [b.characteristic.name for b in numeric if b.trend == "free"]
        text = (f"Trends: {len(monotone)} of {len(numeric)} numeric inputs have monotonic "
                f"points (kept wherever it cost at most {MONOTONE_TOLERANCE:g} ROC AUC in a "
                f"{VALIDATION_FOLDS}-fold validation within the training contacts)")
        text += f"; free bins: {', '.join(free)}." if free else "."
        lines.append(text)
    return lines


PAIRS_TEXT = ("Two inputs together: points beyond what their own bins add up to, each rule "
              "kept for the ROC AUC it added on an inner hold-out of the training contacts")


def model_text(card: Scorecard, inputs: Inputs, *, name: str, header: Sequence[str],
               thresholds: tuple[int, int], description: str,
               probability: Sequence[str] = ()) -> str:
    """The scorecard as a model file: fit (properties) + engagement (events) = total."""
    used = [b for b in card.binned if any(x.points for x in b.bins)]
    fit = [b for b in used if b.characteristic.source == "property"]
    engagement = [b for b in used if b.characteristic.source == "event"]
    lines = [f"# {line}" if line else "#" for line in header]
    lines += ["version: 1", f"name: {_q(name)}", f"description: {_q(description)}"]
    paired = [side.binned.characteristic for rule in card.pairs
              for side in (rule.first, rule.second)]
    declared = sorted({ch.property for ch in [*(b.characteristic for b in fit), *paired]
                       if ch.property in inputs.declared})
    if declared:
        lines.append("properties:")
        for prop in declared:
            kind = inputs.declared[prop]
            kind_text = "string" if kind is PropertyType.ENUM else kind.value
            lines.append(f"  {prop}: {{type: {kind_text}}}")
    events_used = sorted({ch.event_type or "" for ch in
                          [*(b.characteristic for b in engagement), *paired]}
                         & inputs.custom_events)
    if events_used:
        lines.append("event_types:")
        lines += [f"  {_q(kind)}: {{}}" for kind in events_used]
    lines.append("scores:")
    parts = []
    for score, group, text in (("fit", fit, "Who they are: properties"),
                               ("engagement", engagement, "What they did: event counts")):
        rules = _rules(group)
        if not rules:
            continue
        parts.append(score)
        lines += [f"  {score}:", f"    description: {_q(text)}", "    rules:", *rules]
    if card.pairs and parts:
        taken: set[str] = set()
        parts.append("pairs")
        lines += ["  pairs:", f"    description: {_q(PAIRS_TEXT)}", "    rules:"]
        for rule in card.pairs:
            lines += rule.rule_lines(taken)
    mql, sql = thresholds
    thresholds_lines = [
        "    thresholds:",
        f"      - {{label: Lead, max: {mql - 1}, stage: lead}}",
        f"      - {{label: MQL, min: {mql}, max: {sql - 1}, stage: mql}}",
        f"      - {{label: SQL, min: {sql}, stage: sql}}",
    ]
    if not parts:
        lines += ["  total:", "    rules:",
                  "      - {name: nothing predicts the outcome, when: {property: created_at, "
                  "is_known: true}, points: 0}", *thresholds_lines]
    else:
        summed = "fit + engagement" + (" + pairs" if card.pairs else "")
        lines += ["  total:", f"    description: {_q(summed)}",
                  f"    sum: [{', '.join(parts)}]", *thresholds_lines, *probability]
    return "\n".join(lines) + "\n"

