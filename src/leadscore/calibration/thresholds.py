"""Thresholds from history: the volume/precision trade-off of every cut of a score, and the
cuts that give a target MQL volume per month or a target SQL precision."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leadscore.calibration.metrics import _r
from leadscore.diagnostics import LeadscoreError, Location

MIN_CONTACTS = 10  # a precision target needs at least this many contacts above the cut


def tradeoff(scores: np.ndarray, labels: np.ndarray, months: float,
             max_points: int = 120) -> list[dict[str, Any]]:
    """For each candidate threshold t (from the highest score down): contacts with score ≥ t,
    per month, precision, recall and lift."""
    if not len(scores):
        return []
    values, inverse = np.unique(scores, return_inverse=True)
    pos = np.bincount(inverse, weights=labels.astype(np.float64), minlength=len(values))
    count = np.bincount(inverse, minlength=len(values)).astype(np.float64)
    selected = np.cumsum(count[::-1])[::-1]  # contacts with score ≥ values[k]
    hits = np.cumsum(pos[::-1])[::-1]
    total_pos = max(float(labels.sum()), 1.0)
    base = float(labels.mean())
    keep = np.arange(len(values))
    if len(values) > max_points:
        keep = np.unique(np.linspace(0, len(values) - 1, max_points).round().astype(int))
    rows = []
    for k in keep[::-1]:
        precision = hits[k] / selected[k]
        rows.append({"threshold": _r(float(values[k])), "contacts": int(selected[k]),
                     "per_month": _r(selected[k] / months), "precision": _r(precision),
                     "recall": _r(hits[k] / total_pos),
                     "lift": _r(precision / base) if base else None})
    return rows


@dataclass
class Recommendation:
    mql: dict[str, Any] | None = None
    sql: dict[str, Any] | None = None
    curve: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def yaml_snippet(self) -> str | None:
        if self.mql is None and self.sql is None:
            return None
        lines = ["thresholds:"]
        mql = self.mql["threshold"] if self.mql else None
        sql = self.sql["threshold"] if self.sql else None
        if mql is not None and sql is not None and sql <= mql:
            mql = None  # the SQL cut already holds the MQL volume
        first = mql if mql is not None else sql
        assert first is not None
        lines.append(f"  - {{label: Lead, max: {_below(first)}, stage: lead}}")
        if mql is not None:
            upper = f", max: {_below(sql)}" if sql is not None else ""
            lines.append(f"  - {{label: MQL, min: {mql:g}{upper}, stage: mql}}")
        if sql is not None:
            lines.append(f"  - {{label: SQL, min: {sql:g}, stage: sql}}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"mql": self.mql, "sql": self.sql, "curve": self.curve,
                "yaml": self.yaml_snippet(), "notes": self.notes}


def _below(value: float) -> str:
    return f"{round(value - 0.01, 2):g}"


def recommend(scores: np.ndarray, labels: np.ndarray, months: float, *,
              mql_per_month: float | None = None,
              sql_precision: float | None = None) -> Recommendation:
    if mql_per_month is None and sql_precision is None:
        raise LeadscoreError.single(
            "LS413", "say what the thresholds should achieve",
            Location(field="--mql-per-month"),
            hint="pass --mql-per-month N (MQLs you can handle a month) and/or "
                 "--sql-precision P (share of SQLs that should convert, e.g. 0.4)")
    if sql_precision is not None and not 0 < sql_precision <= 1:
        raise LeadscoreError.single("LS413", f"--sql-precision {sql_precision:g} is not a share",
                                    Location(field="--sql-precision"),
                                    hint="write a number between 0 and 1, e.g. 0.4")
    curve = tradeoff(scores, labels, months, max_points=10_000)
    result = Recommendation(curve=tradeoff(scores, labels, months))
    if mql_per_month is not None:
        fitting = [row for row in curve if row["per_month"] is not None
                   and row["per_month"] <= mql_per_month]
        if fitting:
            result.mql = fitting[-1]
        else:
            result.notes.append(f"even the highest score gives more than {mql_per_month:g} "
                                "MQLs a month (many contacts share it)")
    if sql_precision is not None:
        reaching = [row for row in curve if row["contacts"] >= MIN_CONTACTS
                    and row["precision"] is not None and row["precision"] >= sql_precision]
        if reaching:
            result.sql = reaching[-1]
        else:
            best = max((row for row in curve if row["contacts"] >= MIN_CONTACTS),
                       key=lambda row: row["precision"] or 0, default=None)
            shown = (f"; the best is {best['precision']:.0%} at {best['threshold']:g}"
                     if best else "")
            result.notes.append(f"no threshold with at least {MIN_CONTACTS} contacts reaches "
                                f"a precision of {sql_precision:.0%}{shown}")
    return result
