"""The Python library: everything the command line does, as calls.

    from leadscore import Project
    project = Project.open("my-project")          # finds leadscore.toml
    project.import_contacts("data/contacts.csv")
    project.import_events("data/events.jsonl")
    run = project.score()                          # scores everyone, moves stages forward
    print(project.explain("c0000042").render_text())
    for lead in project.leads(label="SQL", limit=20): ...
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.diagnostics import LeadscoreError, Location, did_you_mean
from leadscore.project.automation_api import AutomationOperations
from leadscore.project.care import CareOperations
from leadscore.project.company_api import CompanyOperations
from leadscore.project.config import (
    CONFIG_FILE,
    ProjectConfig,
    find_project_root,
    resolve_input,
)
from leadscore.project.ledger_api import LedgerOperations
from leadscore.project.segment_api import SegmentOperations
from leadscore.project.service_api import ServiceOperations
from leadscore.project.versions import VersionOperations
from leadscore.project.web_reads import WebReadOperations
from leadscore.project.web_reports import WebReportOperations
from leadscore.project.web_users import WebUserOperations

if TYPE_CHECKING:  # the parts are imported by the methods that use them: a command loads
    # only what it needs (`leadscore leads` never loads the automation or SQLAlchemy)
    from leadscore.automation import Automation
    from leadscore.delivery import Channels
    from leadscore.evaluation import ContactSnapshot, Explanation, PropertyChange
    from leadscore.ingestion import ImportReport
    from leadscore.ingestion.outcomes import OutcomeImportReport
    from leadscore.lists import ListSet
    from leadscore.model import Model
    from leadscore.scoring import ScoreRun
    from leadscore.storage import Store
    from leadscore.storage.export import Exported
    from leadscore.storage.leads import Lead, LeadPage
    from leadscore.workflows import Workflow

Progress = Callable[[int, int], None]


def open_store(url: str) -> Store:
    """Open (and migrate) a store: `sqlite:///file.db` or `postgresql+psycopg://…`."""
    from leadscore.storage import Store

    return Store.open(url)


def explain_contact(store: Store, model: Model, contact_id: str,
                    at: datetime | None = None) -> Explanation:
    """Every rule's verdict for one contact under `model`, as of `at` (default: now)."""
    from leadscore.evaluation import ContactSnapshot
    from leadscore.evaluation.explanation import explain_snapshot

    as_of = at or datetime.now(UTC)
    loaded = store.load_contact(contact_id, catalog=model.catalog)
    if loaded is None:
        raise LeadscoreError.single("LS310", f"no contact '{contact_id}' in the store",
                                    Location(field="contact"),
                                    hint="`leadscore leads` lists contact ids")
    email, created_at, changes, events = loaded
    if created_at is not None and created_at > as_of:
        raise LeadscoreError.single(
            "LS311", f"contact '{contact_id}' did not exist yet on {as_of:%Y-%m-%d %H:%M}",
            Location(field="at"), hint=f"it was created {created_at:%Y-%m-%d %H:%M} UTC")
    snapshot = ContactSnapshot.build(contact_id, as_of, created_at=created_at,
                                     property_changes=_typed(changes, model),
                                     events=events, ledger=ledger_of(store, contact_id))
    read = _stage_company_scores(model)
    if read:  # stage rules on `company_score:`: the company's stored scores, as processing
        from leadscore.storage.companies import contact_company_scores

        with store.read() as connection:
            snapshot.company_scores = contact_company_scores(
                connection, model.name, [contact_id], read).get(contact_id, {})
    stage = snapshot.properties.get("lifecycle_stage")
    return explain_snapshot(model, snapshot, email=email, stage=stage)


def _stage_company_scores(model: Model) -> frozenset[str]:
    """The company scores the model's stage rules read (`company_score:`)."""
    if model.companies is None:
        return frozenset()
    from leadscore.model.criteria import company_scores_read

    return frozenset(company_scores_read([*model.lifecycle.exclude,
                                          *(x for _, x in model.lifecycle.qualify)]))


def ledger_of(store: Store, contact_id: str) -> list[Any]:
    """The contact's score ledger entries that are not voided."""
    from leadscore.storage.ledger_reads import entries_of

    with store.read_raw() as connection:
        return entries_of(connection, [contact_id]).get(contact_id, [])


