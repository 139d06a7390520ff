"""The store's care: backups and restores, a contact's data (export, erasure) and retention.

Mixed into `Project`; each operation is one method, and the command line only calls it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadscore.project.config import ProjectConfig
    from leadscore.storage import Store
    from leadscore.storage.backup import BackupReport, RestoreReport


class CareOperations:
    """Mixed into `Project`, which gives these parts."""

    if TYPE_CHECKING:
        config: ProjectConfig

        @property
        def store(self) -> Store: ...
        def close(self) -> None: ...

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
