"""Company lists in the store (migration 0013): `company_list_members` (each company list's
members under a model, with when they joined) and `company_list_changes` (every join and
leave), written set-wise after each company run.

`store_company_lists` runs in the company run's write transaction, right after
`company_writes.store_company_results`: the lists' membership is computed in the run's DuckDB
connection (`sql.company_lists`), compared there with the stored membership, and only the
joins and leaves reach the store — for the companies the run evaluated (`evaluated`; None:
every company). When contacts' lists or workflows read a company list (`{company_list:
NAME}`, `read` holding `company_list_key(NAME)`), the contacts of the companies that joined or
left it become due for `process`, as for a company score they read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    PrimaryKeyConstraint,
    Table,
    Text,
    and_,
    delete,
    func,
    or_,
    select,
)

from leadscore.storage.schema import ROW_ID, metadata

if TYPE_CHECKING:
    from leadscore.lists import ListSet
    from leadscore.model import Model

company_list_members = Table(
    "company_list_members", metadata,
    Column("model", Text, nullable=False),
    Column("list", Text, nullable=False),
    Column("company_id", Text, nullable=False),
    Column("joined_us", BigInteger, nullable=False),
    PrimaryKeyConstraint("model", "list", "company_id"),
    Index("ix_company_list_members_company", "model", "company_id"),
)

company_list_changes = Table(
    "company_list_changes", metadata,
    Column("seq", ROW_ID, primary_key=True, autoincrement=True),
    Column("model", Text, nullable=False),
    Column("list", Text, nullable=False),
    Column("company_id", Text, nullable=False),
    Column("change", Text, nullable=False),  # join | leave
    Column("at_us", BigInteger, nullable=False),
    Index("ix_company_list_changes_company", "model", "company_id", "seq"),
    sqlite_autoincrement=True,
)


STATE_PREFIX = "company_lists:"


def lists_digest(lists: ListSet | None) -> str:
    """A digest of the company lists' definitions (names, filters, exclusions)."""
    import hashlib

    found = sorted((lists.company_lists if lists is not None else {}).items())  # type: ignore
    text = _canonical([(name, item.groups, item.exclude) for name, item in found])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _canonical(value: Any) -> str:
    """A text for a criteria tree that is the same in every process (a frozenset's repr
    follows the string hashes, which differ per process)."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return type(value).__name__ + "(" + ",".join(
            _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)) + ")"
    if isinstance(value, set | frozenset):
        return "{" + ",".join(sorted(_canonical(v) for v in value)) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(sorted(f"{_canonical(k)}:{_canonical(v)}"
                                     for k, v in value.items())) + "}"
    return repr(value)


def company_lists_outdated(connection: Connection, model: str, lists: ListSet | None) -> bool:
    """Whether the company lists were defined otherwise when companies were last scored
    under `model` (a list added, removed or changed in the lists file); never when the lists
    file does not load (`lists` None)."""
    from leadscore.storage.state import read_state

    if lists is None:
        return False
    found = read_state(connection, STATE_PREFIX + model)
    stored = (found[1] or {}).get("digest") if found is not None else lists_digest(None)
    return stored != lists_digest(lists)


@dataclass
class CompanyListChanges:
    joins: list[tuple[str, str]] = field(default_factory=list)  # (list, company)
    leaves: list[tuple[str, str]] = field(default_factory=list)
    due: list[str] = field(default_factory=list)  # contacts to make due
    members: dict[str, int] = field(default_factory=dict)  # list → members after the run


def store_company_lists(connection: Connection, duck: Any, model: Model,
                        lists: ListSet | None, *, evaluated: Collection[str] | None = None,
                        as_of_us: int | None = None, read: Collection[str] = ()
                        ) -> CompanyListChanges:
    """Make the company lists' membership that of `ls_results` (in `duck`) for the companies
    `evaluated` (None: all; a company not evaluated keeps its memberships), recording each
    join and leave at `as_of_us` (now). A list no longer in the lists file loses its members
    (recorded as leaves) when every company is evaluated. `lists` None (the lists file does
    not load): the stored membership stays as it is. (Python columns reach DuckDB through
    `duck.table_from_columns`, never Arrow, which imports pandas.)"""
    from leadscore.catalog.forms import to_micros
    from leadscore.model.criteria import company_list_key
    from leadscore.sql.company_lists import company_lists_sql
    from leadscore.storage.automation_reads import driver_rows
    from leadscore.storage.codec import Codec
    from leadscore.storage.duck import table_from_columns

    if lists is None:
        return CompanyListChanges()
    at_us = as_of_us if as_of_us is not None else to_micros(datetime.now(UTC))
    chosen = list(lists.company_lists.values())
    compiled = company_lists_sql(model, chosen, as_of_us=at_us)
    scope = None if evaluated is None else sorted(set(evaluated))
    if compiled.properties:
        _list_properties(connection, duck, compiled.properties, scope, at_us)
    codec = Codec(connection.dialect.name)
    mark = "?" if codec.sqlite else "%s"
    stored = driver_rows(connection, "SELECT list, company_id FROM company_list_members "
                         f"WHERE model = {mark}", (model.name,))
    table_from_columns(duck, "ls_stored_list_members", [
        ("list", "VARCHAR", [r[0] for r in stored]),
        ("company_id", "VARCHAR", [r[1] for r in stored])])
    inside = ""
    if scope is not None:
        table_from_columns(duck, "ls_list_scope", [("company_id", "VARCHAR", scope)])
        inside = " SEMI JOIN ls_list_scope USING (company_id)"
    duck.execute(f"CREATE OR REPLACE TEMPORARY TABLE ls_list_now AS "
                 f"SELECT * FROM ({compiled.sql}){inside}")
    joins = [tuple(r) for r in duck.execute(
        "SELECT list, company_id FROM ls_list_now ANTI JOIN ls_stored_list_members "
        "USING (list, company_id) ORDER BY 1, 2").fetchall()]
    leaves = [tuple(r) for r in duck.execute(
        f"SELECT list, company_id FROM (SELECT * FROM ls_stored_list_members{inside}) "
        "ANTI JOIN ls_list_now USING (list, company_id) ORDER BY 1, 2").fetchall()]
    _write(connection, codec, model.name, joins, leaves, at_us)  # type: ignore[arg-type]
    if scope is None:  # every company: the stored lists are those of this definition
        from leadscore.storage.state import write_state

        write_state(connection, STATE_PREFIX + model.name, at_us,
                    {"digest": lists_digest(lists)})
    changes = CompanyListChanges(joins, leaves)  # type: ignore[arg-type]
    wanted = {name for name in lists.company_lists if company_list_key(name) in read}
    touched = sorted({company for name, company in [*joins, *leaves] if name in wanted})
    if touched:
        changes.due = contacts_of(connection, model.name, touched)
    changes.members = {name: 0 for name in lists.company_lists}
    changes.members.update(company_list_counts(connection, model.name))
    return changes


def _list_properties(connection: Connection, duck: Any,
                     wanted: dict[str, tuple[Any, tuple[str, ...]]], scope: list[str] | None,
                     at_us: int) -> None:
    """`ls_list_properties`: the company properties the lists read, for the run's companies.
    Those the company query read already are the run's own `ls_companies` columns (typed
    alike); only the others are read from the store. (At 50,000 companies, reading them all
    again took 2.0 s of a 2.7 s pass that changed nothing.)"""
    from leadscore.companies.relations import sql_type, typed
    from leadscore.storage.companies import company_values
    from leadscore.storage.duck import quote_name, table_from_columns

    have = {name for name, in duck.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'ls_companies'").fetchall()}
    missing = [name for name in wanted if "p:" + name not in have]
    picks = [f"c.{quote_name('p:' + n)}" for n in wanted if n not in missing]
    joins = " LEFT JOIN ls_companies AS c ON c.company_id = r.company_id" if picks else ""
    if missing:
        ids = scope if scope is not None else [
            i for i, in duck.execute("SELECT company_id FROM ls_results").fetchall()]
        values = company_values(connection, at_us, names=sorted(missing), ids=ids)
        columns: list[tuple[str, str, list[Any]]] = [("company_id", "VARCHAR", list(ids))]
        for name in missing:
            kind, options = wanted[name]
            columns.append(("p:" + name, sql_type(kind),
                            [typed(values.get(i, {}).get(name), kind, options) for i in ids]))
        table_from_columns(duck, "ls_list_read", columns)
        picks += [f"m.{quote_name('p:' + n)}" for n in missing]
        joins += " LEFT JOIN ls_list_read AS m ON m.company_id = r.company_id"
    duck.execute(f"CREATE OR REPLACE TEMPORARY VIEW ls_list_properties AS SELECT r.company_id, "
                 f"{', '.join(picks)} FROM ls_results AS r{joins}")


def _write(connection: Connection, codec: Any, model: str, joins: list[tuple[str, str]],
           leaves: list[tuple[str, str]], at_us: int) -> None:
    from leadscore.storage.companies import _chunks

    t = company_list_members
    by_list: dict[str, list[str]] = {}
    for name, company in leaves:
        by_list.setdefault(name, []).append(company)
    for name, ids in by_list.items():
        for part in _chunks(ids):
            connection.execute(delete(t).where(t.c.model == model, t.c.list == name,
                                               t.c.company_id.in_(part)))
    codec.insert_many(connection, "company_list_members",
                      ("model", "list", "company_id", "joined_us"),
                      [(model, name, company, at_us) for name, company in joins],
                      kinds=("text", "text", "text", "int8"))
    codec.insert_many(connection, "company_list_changes",
                      ("model", "list", "company_id", "change", "at_us"),
                      [*((model, n, company, "join", at_us) for n, company in joins),
                       *((model, n, company, "leave", at_us) for n, company in leaves)],
                      kinds=("text", "text", "text", "text", "int8"))


def contacts_of(connection: Connection, model: str, companies: Iterable[str]) -> list[str]:
    """The contacts of these companies (stored membership under `model`)."""
    from leadscore.storage.companies import _chunks, company_members

    m = company_members
    found: set[str] = set()
    for part in _chunks(sorted(set(companies))):
        found.update(cid for cid, in connection.execute(
            select(m.c.contact_id).where(m.c.model == model, m.c.company_id.in_(part))))
    return sorted(found)


def company_list_counts(connection: Connection, model: str) -> dict[str, int]:
    t = company_list_members
    return {name: int(n) for name, n in connection.execute(
        select(t.c.list, func.count()).where(t.c.model == model).group_by(t.c.list))}


def company_list_page(connection: Connection, model: str, name: str, limit: int | None,
                      after: tuple[int, str] | None = None
                      ) -> tuple[list[tuple[str, int]], int]:
    """((company, joined µs) newest first, then by id, from after the member `after` (joined
    µs, company) when given; how many members in all)."""
    t = company_list_members
    query = (select(t.c.company_id, t.c.joined_us).where(t.c.model == model, t.c.list == name)
             .order_by(t.c.joined_us.desc(), t.c.company_id))
    if after is not None:
        joined, company = after
        query = query.where(or_(t.c.joined_us < joined,
                                and_(t.c.joined_us == joined, t.c.company_id > company)))
    if limit:
        query = query.limit(limit)
    rows = [(c, int(j)) for c, j in connection.execute(query)]
    total = connection.execute(select(func.count()).select_from(t).where(
        t.c.model == model, t.c.list == name)).scalar_one()
    return rows, int(total)


def company_list_history(connection: Connection, model: str, company_id: str
                         ) -> list[tuple[str, str, int]]:
    """(list, join | leave, at µs) of one company, oldest first."""
    t = company_list_changes
    return [(n, ch, int(at)) for n, ch, at in connection.execute(
        select(t.c.list, t.c.change, t.c.at_us).where(
            t.c.model == model, t.c.company_id == company_id).order_by(t.c.seq))]


__all__ = ["CompanyListChanges", "company_list_changes", "company_list_counts",
           "company_list_history", "company_list_members", "company_list_page",
           "company_lists_outdated", "contacts_of", "lists_digest", "store_company_lists"]
