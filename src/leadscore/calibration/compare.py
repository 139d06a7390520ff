"""Two models on the same history: the same metrics side by side, the AUC difference with a
paired bootstrap interval, and the contacts that change stage between the two."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from leadscore.calibration import metrics
from leadscore.calibration.backtest import BacktestResult, ScoredCases, summarize

RANK = {"sql": 3, "mql": 2, "lead": 1, "subscriber": 0}


@dataclass
class StageMove:
    contact_id: str
    stage_a: str | None
    stage_b: str | None
    score_a: float
    score_b: float
    converted: bool

    def to_dict(self) -> dict[str, Any]:
        return {"contact_id": self.contact_id, "stage_a": self.stage_a,
                "stage_b": self.stage_b, "score_a": self.score_a, "score_b": self.score_b,
                "converted": self.converted}


@dataclass
class Comparison:
    a: BacktestResult
    b: BacktestResult
    auc_difference: float
    difference_interval: metrics.Interval | None
    moves: Counter[tuple[str, str]]  # (stage under A, stage under B) → contacts
    move_conversion: dict[str, dict[str, Any]]  # "up" / "down" → contacts, converted, rate
    examples: list[StageMove] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a.to_dict(), "b": self.b.to_dict(),
            "roc_auc_difference": metrics._r(self.auc_difference),
            "roc_auc_difference_interval": (self.difference_interval.to_dict()
                                            if self.difference_interval else None),
            "stage_changes": [{"from": f, "to": t, "contacts": n}
                              for (f, t), n in sorted(self.moves.items())],
            "stage_change_conversion": self.move_conversion,
            "contacts_changing_stage": [m.to_dict() for m in self.examples],
        }


def compare_scored(scored: ScoredCases, *, population: str, excluded: dict[str, int],
                   replicates: int = 1000, seed: int = 0, examples: int = 50) -> Comparison:
    """Compare model 0 (A) and model 1 (B) of `scored`, scored on the same cases."""
    labels = scored.labels
    ma, mb = scored.models
    intervals, difference = metrics.bootstrap_auc([ma.scores, mb.scores], labels,
                                                  replicates=replicates, seed=seed)
    a = summarize(scored, 0, population=population, excluded=excluded, interval=intervals[0])
    b = summarize(scored, 1, population=population, excluded=excluded, interval=intervals[1])
    moves: Counter[tuple[str, str]] = Counter()
    up = down = up_hits = down_hits = 0
    changed: list[StageMove] = []
    for i, (sa, sb) in enumerate(zip(ma.stages, mb.stages, strict=True)):
        if sa == sb:
            continue
        moves[(sa or "—", sb or "—")] += 1
        hit = bool(labels[i])
        if RANK.get(sb or "", -1) > RANK.get(sa or "", -1):
            up += 1
            up_hits += hit
        else:
            down += 1
            down_hits += hit
        changed.append(StageMove(scored.ids[i], sa, sb, float(ma.scores[i]),
                                 float(mb.scores[i]), hit))
    changed.sort(key=lambda m: (-abs(RANK.get(m.stage_b or "", -1)
                                     - RANK.get(m.stage_a or "", -1)), m.contact_id))
    conversion = {
        "up": {"contacts": up, "converted": up_hits,
               "conversion_rate": metrics._r(up_hits / up) if up else None},
        "down": {"contacts": down, "converted": down_hits,
                 "conversion_rate": metrics._r(down_hits / down) if down else None},
    }
    return Comparison(a, b, b.auc - a.auc, difference, moves, conversion, changed[:examples])