def _typed(changes: list[PropertyChange], model: Model) -> list[PropertyChange]:
    """Stored values read as the model declares them; a value that no longer fits is unknown."""
    from leadscore.catalog import CoercionError, coerce_value
    from leadscore.evaluation import PropertyChange

    out = []
    for change in changes:
        definition = model.catalog.property(change.name)
        value = change.value
        if definition is not None and value is not None:
            try:
                value = coerce_value(value, definition.type, options=definition.options)
            except CoercionError:
                value = None
        out.append(PropertyChange(change.name, value, change.changed_at))
    return out


class Project(AutomationOperations, CareOperations, ServiceOperations, SegmentOperations,
              LedgerOperations, VersionOperations, WebUserOperations, WebReadOperations,
              WebReportOperations, CompanyOperations):
    """A project folder (leadscore.toml + model + store), or just a store and a model.

    The import methods look a relative path that does not exist from the current folder up in
    the project folder (`resolve_input`); the command line turns that off, so that its paths are
    relative to where it runs, as in any shell."""

    resolve_inputs = True
    create_store = True  # False: a missing SQLite store is an error (LS294), never made

    def __init__(self, config: ProjectConfig) -> None:
        self.config = config
        self._model: Model | None = None
        self._store: Store | None = None
        self._automation: Automation | None = None
        self._channels: Channels | None = None
        self._lists: tuple[tuple[object, ...], Model, ListSet] | None = None  # file, model →
        self._live_seen: int | None = None  # the live publish the loaded model is
        self._live_checked = 0.0

    @classmethod
    def open(cls, path: str | Path | None = None) -> Project:
        start = Path(path) if path else None
        root = find_project_root(start)
        if root is None:
            where = start or Path.cwd()
            raise LeadscoreError.single(
                "LS300", f"no leadscore project at or above {where}", Location(str(where)),
                hint="run `leadscore init DIR` to create one, or pass --project DIR")
        return cls(ProjectConfig.load(root))

    @classmethod
    def at(cls, store_url: str, model_path: str | Path) -> Project:
        """A project from a store URL and a model file, with no leadscore.toml."""
        return cls(ProjectConfig(Path.cwd(), store_url, Path(model_path)))

    # parts -----------------------------------------------------------------------------------
    @property
    def model(self) -> Model:
        """The live model: the store's live published version, or — until the first
        publish — the project's model file (`project.versions`)."""
        if self._model is None:
            self._model = self._live_model() or self.file_model()
        return self._model

    @property
    def store(self) -> Store:
        if self._store is None:
            from leadscore.storage import Store

            self._store = Store.open(self.config.store_url, create=self.create_store)
        return self._store

    @property
    def store_kind(self) -> str:
        """'sqlite' (the embedded store) or 'postgresql'."""
        return self.store.dialect

    @property
    def store_in_memory(self) -> bool:
        """A SQLite store in memory: held by one connection, so no second `Project` (say,
        the API's event writer) can open it."""
        return self.store.dialect == "sqlite" and self.store.location.database is None

    @property
    def channels(self) -> Channels:
        if self._channels is None:
            from leadscore.delivery import load_channels

            self._channels = load_channels(self.config.data,
                                           source=str(self.config.root / CONFIG_FILE))
        return self._channels

    @property
    def lists(self) -> ListSet:
        from leadscore.lists import ListSet, load_lists

        path = self.config.lists_path
        if not path:
            return ListSet([])
        # read again only when the file or the model changed: a server asks on every request
        # (reading and checking the file took 18 ms of each web page)
        model = self.model
        try:
            found = Path(path).stat()
            key: tuple[object, ...] = (str(path), found.st_mtime_ns, found.st_size)
        except OSError:
            return load_lists(path, model)  # its own read reports the problem, with its place
        if self._lists is None or self._lists[0] != key or self._lists[1] is not model:
            self._lists = (key, model, load_lists(path, model))
        return self._lists[2]

    @property
    def channel_kinds(self) -> dict[str, str]:
        channels = self.channels
        return {**{n: "webhook" for n in channels.webhooks},
                **{n: "email" for n in channels.email}}

    def workflows(self, lists: ListSet | None = None) -> list[Workflow]:
        """The workflows file, checked against the model, lists and delivery channels."""
        from leadscore.workflows import load_workflows

        path = self.config.workflows_path
        if path is None:
            return []
        return load_workflows(path, self.model, lists or self.lists, set(self.channel_kinds))

    @property
    def automation(self) -> Automation:
        """The project's lists and workflows acting on its store (see leadscore.automation)."""
        if self._automation is None:
            from leadscore.automation import Automation

            lists = self.lists
            self._automation = Automation(self.store, self.model, lists, self.workflows(lists),
                                          channel_kinds=self.channel_kinds)
        return self._automation

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # operations ------------------------------------------------------------------------------
    def import_contacts(self, path: str | Path, *, mapping: str | Path | None = None,
                        progress: Progress | None = None, delimiter: str | None = None,
                        order_by_row: tuple[str, str] | None = None) -> ImportReport:
        """Contacts from a CSV (a mapping, `delimiter` — `;`, `tab`, … or detected — and
        `order_by_row` (START, STEP): created_at from the row order) or JSONL file."""
        from leadscore.ingestion import import_contacts, load_mapping
        from leadscore.ingestion.contacts import CsvOptions
        from leadscore.ingestion.delimiters import parse_delimiter
        from leadscore.ingestion.mapping import parse_row_order
        from leadscore.storage.schedule import mark_changed_due

        options = CsvOptions(
            parse_delimiter(delimiter),
            parse_row_order(*order_by_row, Location(field="--order-by-row"))
            if order_by_row else None)
        path, mapping = self._input(path), self._input(mapping)
        loaded = load_mapping(mapping) if mapping else None
        with mark_changed_due(self.store, "import"):
            return import_contacts(self.store, path, catalog=self.model.catalog,
                                   mapping=loaded, progress=progress,
                                   future_tolerance=self.config.future_tolerance,
                                   options=options)

    def import_outcomes(self, path: str | Path, *, mapping: str | Path | None = None,
                        progress: Progress | None = None,
                        delimiter: str | None = None) -> OutcomeImportReport:
        """Outcomes for backtests; opportunities and wins also move lifecycle stages."""
        from leadscore.ingestion import load_mapping
        from leadscore.ingestion.delimiters import parse_delimiter
        from leadscore.ingestion.outcomes import import_outcomes
        from leadscore.storage.schedule import mark_changed_due

        chosen = parse_delimiter(delimiter)
        path, mapping = self._input(path), self._input(mapping)
        loaded = load_mapping(mapping) if mapping else None
        with mark_changed_due(self.store, "outcomes import"):
            return import_outcomes(self.store, path, mapping=loaded, progress=progress,
                                   delimiter=chosen)

    def import_events(self, path: str | Path, *, create_missing_contacts: bool = False,
                      on_conflict: str = "error", progress: Progress | None = None,
                      delimiter: str | None = None) -> ImportReport:
        from leadscore.ingestion import import_events
        from leadscore.ingestion.delimiters import parse_delimiter
        from leadscore.storage.schedule import mark_changed_due

        chosen = parse_delimiter(delimiter)
        path = self._input(path)
        with mark_changed_due(self.store, "import"):
            return import_events(self.store, path, catalog=self.model.catalog,
                                 create_missing_contacts=create_missing_contacts,
                                 on_conflict=on_conflict, progress=progress,
                                 future_tolerance=self.config.future_tolerance,
                                 delimiter=chosen)

    def _input(self, path: Any) -> Any:
        return resolve_input(path, self.config.root) if path and self.resolve_inputs else path

    def score(self, *, as_of: datetime | None = None, model: Model | None = None,
              write: bool = True, full: bool = False, engine: str = "auto",
              keep_results: bool = False, progress: Progress | None = None,
              master: str | None = None) -> ScoreRun:
        """Score contacts as of `as_of` (default now): only those whose scores can have
        changed since the model's last run, unless `full` (or another moment) — everyone.
        With `write`, store the scores (history kept on change) and move lifecycle stages
        forward. `engine`: auto (DuckDB for the embedded store, PostgreSQL in the database),
        python (the reference evaluator), spark. A model with a `companies:` section then
        scores the companies (`score_companies`) from the stored contact scores — after an
        incremental run, only the companies whose contacts changed."""
        from leadscore.scoring import score_store

        model = model or self.model
        run = score_store(self.store, model, as_of=as_of, write=write, full=full,
                          engine=engine, keep_results=keep_results, progress=progress,
                          master=master)
        if write and model.companies is not None:  # companies after their contacts: only
            # those whose contacts changed since, unless everyone was scored
            run.companies = self.score_companies(model=model, as_of=as_of,
                                                 incremental=not run.full)
            restage = run.companies.due_contacts
            if restage and _stages_read_company_scores(model):
                # stage rules read the company scores just stored: the contacts whose
                # company's scores changed are scored again, and their stages move now
                again = score_store(self.store, model, as_of=as_of, write=True,
                                    engine=engine, master=master, only=restage)
                run.stage_moves.update(again.stage_moves)
                run.changed += again.changed
        return run

    def explain(self, contact_id: str, *, at: datetime | None = None,
                model: Model | None = None) -> Explanation:
        """Every rule's verdict for the contact as of `at` (default now), under `model` —
        by default the model live then: the version published at `at`, so that "why did C
        score that on March 1st" is answered under the rules that scored it."""
        return explain_contact(self.store, model or self.model_at(at), contact_id, at)

    def leads(self, *, model: Model | None = None, label: str | None = None,
              stage: str | None = None, grade: str | None = None,
              min_scores: dict[str, float] | None = None, limit: int | None = None,
              sort: str | None = None) -> list[Lead]:
        """Scored contacts, best first, filtered by the primary score's label, stage, grade
        and minimum scores (e.g. {"fit": 30})."""
        return self.leads_page(model=model, label=label, stage=stage, grade=grade,
                               min_scores=min_scores, limit=limit, sort=sort).leads

    def leads_page(self, *, model: Model | None = None, label: str | None = None,
                   stage: str | None = None, grade: str | None = None,
                   min_scores: dict[str, float] | None = None, limit: int | None = 25,
                   sort: str | None = None, after: str | None = None,
                   owner: str | None = None, in_list: str | None = None,
                   search: str | None = None) -> LeadPage:
        """A page of leads (`limit` of them) and the cursor of the next page (`after`);
        `owner`: only contacts whose owner property this is (ignoring case); `in_list`: only
        the list's members; `search`: a part of the e-mail or name, or the contact id."""
        model = model or self.model
        if in_list is not None and in_list not in self.lists:
            raise LeadscoreError.single("LS162", f"no list named '{in_list}'",
                                        Location(field="list"), text=in_list,
                                        hint=did_you_mean(in_list, self.lists.lists))
        page = list_leads(self.store, model, label=label, stage=stage, grade=grade,
                          min_scores=min_scores, limit=limit, sort=sort, after=after,
                          owner=owner, in_list=in_list, search=search)
        calibration = model.primary_score.probability
        if calibration is not None:  # the model's calibrated probability of converting
            for lead in page.leads:
                value = lead.scores.get(model.primary_score.name)
                if value is not None:
                    lead.probability = round(calibration.of(value), 6)
        return page

    def context_snapshot(self, contact_id: str, at: datetime | None = None) -> ContactSnapshot:
        """The contact as of `at` (default now) with its computed scores, for testing lists
        and workflow conditions against it."""
        from leadscore.evaluation import Scorer

        moment = at or datetime.now(UTC)
        found = next(iter(self.store.load_snapshots(moment, catalog=self.model.catalog,
                                                    contact_ids=[contact_id])), None)
        if found is None:
            raise LeadscoreError.single("LS310", f"no contact '{contact_id}' in the store at "
                                        f"{moment:%Y-%m-%d %H:%M}", Location(field="contact"))
        result = Scorer(self.model).score(found)
        found.set_scores(result)
        companies = self.model.companies
        if companies is not None:  # for `company_score:` conditions: its company's scores
            from leadscore.automation.company_context import attach_company_scores
            from leadscore.model.criteria import company_list_key

            try:  # and the company lists it is in (`company_list:`)
                listed = {company_list_key(name) for name in self.lists.company_lists}
            except LeadscoreError:
                listed = set()
            with self.store.read() as connection:
                attach_company_scores(connection, self.model, [found],
                                      frozenset(companies.scores) | listed)
        return found

    def export_parquet(self, folder: str | Path, *, tables: list[str] | None = None,
                       model: Model | None = None,
                       progress: Progress | None = None) -> list[Exported]:
        """Write contacts (current values, typed as the model declares them), property history,
        events and the model's scores as Parquet files in `folder` (`storage.export`)."""
        from leadscore.storage.export import TABLES, ExportPlan

        chosen = list(dict.fromkeys(tables or TABLES))
        for table in chosen:
            if table not in TABLES:
                raise LeadscoreError.single(
                    "LS337", f"unknown table '{table}' to export", Location(field="--only"),
                    text=table, hint=did_you_mean(table, TABLES) or "tables: "
                    + ", ".join(TABLES))
        target = Path(folder)
        if target.exists() and not target.is_dir():
            raise LeadscoreError.single(
                "LS338", f"{target} is a file; export writes a folder of Parquet files",
                Location(file=str(target)), hint="name a folder (it is made if missing)")
        model = model or self.model
        plan = ExportPlan(tuple(chosen), model.name, tuple(model.scores), model.catalog)
        return self.store.export_parquet(target, plan, progress)

    def stats(self, *, model: Model | None = None) -> dict[str, Any]:
        return store_stats(self.store, model or self.model)

    def dry_run(self, model: Model, *, contacts: str | Path | None = None,
                events: str | Path | None = None, as_of: datetime | None = None,
                mapping: str | Path | None = None, engine: str = "auto",
                out: str | Path | None = None, keep: int = 10,
                master: str | None = None) -> ScoreRun:
        """Score a (draft) model without touching the project's store: on the given files
        (read as an import would read them; nothing is stored), or, with no files, on the
        store's data without writing anything."""
        if contacts is None and events is None:
            return self.score(as_of=as_of, model=model, write=False, keep_results=True,
                              engine=engine)
        if engine == "spark":
            from leadscore.scoring.spark import score_files_spark

            return score_files_spark(model, events=Path(events) if events else None,
                                     contacts=Path(contacts) if contacts else None,
                                     as_of=as_of, out=Path(out) if out else None, keep=keep,
                                     master=master or "local[2]")
        from leadscore.ingestion import load_mapping
        from leadscore.scoring.files import score_files

        return score_files(model, events=Path(events) if events else None,
                           contacts=Path(contacts) if contacts else None, as_of=as_of,
                           out=Path(out) if out else None, keep=keep,
                           mapping=load_mapping(mapping) if mapping else None)


