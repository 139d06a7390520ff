"""Companies (accounts) as calls: import them, score them after the contacts, list them
ranked, show one, explain one — for the command line, the HTTP API and the web app alike.

Company scores are stored per model like contact scores, with the model version that
computed them; `leadscore score` computes them after the contact scores (`Project.score`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.catalog.forms import from_micros
from leadscore.diagnostics import LeadscoreError, Location

if TYPE_CHECKING:
    from leadscore.evaluation.company import CompanyResult
    from leadscore.ingestion.importer import ImportReport
    from leadscore.model import Model
    from leadscore.scoring.companies import CompanyRun
    from leadscore.storage import Store


@dataclass
class CompanyRow:
    """A scored company in a ranked list."""

    company_id: str
    name: str | None
    domain: str | None
    contacts: int
    scores: dict[str, float]
    labels: dict[str, str | None]
    model_version: int | None = None
    computed_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"company_id": self.company_id, "name": self.name, "domain": self.domain,
                "contacts": self.contacts,
                "scores": {n: {"value": v, "label": self.labels.get(n)}
                           for n, v in self.scores.items()},
                "model_version": self.model_version,
                "computed_at": self.computed_at.isoformat() if self.computed_at else None}


@dataclass
class CompanyListMember:
    company: CompanyRow
    joined_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**self.company.to_dict(), "joined_at": self.joined_at.isoformat()}


@dataclass
class CompanyListPage:
    name: str
    members: list[CompanyListMember]
    total: int
    cursor: str | None = None  # the next page's, when this one was full


@dataclass
class CompanyDetail:
    row: CompanyRow | None  # None: known, not scored yet
    company_id: str
    properties: dict[str, Any]
    property_history: list[dict[str, Any]] = field(default_factory=list)
    score_history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"company_id": self.company_id, "properties": self.properties,
                "scored": self.row.to_dict() if self.row else None,
                "property_history": self.property_history,
                "score_history": self.score_history}


@dataclass
class CompanyExplanation:
    """Every company rule's verdict, the contacts it read, and the stored values beside."""

    result: CompanyResult
    model: str
    contacts: list[dict[str, Any]]
    stored: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {**self.result.to_dict(), "model": self.model, "members": self.contacts,
                "stored": self.stored}

    def render_text(self, *, only_matched: bool = False) -> str:
        result = self.result
        lines = [f"Company {result.company_id} under model {self.model} "
                 f"({result.contacts} contact{'s' if result.contacts != 1 else ''})"]
        for name, value in result.values.items():
            label = result.labels.get(name)
            stored = self.stored.get(name)
            beside = "" if stored is None or stored == value else f" (stored: {stored:g})"
            lines.append(f"  {name}: {value:g}" + (f" {label}" if label else "") + beside)
            for verdict in result.rules:
                if verdict.score != name or (only_matched and not verdict.matched):
                    continue
                mark = "✓" if verdict.matched else "✗"
                lines.append(f"    {mark} {verdict.rule}: {verdict.points:+g} — "
                             f"{verdict.reason}")
                lines += [f"        {d}" for d in verdict.details]
        return "\n".join(lines)


