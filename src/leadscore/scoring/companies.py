"""`leadscore score`'s second step: company scores, set-wise, after the contact scores.

The contacts' current values and stored scores are written out as Parquet by the store's own
export (`storage.export`, the same on SQLite and PostgreSQL, memory bounded); DuckDB groups
them into companies (`companies.association`: `company_id`, else the e-mail domain, never a
free-mail domain) and runs the compiled company query (`sql.company`) over them and the
companies' properties as of the moment. The results are stored with the model version, and
history where a value or label changed.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.catalog import PropertyType
from leadscore.catalog.forms import to_micros
from leadscore.companies.association import FreeMail, company_sql
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.model.model import Model
from leadscore.storage.duck import quote_name
from leadscore.storage.store import Store

if TYPE_CHECKING:
    from leadscore.lists import ListSet


@dataclass
class CompanyRun:
    model: str
    as_of: datetime
    companies: int = 0
    labels: dict[str, dict[str, int]] = field(default_factory=dict)
    changed: int = 0  # (company, score) pairs whose value or label changed
    changed_companies: list[str] = field(default_factory=list)  # a score new, changed or gone
    seconds: float = 0.0
    due: int = 0  # contacts made due because a company score they read changed
    lists: dict[str, int] = field(default_factory=dict)  # company list → members

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "as_of": self.as_of.isoformat(),
                "companies": self.companies, "changed": self.changed, "labels": self.labels,
                "due": self.due, "lists": self.lists,
                "seconds": round(self.seconds, 3)}


def require_companies(model: Model) -> None:
    if model.companies is None:
        raise LeadscoreError.single(
            "LS380", f"model '{model.name}' has no companies: section", Location(
                file=model.path, field="companies"),
            hint="add companies: {scores: …} to the model (docs/model.md#companies)")


class CompanyInputs:
    """The company query's two relations in a DuckDB connection, for one moment."""

    def __init__(self, store: Store, model: Model, as_of_us: int, folder: Path, *,
                 contact_ids: list[str] | None = None,
                 company_ids: list[str] | None = None) -> None:
        """`contact_ids`, `company_ids`: only these contacts and companies (explaining one
        company: its members and itself; None: all)."""
        import duckdb

        from leadscore.sql.company import compile_companies
        from leadscore.storage.companies import company_values
        from leadscore.storage.export import ExportPlan

        require_companies(model)
        self.model = model
        self.query = compile_companies(model, as_of_us=as_of_us, dialect="duckdb")
        scores = tuple(model.scores)
        wanted = ("company_id", *self.query.contact_properties)
        store.export_parquet(folder, ExportPlan(
            ("contacts", "scores"), model.name, scores, model.catalog, properties=wanted,
            contact_ids=None if contact_ids is None else tuple(contact_ids)))
        needed = sorted({*self.query.company_properties, "domain"})
        with store.read() as connection:
            self.values = company_values(connection, as_of_us, names=needed, ids=company_ids)
        self.duck = duckdb.connect()
        self.duck.execute("SET threads = 2")
        self._companies()
        self._members(folder)

    def _companies(self) -> None:
        import pyarrow as pa

        from leadscore.companies.relations import arrow_type, typed

        ids = sorted(self.values)
        columns: dict[str, Any] = {"company_id": pa.array(ids, type=pa.string())}
        for name, (kind, options) in self.query.company_properties.items():
            columns["p:" + name] = pa.array(
                [typed(self.values[i].get(name), kind, options) for i in ids],
                type=arrow_type(kind))
        self.duck.register("ls_companies_arrow", pa.table(columns))
        self.duck.execute("CREATE TEMPORARY TABLE ls_companies AS "
                          "SELECT * FROM ls_companies_arrow")
        domains = sorted({(str(v["domain"]).strip().lower(), i) for i, v in self.values.items()
                          if isinstance(v.get("domain"), str) and v["domain"].strip()})
        first: dict[str, str] = {}
        for domain, company_id in domains:  # one company per domain: the smallest id
            first.setdefault(domain, company_id)
        self.duck.register("ls_domains", pa.table({
            "domain": pa.array(list(first), type=pa.string()),
            "company_id": pa.array(list(first.values()), type=pa.string())}))

    def _members(self, folder: Path) -> None:
        contacts = folder / "contacts.parquet"
        scores = folder / "scores.parquet"
        have = {row[0] for row in self.duck.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{contacts}')").fetchall()}
        free = FreeMail(self.model.companies.free_mail)
        explicit, domain, company = company_sql(
            "c.company_id" if "company_id" in have else None, "c.email", "m.company_id", free)
        picks = []
        for name, (kind, _options) in self.query.contact_properties.items():
            value = f"c.{quote_name(name)}" if name in have else "NULL"
            if kind is PropertyType.DATE and name in have:
                value = f"epoch_us({value})"
            cast = {PropertyType.NUMBER: "DOUBLE", PropertyType.BOOL: "BOOLEAN",
                    PropertyType.DATE: "BIGINT"}.get(kind, "VARCHAR")
            picks.append(f"CAST({value} AS {cast}) AS {quote_name('p:' + name)}")
        for score in self.query.contact_scores:
            picks.append(f"s.{quote_name(score)} AS {quote_name('s:' + score)}")
            picks.append(f"s.{quote_name(score + ':label')} AS {quote_name('l:' + score)}")
        self.duck.execute(f"""
            CREATE TEMPORARY TABLE ls_members AS
            WITH d AS (SELECT c.*, {explicit} AS ls_explicit, {domain} AS ls_domain
                       FROM read_parquet('{contacts}') AS c)
            SELECT {company} AS company_id,
                   c.contact_id{''.join(', ' + p for p in picks)}
            FROM d AS c LEFT JOIN read_parquet('{scores}') AS s ON s.contact_id = c.contact_id
            LEFT JOIN ls_domains AS m ON m.domain = c.ls_domain""")

    def results(self) -> list[dict[str, Any]]:
        cursor = self.duck.execute(self.query.sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def membership(self) -> dict[str, str]:
        """contact → company of every grouped contact."""
        return dict(self.duck.execute("SELECT contact_id, company_id FROM ls_members "
                                      "WHERE company_id IS NOT NULL").fetchall())

    def members_of(self, company_id: str) -> list[dict[str, Any]]:
        cursor = self.duck.execute("SELECT * FROM ls_members WHERE company_id = ? "
                                   "ORDER BY contact_id", [company_id])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        self.duck.close()


STATE_PREFIX = "company_run:"
DUE_REASON = "its company's score changed"
LIST_DUE_REASON = "its company joined or left a company list"


def companies_outdated(store: Store, model: Model) -> bool:
    """Whether the company scores stored under `model` may differ from a new run's: another
    model digest or version, or company properties changed since. (The caller knows whether
    contacts were rescored: then they may differ too.)"""
    from leadscore.storage.companies import company_mark
    from leadscore.storage.state import read_state

    with store.read() as connection:
        found = read_state(connection, STATE_PREFIX + model.name)
        mark = company_mark(connection)
    if found is None:
        return True
    detail = found[1] or {}
    return (detail.get("digest") != model.digest or detail.get("version") != model.published
            or detail.get("mark") != mark)


def score_companies(store: Store, model: Model, *, as_of: datetime | None = None,
                    write: bool = True, read_by_contacts: frozenset[str] = frozenset(),
                    lists: ListSet | None = None) -> CompanyRun:
    """Score every company as of `as_of` (now); with `write`, store what changed (scores,
    history, membership: `storage.company_writes`) and the run's mark. The results stay in
    DuckDB: only the label counts and the changes reach Python. `read_by_contacts`: the
    company scores that the project's lists, workflows and stage rules read
    (`company_score:`); the contacts of a company whose value or label of one of them changed
    (before and after the run) — and the contacts that joined, moved or left a company —
    become due for `process` in the same transaction. `lists`: the project's lists, whose
    company lists (`of: companies`) are computed after the scores (`storage.company_lists`)."""
    from leadscore.storage.companies import company_mark
    from leadscore.storage.company_lists import store_company_lists
    from leadscore.storage.company_writes import store_company_results
    from leadscore.storage.schedule import make_due
    from leadscore.storage.state import write_state

    started = time.perf_counter()
    now = datetime.now(UTC)
    moment = as_of or now
    as_of_us, computed_us = to_micros(moment), to_micros(now)
    run = CompanyRun(model.name, moment)
    names = list(model.companies.scores) if model.companies is not None else []
    with tempfile.TemporaryDirectory(prefix="leadscore-companies-") as folder:
        inputs = CompanyInputs(store, model, as_of_us, Path(folder))
        try:
            duck = inputs.duck
            duck.execute(f"CREATE TEMPORARY TABLE ls_results AS {inputs.query.sql}")
            counted = duck.execute("SELECT count(*) FROM ls_results").fetchone()
            run.companies = int(counted[0]) if counted else 0
            for name in names:
                label = quote_name(name + ":label")
                run.labels[name] = {
                    found or "—": int(count) for found, count in duck.execute(
                        f"SELECT {label}, count(*) FROM ls_results GROUP BY 1 ORDER BY 1 "
                        "NULLS LAST").fetchall()}
            if write:
                with store.write() as writer:
                    mark = company_mark(writer.connection)
                    changes = store_company_results(
                        writer.connection, duck, model.name, names, version=model.published,
                        as_of_us=as_of_us, computed_us=computed_us, read=read_by_contacts)
                    run.changed, run.changed_companies = changes.values, changes.companies
                    if changes.due:
                        make_due(writer.connection, changes.due, moment, DUE_REASON)
                    listed = store_company_lists(writer.connection, duck, model, lists,
                                                 evaluated=None, as_of_us=as_of_us,
                                                 read=read_by_contacts)
                    if listed.due:
                        make_due(writer.connection, listed.due, moment, LIST_DUE_REASON)
                    run.lists = listed.members
                    run.due = len({*changes.due, *listed.due})
                    write_state(writer.connection, STATE_PREFIX + model.name, computed_us, {
                        "digest": model.digest, "version": model.published, "mark": mark,
                        "as_of_us": as_of_us})
        finally:
            inputs.close()
    run.seconds = time.perf_counter() - started
    return run
