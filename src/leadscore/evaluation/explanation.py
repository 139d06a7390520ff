"""Why a contact has its scores: every rule, whether it matched, why, its points, the decay and
each cap that applied, and each score ledger entry that counts — as of any moment, under any
model (a draft included)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadscore.evaluation.arithmetic import round2, round6
from leadscore.evaluation.ledger import LedgerEntry
from leadscore.evaluation.matchers import INF, Reason
from leadscore.evaluation.scoring import ContactScores, RuleResult, Scorer, ScoreResult
from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.model.model import Model, percent


@dataclass
class Explanation:
    model: Model
    contact_id: str
    as_of: datetime
    result: ContactScores
    email: str | None = None
    stage: str | None = None  # the contact's current lifecycle stage, when known
    # the stage the lifecycle rules give (`lifecycle.StageRules.target`) and why
    qualifies_for: str | None = None
    qualifies_because: str | None = None
    qualifies_why: Reason | None = None  # the stage criterion's conditions, each with its verdict
    # the events the model's `exclude_events` leave out: (type, time, the exclusion's name)
    excluded: list[tuple[str, float, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "email": self.email,
            "as_of": self.as_of.isoformat(),
            "model": self.model.name,
            "model_version": self.model.published,  # None: the model file, never published
            "grade": self.result.grade,
            "grade_label": self.result.grade_label,
            "qualifies_for_stage": self.qualifies_for,
            "qualifies_because": self.qualifies_because,
            "qualifies_why": self.qualifies_why.to_dict() if self.qualifies_why else None,
            "excluded_events": [{"type": kind, "occurred_at": _iso(at), "excluded_by": name}
                                for kind, at, name in self.excluded],
            "stage": self.stage,
            "scores": {name: _score_dict(s) for name, s in self.result.scores.items()},
        }

    def top_reasons(self, score: str | None = None, n: int = 3) -> list[tuple[str, float]]:
        """The rules that gave the most points (by absolute value), as (rule name, points)."""
        names = [score] if score else [s for s in self.result.scores]
        items = [(r.rule.name, r.final) for name in names
                 for r in self.result.scores[name].all_rules() if r.matched and r.final]
        return sorted(items, key=lambda pair: -abs(pair[1]))[:n]

    def render_text(self, *, only_matched: bool = False) -> str:
        lines = [f"Contact {self.contact_id}" + (f" <{self.email}>" if self.email else "")
                 + f" — model {self.model.name}"
                 + (f" version {self.model.published}" if self.model.published else "")
                 + f", as of {self.as_of:%Y-%m-%d %H:%M} UTC"]
        summary = ", ".join(
            f"{name} {_shown(s)}" + (f" ({s.label})" if s.label else "")
            for name, s in self.result.scores.items())
        lines.append(f"  {summary}")
        for name, s in self.result.scores.items():
            if s.score.probability is not None:
                lines.append(f"  {name}: {s.score.probability.describe()} "
                             f"{percent(s.score.probability.of(s.value))}")
        extra = []
        if self.result.grade:
            grade = self.result.grade + (f" ({self.result.grade_label})"
                                         if self.result.grade_label else "")
            extra.append(f"grade {grade}")
        if self.qualifies_for:
            extra.append(f"qualifies for stage {self.qualifies_for}")
        if self.stage:
            extra.append(f"current stage {self.stage}")
        if extra:
            lines.append("  " + ", ".join(extra))
        if self.qualifies_why is not None:
            lines.extend(_render_reason(self.qualifies_why, "    "))
        for name, score in self.result.scores.items():
            lines.append("")
            lines.extend(_render_score(name, score, self.result.as_of, only_matched))
        if self.excluded:
            lines.append("")
            lines.append(f"excluded events ({len(self.excluded)}), seen by no rule:")
            lines.extend(f"  {_iso(at)[:16].replace('T', ' ')}  {kind} — {name}"
                         for kind, at, name in self.excluded[:SHOWN_EXCLUDED])
            if len(self.excluded) > SHOWN_EXCLUDED:
                lines.append(f"  … and {len(self.excluded) - SHOWN_EXCLUDED} more "
                             "(--format json lists them all)")
        return "\n".join(lines)


SHOWN_EXCLUDED = 20  # excluded events listed in the text form


def excluded_events(model: Model, snapshot: ContactSnapshot) -> list[tuple[str, float, str]]:
    """The snapshot's events that the model's exclusions leave out, oldest first, each with
    the first exclusion (in the file's order) that holds for it."""
    from leadscore.evaluation.matchers import exclusion_check

    if not model.exclusions:
        return []
    checks = [(e, exclusion_check(e)) for e in model.exclusions]
    found = []
    for kind, series in snapshot.events.items():
        applying = [(e.name, check) for e, check in checks if e.applies_to(kind)]
        for at, attributes in zip(series.times, series.attributes, strict=True):
            name = next((n for n, check in applying if check(attributes, snapshot.as_of_us)),
                        None)
            if name is not None:
                found.append((kind, at, name))
    return sorted(found, key=lambda item: (item[1], item[0]))


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).isoformat().replace("+00:00", "Z")


