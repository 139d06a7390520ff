"""Segments written before migration 0010 have no `version` column: they read as NULL beside
newer ones, through every reader (a contact's history, current scores, leads) and through
merging and folding; nothing is rewritten by the migration."""

from __future__ import annotations

import duckdb
import pytest

from leadscore.storage.maintenance import compact_scores, merge_segments
from leadscore.storage.segments import SegmentKind
from leadscore.storage.views import _FILE_COLUMNS
from tests.api.conftest import make_project

pytestmark = pytest.mark.slow


def _strip_version(paths) -> int:
    """Write each segment again without its `version` column (as before migration 0010)."""
    stripped = 0
    for path in paths:
        duck = duckdb.connect()
        names = [r[0] for r in duck.execute(
            "SELECT name FROM parquet_schema(?)", [str(path)]).fetchall()]
        if "version" in names:
            temporary = path.with_suffix(".old.parquet")
            duck.execute(f"COPY (SELECT * EXCLUDE (version) FROM read_parquet('{path}')) "
                         f"TO '{temporary}' (FORMAT parquet)")
            temporary.replace(path)
            stripped += 1
        duck.close()
        _FILE_COLUMNS.pop(str(path), None)
    return stripped


def _fit(project) -> dict[str, tuple]:
    return {lead.contact_id: (lead.scores["fit"], lead.labels["fit"])
            for lead in project.leads(limit=None)}


def test_old_segments_read_as_unversioned_beside_versioned_ones(tmp_path):
    project = make_project(tmp_path / "p", contacts=1200, events=6000)
    store = project.store
    with store.read() as connection:
        history = store.segments.live(connection, SegmentKind.HISTORY)
        scores = store.segments.live(connection, SegmentKind.SCORES)
    assert history and scores, "a run of 1,200 contacts writes segments"
    assert _strip_version([s.path for s in history + scores]) == len(history) + len(scores)
    contact = project.leads(limit=1)[0].contact_id
    before = project.store.score_history(contact)
    assert before and {row.version for row in before} == {None}
    leads = _fit(project)  # fit has no decay: the same model gives the same values later

    project.publish_model(message="first")
    after = project.store.score_history(contact)
    assert after[:len(before)] == before and {r.version for r in after[len(before):]} == {1}
    assert _fit(project) == leads
    # merging old and new history segments, and folding old and new score segments
    assert merge_segments(store, SegmentKind.HISTORY, most=1)
    assert compact_scores(store, most=0, share=0.0) >= 0
    assert project.store.score_history(contact) == after
    assert _fit(project) == leads
    project.close()
