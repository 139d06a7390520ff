"""Thresholds from history: the volume/precision trade-off of every cut of a score, and the
cuts that give a target MQL or SQL volume per month or a target SQL precision.

Under drift the volume of the whole history is not the volume to come: with `recent`, the
volume per month of each cut is counted on the most recent contacts only (their scores, not
their outcomes), while precision and recall stay those of the whole history, where the
outcomes are settled."""

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


def per_month_on(rows: list[dict[str, Any]], recent: np.ndarray, months: float
                 ) -> list[dict[str, Any]]:
    """The rows with `per_month` counted on the scores `recent` (over `months` months)."""
    ordered = np.sort(np.asarray(recent, dtype=np.float64))
    out = []
    for row in rows:
        above = len(ordered) - int(np.searchsorted(ordered, row["threshold"], side="left"))
        out.append({**row, "per_month": _r(above / months), "recent_contacts": above})
    return out


def _volume_cut(curve: list[dict[str, Any]], per_month: float) -> dict[str, Any] | None:
    """The lowest threshold whose volume per month stays within `per_month`."""
    fitting = [row for row in curve if row["per_month"] is not None
               and row["per_month"] <= per_month]
    return fitting[-1] if fitting else None


def recommend(scores: np.ndarray, labels: np.ndarray, months: float, *,
              mql_per_month: float | None = None,
              sql_precision: float | None = None, sql_per_month: float | None = None,
              recent: np.ndarray | None = None, recent_months: float = 1.0
              ) -> Recommendation:
    """Thresholds for the targets; `recent` (scores) and `recent_months`: count the volume
    per month on these contacts instead of on all of `scores`."""
    if mql_per_month is None and sql_precision is None and sql_per_month is None:
        raise LeadscoreError.single(
            "LS413", "say what the thresholds should achieve",
            Location(field="--mql-per-month"),
            hint="pass --mql-per-month N (MQLs you can handle a month), --sql-per-month N "
                 "and/or --sql-precision P (share of SQLs that should convert, e.g. 0.4)")
    for option, value in (("--mql-per-month", mql_per_month), ("--sql-per-month",
                                                                 sql_per_month)):
        if value is not None and not value > 0:
            raise LeadscoreError.single("LS413", f"{option} {value:g} is not a volume",
                                        Location(field=option),
                                        hint="write how many contacts a month, e.g. 200")
    if sql_precision is not None and not 0 < sql_precision <= 1:
        raise LeadscoreError.single("LS413", f"--sql-precision {sql_precision:g} is not a share",
                                    Location(field="--sql-precision"),
                                    hint="write a number between 0 and 1, e.g. 0.4")
    curve = tradeoff(scores, labels, months, max_points=10_000)
    display = tradeoff(scores, labels, months)
    if recent is not None:
        curve = per_month_on(curve, recent, recent_months)
        display = per_month_on(display, recent, recent_months)
    result = Recommendation(curve=display)
    for stage, target in (("MQL", mql_per_month), ("SQL", sql_per_month)):
        if target is None:
            continue
        found = _volume_cut(curve, target)
        if found is None:
            result.notes.append(f"even the highest score gives more than {target:g} "
                                f"{stage}s a month (many contacts share it)")
        elif stage == "MQL":
            result.mql = found
        else:
            result.sql = found
    if sql_precision is not None:
        reaching = [row for row in curve if row["contacts"] >= MIN_CONTACTS
                    and row["precision"] is not None and row["precision"] >= sql_precision]
        if reaching:
            if result.sql is None or reaching[-1]["threshold"] > result.sql["threshold"]:
                result.sql = reaching[-1]  # the stricter of a volume and a precision
        else:
            best = max((row for row in curve if row["contacts"] >= MIN_CONTACTS),
                       key=lambda row: row["precision"] or 0, default=None)
            shown = (f"; the best is {best['precision']:.0%} at {best['threshold']:g}"
                     if best else "")
            result.notes.append(f"no threshold with at least {MIN_CONTACTS} contacts reaches "
                                f"a precision of {sql_precision:.0%}{shown}")
    return result