def explain_snapshot(model: Model, snapshot: ContactSnapshot, *, scorer: Scorer | None = None,
                     email: str | None = None, stage: str | None = None) -> Explanation:
    from leadscore.lifecycle.rules import CRITERIA, StageRules

    scorer = scorer or Scorer(model)
    result = scorer.score(snapshot, explain=True)
    rules = StageRules(model)
    target = rules.target(snapshot, result)
    why = (rules.why(snapshot, result, target.stage)
           if target is not None and target.reason == CRITERIA else None)
    return Explanation(model, snapshot.contact_id, snapshot.as_of_datetime(), result, email,
                       stage, target.stage if target else None,
                       target.cause if target else None, why,
                       excluded_events(model, snapshot))


UNSCORED = "unscored"  # shown instead of the value 0 of a score no rule gave a value


def _shown(score: ScoreResult) -> str:
    """The value as text: "unscored" when no rule applied and no ledger entry applies."""
    return f"{score.value:g}" if score.scored else UNSCORED


def _render_score(name: str, score: ScoreResult, as_of: float, only_matched: bool) -> list[str]:
    head = f"{name}: {_shown(score)}"
    if not score.scored:
        head += f" (no rule applied; counts as {score.value:g})"
    if score.label:
        head += f"  [{score.label} {score.threshold.describe()}]"  # type: ignore[union-attr]
    calibration = score.score.probability
    if calibration is not None:
        head += f"  — {calibration.describe()}: {percent(calibration.of(score.value))}"
    lines = [head]
    if score.parts:
        lines.append("  = " + " + ".join(f"{part} {value:g}" for part, value in
                                         score.parts.items()))
    for rule in score.rules:
        if rule.matched or not only_matched:
            lines.extend(_render_rule(rule, as_of, "  "))
    for group in score.groups:
        cap = ""
        if group.capped:
            bound = group.group.max if group.total > group.final else group.group.min
            cap = f" — capped at {bound:g} (rules add up to {_num(group.total)})"
        lines.append(f"  group {group.group.name}: {_num(group.final)}{cap}")
        for rule in group.rules:
            if rule.matched or not only_matched:
                lines.extend(_render_rule(rule, as_of, "    "))
    before = score.value if score.model_value is None else score.model_value
    if round2(score.total) != before:
        bound = score.score.max if score.total > before else score.score.min
        lines.append(f"  score capped at {bound:g} (adds up to {_num(score.total)})")
    if score.model_value is not None:
        lines.append(f"  score ledger: {score.model_value:g} from the model → {score.value:g}")
        lines.extend(f"    #{e.id} {_entry_text(e)}" for e in score.ledger)
    return lines


