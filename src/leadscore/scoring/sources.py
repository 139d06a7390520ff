"""The canonical relations of a compiled model, bound to where the data is.

`leadscore.sql` compiles a model to SQL over `ls_contacts`, `ls_values`, `ls_events`,
`ls_targets`, `ls_ledger` (the score ledger) and, when a condition reads them,
`ls_company_scores` (the contacts' companies' stored scores). Here they become views: on the
embedded store over its segments and SQLite tail (in DuckDB); for files given on the command
line over the files themselves (CSV, JSON Lines, Parquet). PostgreSQL's views live in `postgres.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from leadscore.catalog import PropertyType
from leadscore.storage.bulk import promoted_attributes
from leadscore.storage.duck import attribute_sql, parquet_source, quote_name, quote_text
from leadscore.storage.segments import SegmentKind
from leadscore.storage.values import typed_values_sql
from leadscore.storage.views import DataView

CONTACTS, VALUES, EVENTS, TARGETS = "ls_contacts", "ls_values", "ls_events", "ls_targets"
LEDGER = "ls_ledger"
COMPANY_SCORES = "ls_company_scores"
EMPTY_COMPANY_SCORES = ("SELECT CAST(NULL AS VARCHAR) AS contact_id, CAST(NULL AS VARCHAR) AS "
                        "score, CAST(NULL AS DOUBLE) AS value, CAST(NULL AS VARCHAR) AS label "
                        "WHERE false")
EMPTY_LEDGER = ("SELECT CAST(NULL AS VARCHAR) AS contact_id, CAST(NULL AS VARCHAR) AS score, "
                "CAST(NULL AS VARCHAR) AS op, CAST(NULL AS BIGINT) AS cents, "
                "CAST(NULL AS BIGINT) AS effective_us, CAST(NULL AS BIGINT) AS expires_us, "
                "CAST(NULL AS BIGINT) AS entry_id WHERE false")


def event_columns(required: Iterable[tuple[str, str]], *, promoted: Mapping[str, str]
                  ) -> tuple[list[str], list[str]]:
    """For a segment and for a JSON-only source: the SELECT lists giving every required
    attribute column `"<attribute>:<kind>"`."""
    from_segment, from_json = [], []
    for name, kind in sorted(required):
        target = quote_name(f"{name}:{kind}")
        computed = f"{attribute_sql('attributes', name, kind)} AS {target}"
        from_json.append(computed)
        from_segment.append(f"{target}" if promoted.get(name) == kind else computed)
    return from_segment, from_json


def bind_embedded(view: DataView, *, required_properties: Mapping[str, tuple[PropertyType,
                                                                              bool]],
                  required_attributes: Iterable[tuple[str, str]],
                  event_types: Sequence[str] | None, as_of_us: int,
                  targets: Sequence[str] | None = None, now: bool = True,
                  company_scores_of: str | None = None) -> dict[str, str]:
    """Create the canonical views over the embedded store (in `view`'s DuckDB), with
    `ls_company_scores` of that model when `company_scores_of` names one; returns canonical
    name → view name."""
    duck = view.duck
    names = {c: c for c in (CONTACTS, VALUES, EVENTS, TARGETS, LEDGER)}  # the query's own
    within = None
    if targets is not None:  # the contacts and their values read for these alone
        table = view.register_columns([("contact_id", "VARCHAR", list(targets))])
        duck.execute(f"CREATE OR REPLACE TEMP VIEW {names[TARGETS]} AS SELECT contact_id "
                     f"FROM {table}")
        within = names[TARGETS]
    duck.execute(f"CREATE OR REPLACE TEMP VIEW {names[CONTACTS]} AS SELECT contact_id, "
                 f"created_us FROM {view.relation('contacts')}"
                 + (f" WHERE contact_id IN (SELECT contact_id FROM {within})" if within else ""))
    duck.execute(f"CREATE OR REPLACE TEMP VIEW {names[VALUES]} AS SELECT * FROM "
                 + typed_values_sql(view, required_properties,
                                    as_of_us=None if now else as_of_us, within=within))
    required = list(required_attributes)
    segment_cols, json_cols = event_columns(required, promoted=promoted_attributes())
    base = "contact_id, type, occurred_us"
    kinds = (" AND type IN (" + ", ".join(quote_text(t) for t in event_types) + ")"
             if event_types is not None else "")
    where = f"WHERE occurred_us <= {int(as_of_us)}{kinds}"
    rows = view.tail_rows("events")
    parts = [f"SELECT {', '.join([base, *json_cols])} FROM {rows.relation} {where}"]
    assert view.segments is not None
    live = view.segments.live(view.connection, SegmentKind.EVENTS)
    source = parquet_source([str(s.path) for s in live])
    if source is not None:
        if rows.rows:  # a resend that arrived after its original went into a segment
            parts[0] += f" AND event_id NOT IN (SELECT event_id FROM {source})"
        parts.insert(0, f"SELECT {', '.join([base, *segment_cols])} FROM {source} {where}")
    duck.execute(f"CREATE OR REPLACE TEMP VIEW {names[EVENTS]} AS "
                 + " UNION ALL ".join(parts))
    bind_ledger(view, names[LEDGER])
    if company_scores_of is not None:
        names[COMPANY_SCORES] = COMPANY_SCORES
        bind_company_scores(view, COMPANY_SCORES, company_scores_of)
    return names


def bind_company_scores(view: DataView, name: str, model: str) -> None:
    """`ls_company_scores` over the stored company membership and scores of `model` (SQLite
    tables of a row per contact with a company and per company score, read here and
    registered in DuckDB)."""
    from leadscore.storage.automation_reads import driver_rows
    from leadscore.storage.companies import company_scores_select

    # by the driver's cursor: 182,000 rows as ORM rows, one fetch each, took 2.4 s of a first
    # `process` at 50,000 contacts
    rows = driver_rows(view.connection, company_scores_select(model), ())
    if not rows:
        view.duck.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {EMPTY_COMPANY_SCORES}")
        return
    kinds = ("VARCHAR", "VARCHAR", "DOUBLE", "VARCHAR")
    columns = ("contact_id", "score", "value", "label")
    table = view.register_columns([(column, kind, [row[i] for row in rows])
                                   for i, (column, kind) in enumerate(zip(columns, kinds,
                                                                          strict=True))])
    view.duck.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {table}")


def bind_ledger(view: DataView, name: str) -> None:
    """`ls_ledger` over the score ledger's entries that are not voided (a SQLite table of a
    few rows per adjusted contact, read here and registered in DuckDB)."""
    from leadscore.storage.automation_reads import driver_rows
    from leadscore.storage.ledger_reads import LEDGER_SELECT

    rows = driver_rows(view.connection, LEDGER_SELECT, ())
    if not rows:
        view.duck.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {EMPTY_LEDGER}")
        return
    kinds = ("VARCHAR", "VARCHAR", "VARCHAR", "BIGINT", "BIGINT", "BIGINT", "BIGINT")
    names = ("contact_id", "score", "op", "cents", "effective_us", "expires_us", "entry_id")
    table = view.register_columns([(column, kind, [row[i] for row in rows])
                                   for i, (column, kind) in enumerate(zip(names, kinds,
                                                                          strict=True))])
    view.duck.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {table}")


def drop_views(duck: Any, names: Mapping[str, str]) -> None:
    for name in names.values():
        duck.execute(f"DROP VIEW IF EXISTS {name}")
