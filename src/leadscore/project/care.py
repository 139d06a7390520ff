"""The store's care: backups and restores, a contact's data (export, erasure) and retention.

Mixed into `Project`; each operation is one method, and the command line only calls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.diagnostics import LeadscoreError, Location

if TYPE_CHECKING:
    from leadscore.project.config import ProjectConfig
    from leadscore.scoring import ScoreRun
    from leadscore.storage import Store
    from leadscore.storage.backup import BackupReport, RestoreReport
    from leadscore.storage.privacy import Erasure, Retention


@dataclass(frozen=True)
class RetentionResult:
    retention: Retention
    rescored: int  # contacts the score run after it scored


class CareOperations:
    """Mixed into `Project`, which gives these parts."""

    if TYPE_CHECKING:
        config: ProjectConfig

        @property
        def store(self) -> Store: ...
        def close(self) -> None: ...
        def score(self) -> ScoreRun: ...

    def maintain(self) -> None:
        """Tidy the embedded store: fold grown tails into segments, merge many segments, fold
        score patches, mirror the contacts, refresh the values cache, remove old files — each
        only when due (`storage.maintenance`). Nothing to do on PostgreSQL."""
        from leadscore.storage.maintenance import maintain

        maintain(self.store)

    def keep_segment_rows(self) -> None:
        """Keep the embedded store's segment rows of the contacts read in memory
        (`storage.segment_rows`): for a long-running process that reads a few contacts at a
        time, again and again — the worker beside `leadscore serve`."""
        self.store.keep_segment_rows()

    def backup(self, file: str | Path) -> BackupReport:
        """A consistent backup of the embedded store in one file (while others write);
        PostgreSQL: LS298 with pg_dump guidance."""
        from leadscore.storage.backup import backup_store

        return backup_store(self.config.store_url, Path(file))

    def restore(self, file: str | Path) -> RestoreReport:
        """Replace the embedded store with a backup, once the backup is read whole and
        checked (the replaced store is moved aside, not removed). Stop the worker first."""
        from leadscore.storage.backup import restore_store

        self.close()
        return restore_store(self.config.store_url, Path(file))

    # a contact's data ---------------------------------------------------------------------
    def export_contact(self, contact_id: str) -> dict[str, Any]:
        """Everything the store holds about one contact, as JSON-ready data."""
        from leadscore.storage.privacy import contact_data

        found = contact_data(self.store, contact_id)
        if found is None:
            raise _no_contact(contact_id)
        return found

    def erase_contact(self, contact_id: str) -> Erasure:
        """Remove the contact and everything about it from the store (tables, segments, files
        the store keeps); only a record without personal data stays (SHA-256 of the id, time)."""
        from leadscore.storage.privacy import erase_contact

        if not self.store.existing_contact_ids([contact_id]):
            raise _no_contact(contact_id)
        return erase_contact(self.store, contact_id)

    # retention ----------------------------------------------------------------------------
    def apply_retention(self, *, days: int | None = None,
                        now: datetime | None = None) -> RetentionResult:
        """Remove events older than `days` (default: `[retention] events_days`), then rescore
        the contacts that lost events (an incremental score run) and make them due."""
        from leadscore.storage.privacy import drop_events_before
        from leadscore.storage.schedule import mark_changed_due

        days = days if days is not None else self.config.retention_events_days
        if days is None or days < 1:
            raise LeadscoreError.single(
                "LS339", "no retention period: events_days is not set" if days is None else
                f"a retention period of {days} days", Location(field="retention.events_days"),
                hint="set [retention] events_days = N (a whole number of days, at least 1) "
                     "in leadscore.toml")
        before = (now or datetime.now(UTC)) - timedelta(days=days)
        with mark_changed_due(self.store, "retention"):
            dropped = drop_events_before(self.store, before)
        rescored = self.score().contacts if dropped.contacts else 0
        return RetentionResult(dropped, rescored)


def _no_contact(contact_id: str) -> LeadscoreError:
    return LeadscoreError.single("LS310", f"no contact '{contact_id}' in the store",
                                 Location(field="contact"),
                                 hint="`leadscore leads` lists contact ids")