class CompanyOperations:
    """Mixed into `Project`, which gives `store`, `model` and `_input`."""

    if TYPE_CHECKING:
        @property
        def store(self) -> Store: ...
        @property
        def model(self) -> Model: ...
        def _input(self, path: Any) -> Any: ...

    def import_companies(self, path: str | Path, *, mapping: str | Path | None = None,
                         delimiter: str | None = None,
                         model: Model | None = None) -> ImportReport:
        """Companies and their properties from a CSV or JSONL file (history is kept;
        importing the same file again changes nothing)."""
        from leadscore.companies.catalog import CompanyCatalog
        from leadscore.ingestion import load_mapping
        from leadscore.ingestion.companies import import_companies
        from leadscore.ingestion.contacts import CsvOptions
        from leadscore.ingestion.delimiters import parse_delimiter

        model = model or self.model
        catalog = model.companies.catalog if model.companies is not None else CompanyCatalog()
        path, mapping = self._input(path), self._input(mapping)
        loaded = load_mapping(mapping) if mapping else None
        return import_companies(self.store, path, catalog=catalog, mapping=loaded,
                                options=CsvOptions(parse_delimiter(delimiter)))

    def score_companies(self, *, model: Model | None = None, as_of: datetime | None = None,
                        write: bool = True, incremental: bool = False) -> CompanyRun:
        """Company scores from the contacts' stored scores and current values (`leadscore
        score` runs this after scoring contacts; `incremental`: only the companies whose
        contacts changed since the last run, when that can be told)."""
        from leadscore.scoring.companies import score_companies

        model = model or self.model
        return score_companies(self.store, model, as_of=as_of, write=write,
                               read_by_contacts=self.company_reads(model),
                               incremental=incremental, lists=self._lists_or_none())

    def _lists_or_none(self) -> Any:
        """The project's lists (for its company lists), or None without a lists file or
        when it does not load (the worker and `validate` report the file)."""
        try:
            return self.lists  # type: ignore[attr-defined]
        except LeadscoreError:
            return None

    def company_reads(self, model: Model) -> frozenset[str]:
        """The company scores the stage rules, lists and workflows read (`company_score:`):
        when one of them changes for a company, its contacts become due for `process`. With
        a lists or workflows file that does not load, every company score (the worker will
        report the file)."""
        from leadscore.automation.company_context import company_scores_read

        if model.companies is None:
            return frozenset()
        try:
            lists = self.lists  # type: ignore[attr-defined]
            return company_scores_read(model, lists, self.workflows(lists))  # type: ignore
        except LeadscoreError:
            return frozenset(model.companies.scores)  # (no company list: none loaded)

    def company_list_counts(self, *, model: Model | None = None
                            ) -> list[tuple[str, int, str]]:
        """(company list, members, description) of every company list (`of: companies`)."""
        from leadscore.storage.company_lists import company_list_counts

        model = model or self.model
        lists = self.lists.company_lists  # type: ignore[attr-defined]
        if not lists:
            return []
        with self.store.read() as connection:
            counts = company_list_counts(connection, model.name)
        return [(name, counts.get(name, 0), item.description or "")
                for name, item in lists.items()]

    def company_list_members(self, name: str, *, limit: int | None = 50,
                             cursor: str | None = None,
                             model: Model | None = None) -> CompanyListPage:
        """The newest members of a company list (each with its name, domain and stored
        scores), and how many it has; `cursor`: the page after the one that gave it."""
        from leadscore.diagnostics import did_you_mean
        from leadscore.project.service_api import (
            bad_cursor,
            decode_page_cursor,
            encode_page_cursor,
        )
        from leadscore.storage.company_lists import company_list_page

        model = model or self.model
        lists = self.lists.company_lists  # type: ignore[attr-defined]
        if name not in lists:
            raise LeadscoreError.single(
                "LS162", f"no company list named '{name}'", Location(field="list"),
                hint=did_you_mean(name, lists) or ("company lists: " + ", ".join(lists)
                                                   if lists else "no list is of companies"))
        after = None
        if cursor is not None:
            found_cursor = decode_page_cursor(cursor)
            try:
                after = (int(found_cursor[0]), str(found_cursor[1]))
            except (TypeError, ValueError, IndexError, KeyError):
                raise bad_cursor(cursor) from None
        with self.store.read() as connection:
            rows, total = company_list_page(connection, model.name, name, limit, after)
        found = {r.company_id: r for r in self._company_rows(model, [c for c, _ in rows])}
        members = [CompanyListMember(found.get(c) or CompanyRow(c, None, None, 0, {}, {}),
                                     from_micros(j)) for c, j in rows]
        more = (encode_page_cursor([rows[-1][1], rows[-1][0]])
                if limit and len(rows) == limit else None)
        return CompanyListPage(name, members, total, more)

    def companies(self, *, model: Model | None = None, label: str | None = None,
                  sort: str | None = None, limit: int | None = 25) -> list[CompanyRow]:
        """Scored companies, best first by `sort` (default: the last company score), only
        those whose ranking score has `label` when given."""
        model = model or self.model
        companies = _require(model)
        sort = sort or companies.primary_score.name
        if sort not in companies.scores:
            from leadscore.diagnostics import did_you_mean

            raise LeadscoreError.single(
                "LS381", f"no company score named '{sort}'", Location(field="--sort"),
                text=sort, hint=did_you_mean(sort, companies.scores)
                or "company scores: " + ", ".join(companies.scores))
        from leadscore.storage.companies import ranked_scores

        with self.store.read() as connection:
            ids = ranked_scores(connection, model.name, sort, label=label, limit=limit)
        found = {r.company_id: r for r in self._company_rows(model, ids)}
        return [found[i] for i in ids if i in found]

    def company(self, company_id: str, *, model: Model | None = None) -> CompanyDetail:
        """One company: its properties and their history, its stored scores and their
        history."""
        from leadscore.storage.companies import property_history, score_history

        model = model or self.model
        _require(model)
        rows = {r.company_id: r for r in self._company_rows(model, [company_id])}
        with self.store.read() as connection:
            changes = property_history(connection, company_id)
            scores = score_history(connection, model.name, company_id)
        if not changes and company_id not in rows:
            raise _unknown(company_id)
        current: dict[str, Any] = {}
        for name, value, _, _ in changes:
            current[name] = value
        return CompanyDetail(
            rows.get(company_id), company_id,
            {k: v for k, v in current.items() if v is not None},
            [{"name": n, "value": v, "changed_at": from_micros(t).isoformat(), "source": s}
             for n, v, t, s in changes],
            [{"score": s, "value": v, "label": lbl, "model_version": ver,
              "computed_at": from_micros(t).isoformat()} for s, v, lbl, ver, t in scores])

    def explain_company(self, company_id: str, *, model: Model | None = None,
                        at: datetime | None = None) -> CompanyExplanation:
        """Every company rule: whether it matched, why and its points, from the company's
        properties as of `at` and its contacts' current values and stored scores — the
        contacts it had when companies were last scored (every contact grouped now, when it
        was never scored)."""
        import tempfile

        from leadscore.catalog.forms import to_micros
        from leadscore.evaluation.company import CompanyInput, CompanyScorer, Member
        from leadscore.scoring.companies import CompanyInputs
        from leadscore.storage.companies import members_of

        model = model or self.model
        companies = _require(model)
        moment = to_micros(at or datetime.now().astimezone())
        with self.store.read() as connection:  # its contacts when companies were last scored
            known = members_of(connection, model.name, company_id)
        with tempfile.TemporaryDirectory(prefix="leadscore-company-") as folder:
            inputs = CompanyInputs(self.store, model, moment, Path(folder), contact_ids=known,
                                   company_ids=[company_id])
            try:
                rows = inputs.members_of(company_id)
                values = inputs.values.get(company_id)
            finally:
                inputs.close()
        if values is None and not rows:
            raise _unknown(company_id)
        members = []
        for row in rows:
            props = {k[2:]: v for k, v in row.items() if k.startswith("p:") and v is not None}
            for name, (kind, _) in inputs.query.contact_properties.items():
                if kind.value == "date" and props.get(name) is not None:
                    props[name] = from_micros(props[name])
            scores = {k[2:]: (v, row.get("l:" + k[2:])) for k, v in row.items()
                      if k.startswith("s:")}
            members.append(Member(row["contact_id"], props, scores, moment))
        result = CompanyScorer(companies).score(
            CompanyInput(company_id, values or {}, members, moment))
        stored = {r.score: r.value for r in self._stored(model, [company_id])}
        shown = [{"contact_id": m.contact_id,
                  "scores": {n: v for n, (v, _) in m.scores.items()}} for m in members]
        return CompanyExplanation(result, model.name, shown, stored)

    # reading -------------------------------------------------------------------------------
    def _stored(self, model: Model, ids: list[str] | None = None) -> list[Any]:
        from leadscore.storage.companies import stored_scores

        with self.store.read() as connection:
            return stored_scores(connection, model.name, ids)

    def _company_rows(self, model: Model, ids: list[str]) -> list[CompanyRow]:
        """The stored scores of these companies, with their names and domains."""
        from leadscore.storage.companies import company_values

        stored = self._stored(model, ids)
        with self.store.read() as connection:
            values = company_values(connection, 2**62, names=["name", "domain"], ids=ids)
        rows: dict[str, CompanyRow] = {}
        for s in stored:
            props = values.get(s.company_id, {})
            row = rows.get(s.company_id)
            if row is None:
                row = rows[s.company_id] = CompanyRow(
                    s.company_id, _text(props.get("name")),
                    _text(props.get("domain")) or (s.company_id if s.company_id not in values
                                                   else None),
                    s.contacts, {}, {}, s.model_version, from_micros(s.computed_us))
            row.scores[s.score], row.labels[s.score] = s.value, s.label
        order = {name: i for i, name in enumerate(model.companies.scores)}
        for row in rows.values():  # in the model's order
            row.scores = dict(sorted(row.scores.items(), key=lambda kv: order.get(kv[0], 99)))
        return list(rows.values())


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _require(model: Model) -> Any:
    from leadscore.scoring.companies import require_companies

    require_companies(model)
    return model.companies


def _unknown(company_id: str) -> LeadscoreError:
    return LeadscoreError.single(
        "LS382", f"no company '{company_id}'", Location(field="company"), text=company_id,
        hint="`leadscore companies` lists scored companies; `leadscore import companies` "
             "adds them (contacts group by their company_id or e-mail domain)")
