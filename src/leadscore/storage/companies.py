"""Companies in the store (migration 0012): their rows, their property history, their current
scores and score history. Companies are few beside contacts (an account has many contacts), so
they live in ordinary tables on both kinds of store, without segments.

`leadscore.project.company_api` calls these on a connection of `Store.read` or `Store.write`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Index,
    PrimaryKeyConstraint,
    Table,
    Text,
    insert,
    select,
)

from leadscore.storage.schema import ROW_ID, metadata
from leadscore.storage.upsert import ContactRow, PropertyHistory

companies = Table(
    "companies", metadata,
    Column("company_id", Text, primary_key=True),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

company_property_changes = Table(
    "company_property_changes", metadata,
    Column("seq", ROW_ID, primary_key=True, autoincrement=True),
    Column("company_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("value", Text),
    Column("changed_us", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Index("ix_company_property_changes_company", "company_id", "name", "changed_us"),
    sqlite_autoincrement=True,
)

company_scores = Table(
    "company_scores", metadata,
    Column("model", Text, nullable=False),
    Column("company_id", Text, nullable=False),
    Column("score", Text, nullable=False),
    Column("value", Float, nullable=False),
    Column("label", Text),
    Column("contacts", BigInteger, nullable=False),
    Column("model_version", BigInteger),
    Column("as_of_us", BigInteger, nullable=False),
    Column("computed_us", BigInteger, nullable=False),
    PrimaryKeyConstraint("model", "company_id", "score"),
)

company_score_history = Table(
    "company_score_history", metadata,
    Column("seq", ROW_ID, primary_key=True, autoincrement=True),
    Column("model", Text, nullable=False),
    Column("company_id", Text, nullable=False),
    Column("score", Text, nullable=False),
    Column("value", Float, nullable=False),
    Column("label", Text),
    Column("model_version", BigInteger),
    Column("as_of_us", BigInteger, nullable=False),
    Column("computed_us", BigInteger, nullable=False),
    Index("ix_company_score_history_company", "model", "company_id", "seq"),
    sqlite_autoincrement=True,
)


company_members = Table(
    "company_members", metadata,
    Column("model", Text, nullable=False),
    Column("contact_id", Text, nullable=False),
    Column("company_id", Text, nullable=False),
    PrimaryKeyConstraint("model", "contact_id"),
    Index("ix_company_members_company", "model", "company_id"),
)


@dataclass(frozen=True)
class StoredCompanyScore:
    company_id: str
    score: str
    value: float
    label: str | None
    contacts: int
    model_version: int | None
    as_of_us: int
    computed_us: int


def load_history(connection: Connection, ids: Iterable[str]
                 ) -> tuple[dict[str, ContactRow], dict[str, dict[str, PropertyHistory]]]:
    """The stored rows and property histories of these companies (for `plan_upsert`)."""
    wanted = sorted(set(ids))
    rows: dict[str, ContactRow] = {}
    history: dict[str, dict[str, PropertyHistory]] = {}
    for part in _chunks(wanted):
        for company_id, created, updated in connection.execute(
                select(companies).where(companies.c.company_id.in_(part))):
            rows[company_id] = ContactRow(company_id, None, created, updated)
        found = connection.execute(
            select(company_property_changes.c.company_id, company_property_changes.c.name,
                   company_property_changes.c.value, company_property_changes.c.changed_us,
                   company_property_changes.c.source)
            .where(company_property_changes.c.company_id.in_(part))
            .order_by(company_property_changes.c.changed_us, company_property_changes.c.seq))
        for company_id, name, value, changed, source in found:
            past = history.setdefault(company_id, {}).setdefault(name, PropertyHistory())
            past.insert(changed, None if value is None else json.loads(value), source)
    return rows, history


def write_plan(connection: Connection, new: Sequence[ContactRow], changed: Sequence[ContactRow],
               changes: Sequence[tuple[str, str, Any, int, str]]) -> None:
    """Insert new companies, update changed ones, and record the property changes."""
    if new:
        connection.execute(insert(companies), [
            {"company_id": r.contact_id, "created_us": r.created_us, "updated_us": r.updated_us}
            for r in new])
    for row in changed:
        connection.execute(companies.update().where(companies.c.company_id == row.contact_id)
                           .values(created_us=row.created_us, updated_us=row.updated_us))
    if changes:
        connection.execute(insert(company_property_changes), [
            {"company_id": company_id, "name": name,
             "value": None if value is None else json.dumps(value), "changed_us": moment,
             "source": source} for company_id, name, value, moment, source in changes])


def company_values(connection: Connection, until_us: int, *,
                   names: Sequence[str] | None = None,
                   ids: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """The latest value of each property (only `names`, when given) of every company (only
    `ids`, when given) created by `until_us`, as of `until_us`: stored JSON values, the
    unknown left out. The latest row per company and property is picked in the database."""
    sqlite = connection.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    where: list[str] = ["changed_us <= " + mark]
    params: list[Any] = [until_us]
    company_where: list[str] = ["created_us <= " + mark]
    company_params: list[Any] = [until_us]
    if names is not None:
        where.append(f"name IN ({', '.join([mark] * len(names))})" if names else "1 = 0")
        params += list(names)
    if ids is not None:
        listed = f"company_id IN ({', '.join([mark] * len(ids))})" if ids else "1 = 0"
        where.append(listed)
        params += list(ids)
        company_where.append(listed)
        company_params += list(ids)
    found: dict[str, dict[str, Any]] = {
        company_id: {} for company_id, in connection.exec_driver_sql(
            f"SELECT company_id FROM companies WHERE {' AND '.join(company_where)}",
            tuple(company_params))}
    rows = connection.exec_driver_sql(f"""
        SELECT company_id, name, value FROM (
            SELECT company_id, name, value, row_number() OVER (
                PARTITION BY company_id, name ORDER BY changed_us DESC, seq DESC) AS k
            FROM company_property_changes WHERE {' AND '.join(where)}) AS latest
        WHERE k = 1 AND value IS NOT NULL""", tuple(params))
    for company_id, name, value in rows:
        if company_id in found:
            found[company_id][name] = json.loads(value)
    return found


def property_history(connection: Connection, company_id: str) -> list[tuple[str, Any, int, str]]:
    """(name, value, changed_us, source) of one company, oldest first."""
    t = company_property_changes
    rows = connection.execute(select(t.c.name, t.c.value, t.c.changed_us, t.c.source)
                              .where(t.c.company_id == company_id)
                              .order_by(t.c.changed_us, t.c.seq))
    return [(n, None if v is None else json.loads(v), c, s) for n, v, c, s in rows]


def members_of(connection: Connection, model: str, company_id: str) -> list[str] | None:
    """The contacts of a company when the model last scored companies (None: never)."""
    t = company_members
    found = [c for c, in connection.execute(
        select(t.c.contact_id).where(t.c.model == model, t.c.company_id == company_id)
        .order_by(t.c.contact_id))]
    if found:
        return found
    scored = connection.execute(select(company_scores.c.company_id).where(
        company_scores.c.model == model, company_scores.c.company_id == company_id)
        .limit(1)).first()
    return [] if scored is not None else None


def stored_membership(connection: Connection, model: str, *,
                      contacts: Iterable[str] = (), companies: Iterable[str] = ()
                      ) -> set[tuple[str, str]]:
    """(contact, company) rows of the model's stored membership: of these contacts, and of
    these companies (by their indexes, in chunks)."""
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    found: set[tuple[str, str]] = set()
    for column, ids in (("contact_id", contacts), ("company_id", companies)):
        for part in _chunks(sorted(set(ids))):
            found.update(connection.exec_driver_sql(
                f"SELECT contact_id, company_id FROM company_members WHERE model = {mark} "
                f"AND {column} IN ({', '.join([mark] * len(part))})", (model, *part)).all())
    return found


def ranked_scores(connection: Connection, model: str, sort: str, *, label: str | None,
                  limit: int | None) -> list[str]:
    """Company ids by their `sort` score, best first (then by id), only those whose label of
    it is `label` (ignoring case) when given."""
    t = company_scores
    query = select(t.c.company_id).where(t.c.model == model, t.c.score == sort)
    if label is not None:
        from sqlalchemy import func

        query = query.where(func.lower(t.c.label) == label.lower())
    query = query.order_by(t.c.value.desc(), t.c.company_id)
    if limit:
        query = query.limit(limit)
    return [company_id for company_id, in connection.execute(query)]


def stored_scores(connection: Connection, model: str, ids: Sequence[str] | None = None
                  ) -> list[StoredCompanyScore]:
    t = company_scores
    query = select(t.c.company_id, t.c.score, t.c.value, t.c.label, t.c.contacts,
                   t.c.model_version, t.c.as_of_us, t.c.computed_us).where(t.c.model == model)
    if ids is not None:
        query = query.where(t.c.company_id.in_(list(ids)))
    return [StoredCompanyScore(*row) for row in connection.execute(query)]


def score_history(connection: Connection, model: str, company_id: str
                  ) -> list[tuple[str, float, str | None, int | None, int]]:
    """(score, value, label, model version, computed µs) of one company, oldest first."""
    t = company_score_history
    return [tuple(r) for r in connection.execute(  # type: ignore[misc]
        select(t.c.score, t.c.value, t.c.label, t.c.model_version, t.c.computed_us)
        .where(t.c.model == model, t.c.company_id == company_id).order_by(t.c.seq))]


def company_scores_select(model: str) -> str:
    """SQL (the same on SQLite, PostgreSQL and DuckDB over them) for the canonical relation
    `ls_company_scores`: each contact's company's stored scores under `model`, one row per
    (contact, company score). A contact without a company has no row."""
    quoted = "'" + model.replace("'", "''") + "'"
    # the company's lists travel as rows too: score `list:NAME` (`criteria.company_list_key`),
    # value 1, no label
    return ("SELECT m.contact_id AS contact_id, s.score AS score, s.value AS value, "
            "s.label AS label FROM company_members m JOIN company_scores s "
            "ON s.model = m.model AND s.company_id = m.company_id "
            f"WHERE m.model = {quoted} "
            "UNION ALL SELECT m.contact_id AS contact_id, 'list:' || l.list AS score, "
            "CAST(1 AS DOUBLE PRECISION) AS value, CAST(NULL AS TEXT) AS label "
            "FROM company_members m JOIN company_list_members l "
            "ON l.model = m.model AND l.company_id = m.company_id "
            f"WHERE m.model = {quoted}")


def contact_company_scores(connection: Connection, model: str,
                           contact_ids: Iterable[str] | None,
                           names: Iterable[str] | None = None
                           ) -> dict[str, dict[str, tuple[float | None, str | None]]]:
    """contact → (company score → (value, label)) of the contacts' companies under `model`
    (every contact when `contact_ids` is None; only the scores `names` when given); a contact
    without a company is absent."""
    m, s = company_members, company_scores
    chosen = None if names is None else sorted(set(names))
    found: dict[str, dict[str, tuple[float | None, str | None]]] = {}
    if chosen == []:
        return found
    parts: Iterable[list[str] | None] = ([None] if contact_ids is None
                                         else _chunks(sorted(set(contact_ids))))
    for part in parts:
        query = (select(m.c.contact_id, s.c.score, s.c.value, s.c.label)
                 .join_from(m, s, (s.c.model == m.c.model) & (s.c.company_id == m.c.company_id))
                 .where(m.c.model == model))
        if part is not None:
            query = query.where(m.c.contact_id.in_(part))
        if chosen is not None:
            query = query.where(s.c.score.in_(chosen))
        for contact_id, score, value, label in connection.execute(query):
            found.setdefault(contact_id, {})[score] = (value, label)
        _company_lists_of(connection, model, part, chosen, found)
    return found


def _company_lists_of(connection: Connection, model: str, contact_ids: list[str] | None,
                      names: list[str] | None,
                      found: dict[str, dict[str, tuple[float | None, str | None]]]) -> None:
    """The contacts' companies' company lists, as `list:NAME` → (1.0, None) in `found`."""
    from leadscore.model.criteria import COMPANY_LIST_PREFIX
    from leadscore.storage.company_lists import company_list_members

    wanted = None if names is None else [n[len(COMPANY_LIST_PREFIX):] for n in names
                                         if n.startswith(COMPANY_LIST_PREFIX)]
    if wanted == []:
        return
    m, t = company_members, company_list_members
    query = (select(m.c.contact_id, t.c.list)
             .join_from(m, t, (t.c.model == m.c.model) & (t.c.company_id == m.c.company_id))
             .where(m.c.model == model))
    if contact_ids is not None:
        query = query.where(m.c.contact_id.in_(contact_ids))
    if wanted is not None:
        query = query.where(t.c.list.in_(wanted))
    for contact_id, name in connection.execute(query):
        found.setdefault(contact_id, {})[COMPANY_LIST_PREFIX + name] = (1.0, None)


def company_mark(connection: Connection) -> int:
    """The highest sequence number of the company property changes (0: none)."""
    from sqlalchemy import func

    return int(connection.execute(select(func.max(company_property_changes.c.seq))).scalar()
               or 0)


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
