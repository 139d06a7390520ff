"""backup / restore (and the contact and retention commands) through the real command line."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_backup_and_restore(cli):
    cli("init", ".")
    (cli.cwd / "c.csv").write_text("contact_id,email\nc1,a@x.com\nc2,b@x.com\n")
    cli("import", "contacts", "c.csv")
    done = cli("backup", "backups/one.tar")
    assert "Backed up the store to backups/one.tar" in done.out
    (cli.cwd / "d.csv").write_text("contact_id\nc3\n")
    cli("import", "contacts", "d.csv")
    restored = cli("restore", "backups/one.tar")
    assert "Restored" in restored.out and "is kept in" in restored.out
    assert cli("stats", "--format", "json").json()["counts"]["contacts"] == 2
    (cli.cwd / "junk.tar").write_text("junk")
    refused = cli("restore", "junk.tar", ok=False)
    assert refused.code == 1 and "LS297" in refused.err and "not changed" in refused.err
    config = cli.cwd / "leadscore.toml"
    config.write_text(config.read_text().replace(
        'url = "sqlite:///.leadscore/store.db"',
        'url = "postgresql+psycopg://postgres@127.0.0.1:5432/leadscore"'))
    pg = cli("backup", "b.tar", ok=False)
    assert pg.code == 1 and "LS298" in pg.err and "pg_dump" in pg.err
