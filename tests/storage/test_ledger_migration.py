"""Migration 0009 (the score ledger) on a store made before it, SQLite and PostgreSQL: the table
appears, nothing else changes, and stored `score_adjustment` values (what 'not ready' wrote
before the ledger) keep counting through the model rule that reads them, so the upgraded
store's scores are what they were."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from leadscore import Project
from leadscore.storage.store import HEAD_REVISION
from tests.automation.story import FIT_20, add_contact, day, make_project, send

pytestmark = pytest.mark.slow
VISIT = ("visit", {"source": "organic_search"})


def test_a_store_from_before_the_ledger_keeps_its_scores(tmp_path, store_url):
    project = make_project(tmp_path / "old", store_url, "http://127.0.0.1:9/unused")
    root = project.config.root
    add_contact(project, "ann", day(0), score_adjustment=-12, **FIT_20)
    send(project, "ann", day(0), VISIT, VISIT)
    before = project.explain("ann", at=day(1)).to_dict()["scores"]
    assert before["feedback"]["value"] == -12
    with project.store.write() as writer:  # back to revision 0008: undo what 0009 and the
        # migrations after it added (the ledger; model versions; the web app's users;
        # companies; company lists; the scored flag)
        for table in ("score_ledger", "model_publishes", "model_versions", "web_settings",
                      "web_users", "company_members", "company_score_history",
                      "company_scores", "company_property_changes", "companies",
                      "company_list_members", "company_list_changes"):
            writer.connection.execute(sa.text(f"DROP TABLE {table}"))
        for table in ("scores", "score_history"):
            writer.connection.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN version"))
        writer.connection.execute(sa.text("ALTER TABLE scores DROP COLUMN scored"))  # 0014
        writer.connection.execute(sa.text("UPDATE alembic_version SET version_num = '0008'"))
    project.close()

    upgraded = Project.open(root)
    try:
        assert upgraded.store.schema_revision() == HEAD_REVISION
        assert "score_ledger" in sa.inspect(upgraded.store.engine).get_table_names()
        after = upgraded.explain("ann", at=day(1)).to_dict()["scores"]
        assert {n: s["value"] for n, s in after.items()} == {
            n: s["value"] for n, s in before.items()}
        assert upgraded.ledger_entries("ann") == []
        upgraded.score(full=True, as_of=day(1))
        with upgraded.store.read() as connection:
            stored = dict(connection.execute(sa.text(
                "SELECT score, value FROM scores WHERE contact_id = 'ann'")).all())
        assert stored["feedback"] == -12 and stored["total"] == before["total"]["value"]
    finally:
        upgraded.close()
