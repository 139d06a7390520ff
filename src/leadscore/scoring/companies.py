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
from leadscore.companies.relations import sql_type, typed
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.model.model import Model
from leadscore.storage.duck import quote_name, quote_text, table_from_columns
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
    full: bool = True  # every company scored (else those whose contacts changed)
    lists: dict[str, int] = field(default_factory=dict)  # company list → members
    # the contacts whose company's read scores changed, or who joined, moved or left one
    due_contacts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "as_of": self.as_of.isoformat(),
                "companies": self.companies, "changed": self.changed, "labels": self.labels,
                "due": self.due, "full": self.full, "lists": self.lists,
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
                 company_ids: list[str] | None = None,
                 changed: set[str] | None = None) -> None:
        """`contact_ids`, `company_ids`: only these contacts and companies (explaining one
        company: its members and itself; None: all). `changed`: an incremental run
        (`scoring.company_scope`) — the companies these contacts belonged to or belong to
        now, with all their members; `companies` and `contacts` then name what was read."""
        import duckdb

        from leadscore.sql.company import compile_companies

        require_companies(model)
        self.store, self.model, self.as_of_us, self.folder = store, model, as_of_us, folder
        self.query = compile_companies(model, as_of_us=as_of_us, dialect="duckdb")
        self.companies: list[str] | None = None  # the companies scored (None: all)
        self.contacts: list[str] | None = None  # the contacts read (None: all)
        self.duck = duckdb.connect()
        self.duck.execute("SET threads = 2")
        if changed is None:
            self._export(folder, contact_ids)
            self.values = self._values(company_ids)
            self._companies(self.values)
            self._members([folder])
        else:
            self._incremental(sorted(changed))

    def _export(self, folder: Path, contact_ids: list[str] | None) -> None:
        from leadscore.storage.export import ExportPlan

        wanted = ("company_id", *self.query.contact_properties)
        self.store.export_parquet(folder, ExportPlan(
            ("contacts", "scores"), self.model.name, tuple(self.model.scores),
            self.model.catalog, properties=wanted,
            contact_ids=None if contact_ids is None else tuple(contact_ids)))

    def _values(self, ids: list[str] | None, names: list[str] | None = None
                ) -> dict[str, dict[str, Any]]:
        from leadscore.storage.companies import company_values

        needed = names or sorted({*self.query.company_properties, "domain"})
        with self.store.read() as connection:
            return company_values(connection, self.as_of_us, names=needed, ids=ids)

    def _incremental(self, changed: list[str]) -> None:
        """The changed contacts' companies before (stored) and after (grouped now), and
        every member of those: the run reads only them. The stored members of the companies
        before are read with the changed contacts in one export; only companies the changed
        contacts joined anew need a second."""
        from leadscore.storage.companies import stored_membership

        name = self.model.name
        with self.store.read() as connection:
            before = {k for _, k in stored_membership(connection, name, contacts=changed)}
            read = set(changed) | {c for c, _ in stored_membership(connection, name,
                                                                   companies=before)}
        domains = self._values(None, ["domain"])  # a domain groups contacts anywhere
        self._domains(domains)
        folders = [self.folder / "first"]
        self._export(folders[0], sorted(read))
        self._members(folders)
        after = {k for k, in self.duck.execute(
            "SELECT DISTINCT company_id FROM ls_members WHERE company_id IS NOT NULL")
            .fetchall()}
        self.duck.execute("DROP TABLE ls_members")
        if after - before:
            with self.store.read() as connection:
                more = {c for c, _ in stored_membership(connection, name,
                                                        companies=after - before)} - read
            if more:
                folders.append(self.folder / "joined")
                self._export(folders[-1], sorted(more))
                read |= more
        self.companies = sorted(before | after)
        self.contacts = sorted(read)
        self.values = self._values(self.companies)
        self._companies(self.values, domains)
        self._members(folders)

    def _companies(self, values: dict[str, dict[str, Any]],
                   domains: dict[str, dict[str, Any]] | None = None) -> None:
        ids = sorted(values)
        columns: list[tuple[str, str, list[Any]]] = [("company_id", "VARCHAR", ids)]
        for name, (kind, options) in self.query.company_properties.items():
            columns.append(("p:" + name, sql_type(kind),
                            [typed(values[i].get(name), kind, options) for i in ids]))
        table_from_columns(self.duck, "ls_companies", columns)
        self._domains(values if domains is None else domains)

    def _domains(self, values: dict[str, dict[str, Any]]) -> None:
        domains = sorted({(str(v["domain"]).strip().lower(), i) for i, v in values.items()
                          if isinstance(v.get("domain"), str) and v["domain"].strip()})
        first: dict[str, str] = {}
        for domain, company_id in domains:  # one company per domain: the smallest id
            first.setdefault(domain, company_id)
        table_from_columns(self.duck, "ls_domains", [
            ("domain", "VARCHAR", list(first)), ("company_id", "VARCHAR", list(first.values()))])

    def _members(self, folders: list[Path]) -> None:
        contacts = _parquet_list(f / "contacts.parquet" for f in folders)
        scores = _parquet_list(f / "scores.parquet" for f in folders)
        have = {row[0] for row in self.duck.execute(
            f"DESCRIBE SELECT * FROM read_parquet({contacts}, union_by_name = true)")
            .fetchall()}
        free = FreeMail(self.model.companies.free_mail)
        explicit, domain, company = company_sql(
            "c.company_id" if "company_id" in have else None, "c.email", "m.company_id", free)
        picks = []
        for name, (kind, _options) in self.query.contact_properties.items():
            value = f"c.{quote_name(name)}" if name in have else "NULL"
            if kind is PropertyType.DATE and name in have:
                value = f"epoch_us({value})"
            cast = sql_type(kind)
            picks.append(f"CAST({value} AS {cast}) AS {quote_name('p:' + name)}")
        for score in self.query.contact_scores:
            picks.append(f"s.{quote_name(score)} AS {quote_name('s:' + score)}")
            picks.append(f"s.{quote_name(score + ':label')} AS {quote_name('l:' + score)}")
        self.duck.execute(f"""
            CREATE TEMPORARY TABLE ls_members AS
            WITH d AS (SELECT c.*, {explicit} AS ls_explicit, {domain} AS ls_domain
                       FROM read_parquet({contacts}, union_by_name = true) AS c)
            SELECT {company} AS company_id,
                   c.contact_id{''.join(', ' + p for p in picks)}
            FROM d AS c LEFT JOIN read_parquet({scores}, union_by_name = true) AS s
                ON s.contact_id = c.contact_id
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


def _parquet_list(paths: Any) -> str:
    return "[" + ", ".join(quote_text(str(p)) for p in paths) + "]"


STATE_PREFIX = "company_run:"
DUE_REASON = "its company's score changed"
LIST_DUE_REASON = "its company joined or left a company list"


def score_companies(store: Store, model: Model, *, as_of: datetime | None = None,
                    write: bool = True, read_by_contacts: frozenset[str] = frozenset(),
                    incremental: bool = False, lists: ListSet | None = None) -> CompanyRun:
    """Score every company as of `as_of` (now); with `write`, store what changed (scores,
    history, membership: `storage.company_writes`) and the run's marks. The results stay in
    DuckDB: only the label counts and the changes reach Python. `read_by_contacts`: the
    company scores that the project's lists, workflows and stage rules read
    (`company_score:`); the contacts of a company whose value or label of one of them changed
    (before and after the run) — and the contacts that joined, moved or left a company —
    become due for `process` in the same transaction. `lists`: the project's lists, whose
    company lists (`of: companies`) are computed after the scores, for the companies the
    run scored (`storage.company_lists`).

    `incremental` (a `score` at the present moment): only the companies whose scores can have
    changed since the model's last company run (`scoring.company_scope`), when that can be
    told; the stored scores of the others are what a full run would give."""
    from leadscore.scoring.company_scope import changed_contacts, scope_marks
    from leadscore.storage.companies import company_mark
    from leadscore.storage.company_lists import company_lists_outdated, store_company_lists
    from leadscore.storage.company_writes import store_company_results
    from leadscore.storage.schedule import make_due
    from leadscore.storage.state import read_state, write_state

    started = time.perf_counter()
    now = datetime.now(UTC)
    moment = as_of or now
    as_of_us, computed_us = to_micros(moment), to_micros(now)
    run = CompanyRun(model.name, moment)
    names = list(model.companies.scores) if model.companies is not None else []
    require_companies(model)
    with store.read() as connection:  # before reading: what comes later, the next run sees
        mark, marks = company_mark(connection), scope_marks(connection)
        found = read_state(connection, STATE_PREFIX + model.name)
        # the lists file's company lists changed: every company is tested against them again
        relisted = company_lists_outdated(connection, model.name, lists)
    changed = None
    if incremental and write and as_of is None and not relisted:
        changed = changed_contacts(store, model, found[1] if found else None, as_of_us, mark)
    run.full = changed is None
    state = {"digest": model.digest, "version": model.published, "mark": mark,
             "as_of_us": as_of_us, **marks.to_dict()}
    if changed is not None and not changed:  # nothing any company reads changed
        with store.write() as writer:
            write_state(writer.connection, STATE_PREFIX + model.name, computed_us, state)
        run.seconds = time.perf_counter() - started
        return run
    with tempfile.TemporaryDirectory(prefix="leadscore-companies-") as folder:
        inputs = CompanyInputs(store, model, as_of_us, Path(folder), changed=changed)
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
                    changes = store_company_results(
                        writer.connection, duck, model.name, names, version=model.published,
                        as_of_us=as_of_us, computed_us=computed_us, read=read_by_contacts,
                        companies=inputs.companies, contacts=inputs.contacts)
                    run.changed, run.changed_companies = changes.values, changes.companies
                    if changes.due:
                        make_due(writer.connection, changes.due, moment, DUE_REASON)
                    listed = store_company_lists(writer.connection, duck, model, lists,
                                                 evaluated=inputs.companies,
                                                 as_of_us=as_of_us, read=read_by_contacts)
                    if listed.due:
                        make_due(writer.connection, listed.due, moment, LIST_DUE_REASON)
                    run.lists = listed.members
                    run.due = len({*changes.due, *listed.due})
                    run.due_contacts = changes.due
                    write_state(writer.connection, STATE_PREFIX + model.name, computed_us,
                                state)
        finally:
            inputs.close()
    run.seconds = time.perf_counter() - started
    return run
