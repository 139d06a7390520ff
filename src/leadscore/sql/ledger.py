"""The score ledger in SQL, as `evaluation.ledger`: per contact and score, the amount of the
last set-to entry that applies (in order of effective time, then id) and the sum in
hundredths of the change-by entries that apply after it; and the next moment an entry starts
or stops applying. The score is then `round2(coalesce(set, model value) + change / 100)`,
and the model's value where no entry applies.

`ls_ledger(contact_id, score, op, cents, effective_us, expires_us, entry_id)` holds the
entries that are not voided, whatever their times; the query picks those that apply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import sqlglot
from sqlglot import exp

from leadscore.sql import expr as x
from leadscore.sql.dialect import Dialect
from leadscore.sql.scores import round2

NEXT_COLUMN = "ledger:next"


def set_column(index: int) -> str:
    return f"ledger:{index}:set"


def change_column(index: int) -> str:
    return f"ledger:{index}:change"


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ledger_select(relation: str, targets: str | None, scores: Sequence[str],
                  now_us: int) -> exp.Expression:
    """One row per contact with entries: `ledger:<i>:set` and `ledger:<i>:change` for the
    i-th of `scores` (1-based), and `ledger:next`."""
    now = int(now_us)
    where = f" WHERE contact_id IN (SELECT contact_id FROM {targets})" if targets else ""
    columns = []
    for i, score in enumerate(scores, start=1):
        name = _text(score)
        columns.append(f"MAX(CASE WHEN score = {name} AND op = 'set' AND applies = 1 "
                       f"AND pos = last_set THEN cents END) AS \"{set_column(i)}\"")
        columns.append(f"SUM(CASE WHEN score = {name} AND op = 'change' AND applies = 1 "
                       f"AND pos > COALESCE(last_set, 0) THEN cents END) "
                       f"AS \"{change_column(i)}\"")
    columns.append(f"MIN(CASE WHEN effective_us > {now} THEN effective_us "
                   f"WHEN expires_us > {now} THEN expires_us END) AS \"{NEXT_COLUMN}\"")
    sql = (
        f"SELECT contact_id, {', '.join(columns)} FROM ("
        " SELECT contact_id, score, op, cents, effective_us, expires_us, applies, pos,"
        " MAX(CASE WHEN op = 'set' AND applies = 1 THEN pos END)"
        " OVER (PARTITION BY contact_id, score) AS last_set FROM ("
        " SELECT contact_id, score, op, cents, effective_us, expires_us,"
        f" CASE WHEN effective_us <= {now} AND (expires_us IS NULL OR expires_us > {now})"
        " THEN 1 ELSE 0 END AS applies,"
        " ROW_NUMBER() OVER (PARTITION BY contact_id, score ORDER BY effective_us, entry_id)"
        f" AS pos FROM {relation}{where}) AS lq_ranked) AS lq_sets GROUP BY contact_id")
    return cast(exp.Expression, sqlglot.parse_one(sql))


def adjusted(dialect: Dialect, value: exp.Expression, index: int) -> exp.Expression:
    """A score's value after its ledger columns (`value` where no entry applies)."""
    set_cents, change = x.column(set_column(index)), x.column(change_column(index))
    base = x.func("COALESCE", x.div(x.to_double(set_cents), x.double(100.0)), value.copy())
    total = x.add(base, x.div(x.to_double(x.func("COALESCE", change.copy(), x.bigint(0))),
                              x.double(100.0)))
    return x.case([(x.and_(x.is_null(set_cents.copy()), x.is_null(change.copy())), value)],
                  round2(dialect, total))


def applies(index: int) -> exp.Expression:
    """Whether an entry of the score applies (`evaluation.ledger.applying` is not empty):
    a set-to or a change-by counts. BOOLEAN, never NULL."""
    return x.or_(x.not_null(x.column(set_column(index))),
                 x.not_null(x.column(change_column(index))))