def _entry_text(entry: LedgerEntry) -> str:
    when = datetime.fromtimestamp(entry.effective_us / 1e6, tz=UTC)
    text = f"{entry.describe()} ({entry.reason}) since {when:%Y-%m-%d %H:%M}"
    if entry.expires_us is not None:
        text += f", until {datetime.fromtimestamp(entry.expires_us / 1e6, tz=UTC):%Y-%m-%d %H:%M}"
    if entry.author:
        text += f", by {entry.author}"
    if entry.note:
        text += f": {entry.note}"
    return text


def _render_rule(rule: RuleResult, as_of: float, indent: str) -> list[str]:
    mark = "✓" if rule.matched else "✗"
    points = f"{round2(rule.final):+g}" if rule.matched else "0"
    detail = []
    decayed = rule.points + rule.dropped  # the daily limit comes after decay
    if rule.matched and rule.base and abs(decayed - rule.base) > 1e-9:
        age = ""
        if rule.evidence is not None and rule.evidence != INF and not rule.rule.per_event:
            age = f", event {(as_of - rule.evidence) / 86400:.0f}d old"
        detail.append(f"decayed from {rule.base:+g} ×{rule.decay_factor:.2f}{age}")
    if rule.matched and rule.dropped:
        detail.append(f"{round6(rule.dropped):g} dropped by the limit of "
                      f"{rule.rule.max_per_day:g} a day")
    if rule.matched and rule.capped:
        bound = rule.rule.max if rule.points > rule.final else rule.rule.min
        detail.append(f"capped at {bound:g} from {round2(rule.points):+g}")
    suffix = f"  ({'; '.join(detail)})" if detail else ""
    lines = [f"{indent}{mark} {points:>6}  {rule.rule.name}{suffix}"]
    if rule.reason is not None:
        lines.extend(_render_reason(rule.reason, indent + "           "))
    return lines


def _num(value: float) -> str:
    return f"{round2(value):g}"


def _render_reason(reason: Reason, indent: str) -> list[str]:
    lines = [f"{indent}{reason.text}"]
    for child in reason.children:
        mark = "✓" if child.matched else "✗"
        sub = _render_reason(child, indent + "  ")
        sub[0] = f"{indent}  {mark} {child.text}"
        lines.extend(sub)
    return lines


def _score_dict(score: ScoreResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "value": score.value,
        "scored": score.scored,  # False: no rule applied, no ledger entry (value 0)
        "label": score.label,
        "uncapped": round6(score.total),
        "threshold": score.threshold.describe() if score.threshold else None,
    }
    calibration = score.score.probability
    if calibration is not None:
        out["probability"] = round6(calibration.of(score.value))
        out["probability_within_days"] = (round6(calibration.within / 86400)
                                          if calibration.within is not None else None)
    if score.parts:
        out["parts"] = score.parts
    if score.model_value is not None:
        out["model_value"] = score.model_value
    out["ledger"] = [e.to_dict() for e in score.ledger]
    out["rules"] = [_rule_dict(r, None) for r in score.rules]
    out["groups"] = [
        {"name": g.group.name, "points": g.final, "uncapped": round6(g.total),
         "max": g.group.max, "min": g.group.min, "capped": g.capped,
         "rules": [_rule_dict(r, g.group.name) for r in g.rules]}
        for g in score.groups
    ]
    return out


def _rule_dict(rule: RuleResult, group: str | None) -> dict[str, Any]:
    evidence = None
    if rule.evidence is not None and rule.evidence != INF:
        evidence = datetime.fromtimestamp(rule.evidence, tz=UTC).isoformat()
    return {
        "rule": rule.rule.name,
        "group": group,
        "matched": rule.matched,
        "points": rule.final,
        "base_points": rule.base,
        "decayed_points": rule.points + rule.dropped,  # before the daily limit
        "decay_factor": round(rule.decay_factor, 4),
        "dropped_by_daily_limit": rule.dropped,
        "capped": rule.capped,
        "tier": rule.tier.describe() if rule.tier else None,
        "count": rule.count,
        "evidence_at": evidence,
        "why": rule.reason.to_dict() if rule.reason else None,
    }