def list_leads(store: Store, model: Model, *, label: str | None = None,
               stage: str | None = None, grade: str | None = None,
               min_scores: dict[str, float] | None = None, limit: int | None = None,
               sort: str | None = None, after: str | None = None,
               owner: str | None = None, in_list: str | None = None,
               search: str | None = None) -> LeadPage:
    """A page of scored contacts, best first, filtered and sorted in the store."""
    from leadscore.project.filters import check_lead_filters
    from leadscore.storage.leads import LeadQuery, decode_cursor

    check_lead_filters(model, label=label, stage=stage, grade=grade)
    primary = model.primary_score.name
    sort_by = sort or primary
    for name in [sort_by, *(min_scores or {})]:
        if name not in model.scores:
            raise LeadscoreError.single(
                "LS312", f"model {model.name} has no score '{name}'", Location(field="score"),
                hint=did_you_mean(name, model.scores) or "scores: " + ", ".join(model.scores))
    if after is not None:
        try:
            decode_cursor(after)
        except ValueError:
            raise LeadscoreError.single(
                "LS315", "this cursor was not given by leadscore", Location(field="after"),
                text=after[:40], hint="pass the cursor the previous page ended with") from None
    query = LeadQuery(model.name, list(model.scores), sort_by, primary, label=label,
                      stage=stage, grade=grade, min_scores=dict(min_scores or {}),
                      limit=limit, after=after, owner=owner, in_list=in_list,
                      search=search or None)
    return store.lead_page(query)


def _stages_read_company_scores(model: Model) -> bool:
    from leadscore.model.criteria import company_scores_read

    return bool(company_scores_read([*model.lifecycle.exclude,
                                     *(x for _, x in model.lifecycle.qualify)]))


def store_stats(store: Store, model: Model) -> dict[str, Any]:
    found = store.score_statistics(model.name, list(model.scores))
    counts = store.counts(model.name, scored=max(
        (sum(v.values()) for v in found["labels"].values()), default=0))
    return {
        "counts": counts,
        "stages": {k or "none": v for k, v in store.stage_counts().items()},
        "labels": found["labels"],
        "grades": found["grades"],
        "scores": found["scores"],
        # per score, the contacts it is unscored for (no rule applied, no ledger entry)
        "unscored": found.get("unscored", {}),
        "model": model.name,
    }
