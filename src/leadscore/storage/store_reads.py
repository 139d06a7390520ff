"""The store's reads — snapshots, scores, stages, counts, leads, lists, tasks, API keys and
exports — and the small writes beside them, as the `Store`'s methods: each one consistent read
(or one transaction) through the module that owns its SQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.catalog import Catalog, PropertyDef
from leadscore.catalog.forms import from_micros
from leadscore.evaluation.snapshot import ContactSnapshot, EventRecord, PropertyChange
from leadscore.storage import changes, current, leads, snapshots
from leadscore.storage.leads import LeadPage, LeadQuery
from leadscore.storage.records import StageChange, StoredScore
from leadscore.storage.views import DataView

if TYPE_CHECKING:
    from leadscore.storage.writer import Writer

CHUNK = 5_000


class StoreReads:
    """Reads of a `Store` (mixed into it): the connections come from its `read`, `read_raw`,
    `read_statement` and `write`."""

    dialect: str

    if TYPE_CHECKING:
        def read(self) -> AbstractContextManager[Any]: ...

        def read_raw(self) -> AbstractContextManager[Any]: ...

        def read_statement(self) -> AbstractContextManager[Any]: ...

        def write(self, *, exclusive: bool = True) -> AbstractContextManager[Writer]: ...

    def existing_contact_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(ids))
        found: set[str] = set()
        # one statement for up to CHUNK ids (every API batch): no transaction around it
        with (self.read_statement() if len(wanted) <= CHUNK else self.read_raw()) as connection:
            mark = "?" if self.dialect == "sqlite" else "%s"
            for start in range(0, len(wanted), CHUNK):
                part = wanted[start:start + CHUNK]
                found.update(row[0] for row in connection.exec_driver_sql(
                    f"SELECT contact_id FROM contacts WHERE contact_id IN "
                    f"({', '.join([mark] * len(part))})", tuple(part)))
        return found

    def load_snapshots(self, as_of: datetime, *,
                       catalog: Catalog | Mapping[str, PropertyDef] | None = None,
                       contact_ids: Iterable[str] | None = None,
                       batch_size: int = 5000) -> Iterator[ContactSnapshot]:
        """Contacts created at or before `as_of` (all, or `contact_ids`), as of `as_of`.

        Only property changes and events at or before `as_of` are seen. Declared properties
        (`catalog`: a model's, default the standard one) read through their types; a stored
        value that does not fit its type is unknown; undeclared ones keep their JSON value.
        """
        with self.read_raw() as connection:
            yield from snapshots.load_snapshots(
                connection, as_of, catalog=catalog, contact_ids=contact_ids,
                batch_size=batch_size,
            )

    def load_contact(self, contact_id: str, *,
                     catalog: Catalog | Mapping[str, PropertyDef] | None = None,
                     ) -> tuple[str | None, datetime, list[PropertyChange],
                                list[EventRecord]] | None:
        """(email, created_at, every property change, every event) of one contact, or None."""
        with self.read_raw() as connection:
            return snapshots.load_contact(connection, contact_id, catalog=catalog)

    def current_scores(self, model: str | None = None) -> list[StoredScore]:
        """Every stored current score (of one model, or all), by model, score and contact."""
        with self.read_raw() as connection, DataView(connection) as view:
            return current.stored_scores(view, model)

    def score_history(self, contact_id: str, model: str | None = None) -> list[StoredScore]:
        """Every recorded change of the contact's scores, oldest first."""
        with self.read_raw() as connection, DataView(connection) as view:
            return current.score_history(view, contact_id, model)

    def stage_history(self, contact_id: str) -> list[StageChange]:
        with self.read_raw() as connection, DataView(connection) as view:
            rows = view.rows_of("stage_changes", contact_id, "changed_us, seq")
        return [StageChange(cid, stage, previous, from_micros(changed), cause)
                for _seq, cid, stage, previous, changed, cause in rows]

    def current_stage(self, contact_id: str) -> str | None:
        """The contact's lifecycle stage now (None: none, or no such contact)."""
        with self.read_raw() as connection:
            return changes.current_stage(connection, contact_id)

    def current_stages(self) -> dict[str, str | None]:
        """Every contact's lifecycle stage now (None: none)."""
        with self.read_raw() as connection, DataView(connection) as view:
            return current.stages(view)

    def stage_counts(self) -> dict[str | None, int]:
        with self.read_raw() as connection, DataView(connection) as view:
            return current.stage_counts(view)

    def counts(self, model: str | None = None, *, scored: int | None = None
               ) -> dict[str, Any]:
        """contacts, events, property_changes, scored (contacts with a score under `model`,
        else any) and last_computed_at. `scored`, when the caller knows it, is taken as is."""
        with self.read_raw() as connection, DataView(connection) as view:
            return current.counts(view, model, scored=scored)

    def lead_page(self, query: LeadQuery) -> LeadPage:
        """A page of leads, filtered, sorted and cut in the store."""
        with self.read_raw() as connection, DataView(connection) as view:
            return leads.lead_page(view, query)

    # what the automation wrote (storage.automation_reads) ----------------------------------
    def list_member_counts(self) -> dict[str, int]:
        from leadscore.storage.automation_reads import list_member_counts

        with self.read() as connection:
            return list_member_counts(connection)

    def list_members(self, name: str, limit: int | None,
                     after: tuple[datetime, str] | None = None) -> Any:
        from leadscore.storage.automation_reads import list_members

        with self.read() as connection:
            return list_members(connection, name, limit, after)

    def task_page(self, owner: str | None, limit: int | None, after: int | None = None) -> Any:
        from leadscore.storage.automation_reads import task_page

        with self.read() as connection:
            return task_page(connection, owner, limit, after)

    def complete_task(self, task_id: int) -> str | None:
        """Mark a follow-up task done; its status before (None: no such task)."""
        from leadscore.storage.task_writes import complete_task

        with self.write() as writer:
            return complete_task(writer.connection, task_id)

    # API keys (storage.api_keys) ------------------------------------------------------------
    def add_api_key(self, *, prefix: str, digest: str, name: str | None,
                    scopes: tuple[str, ...], now: datetime) -> Any:
        from leadscore.storage.api_keys import add_key

        with self.write() as writer:
            return add_key(writer.connection, prefix=prefix, digest=digest, name=name,
                           scopes=scopes, now=now)

    def api_keys(self) -> list[Any]:
        from leadscore.storage.api_keys import all_keys

        with self.read() as connection:
            return all_keys(connection)

    def api_key_by_hash(self, digest: str) -> Any:
        from leadscore.storage.api_keys import key_by_hash

        with self.read_statement() as connection:  # on every request: the driver, no pool
            return key_by_hash(connection, digest, "?" if self.dialect == "sqlite" else "%s")

    def revoke_api_key(self, key_id: int, now: datetime) -> Any:
        from leadscore.storage.api_keys import revoke_key

        with self.write() as writer:
            return revoke_key(writer.connection, key_id, now)

    def automation_timeline(self, contact_id: str) -> list[Any]:
        from leadscore.storage.automation_reads import automation_timeline

        with self.read() as connection:
            return automation_timeline(connection, contact_id)

    def export_parquet(self, folder: Path, plan: Any,
                       progress: Any = None) -> list[Any]:
        """Write the store's data as Parquet files (`storage.export`); one consistent read."""
        from leadscore.storage.export import export_parquet

        with self.read_raw() as connection, DataView(connection) as view:
            return export_parquet(view, folder, plan, progress)

    def score_statistics(self, model: str, scores: list[str]) -> dict[str, Any]:
        with self.read_raw() as connection, DataView(connection) as view:
            return leads.score_statistics(view, model, scores)

    def contact_emails(self, ids: Iterable[str]) -> dict[str, str | None]:
        wanted = sorted(set(ids))
        found: dict[str, str | None] = {}
        with self.read_raw() as connection:
            mark = "?" if self.dialect == "sqlite" else "%s"
            for start in range(0, len(wanted), CHUNK):
                part = wanted[start:start + CHUNK]
                found.update({cid: email for cid, email in connection.exec_driver_sql(
                    f"SELECT contact_id, email FROM contacts WHERE contact_id IN "
                    f"({', '.join([mark] * len(part))})", tuple(part))})
        return found
