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


def test_contact_export_erase_and_retention(cli):
    cli("init", ".")
    (cli.cwd / "c.csv").write_text("contact_id,email,job_title\nc1,ann@x.com,CTO\n"
                                   "c2,bob@x.com,CEO\n")
    (cli.cwd / "e.jsonl").write_text(
        '{"event_id": "old", "contact_id": "c2", "type": "visit", '
        '"occurred_at": "2020-01-13T10:00:00Z"}\n'
        '{"event_id": "new", "contact_id": "c1", "type": "visit", '
        '"occurred_at": "2026-01-13T10:00:00Z"}\n')
    cli("import", "contacts", "c.csv")
    cli("import", "events", "e.jsonl")
    cli("score")
    exported = cli("contact", "export", "c1").json()
    assert exported["contact"]["email"] == "ann@x.com" and exported["events"]
    cli("contact", "export", "c1", "--out", "c1.json")
    assert "ann@x.com" in (cli.cwd / "c1.json").read_text()
    erased = cli("contact", "erase", "c1", "--format", "json").json()
    assert erased["rows"]["contacts"] == 1 and "c1" not in json_text(erased)
    missing = cli("contact", "export", "c1", ok=False)
    assert missing.code == 1 and "LS310" in missing.err
    unset = cli("retention", "apply", ok=False)
    assert unset.code == 1 and "LS339" in unset.err and "events_days" in unset.err
    config = cli.cwd / "leadscore.toml"
    config.write_text(config.read_text() + "\n[retention]\nevents_days = 365\n")
    applied = cli("retention", "apply")
    assert "Removed 1 events" in applied.out and "rescored 1 contacts" in applied.out
    assert cli("stats", "--format", "json").json()["counts"]["events"] == 0


def json_text(data) -> str:
    import json

    return json.dumps(data)
