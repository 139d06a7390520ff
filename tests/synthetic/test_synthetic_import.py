"""Generated files import cleanly, and the store then gives the same snapshots and scores as
the generator's in-memory snapshots (so benchmarks on memory stand for imported data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import pytest

from leadscore.evaluation import Scorer
from leadscore.ingestion import import_contacts, import_events
from leadscore.model import load_model
from leadscore.storage import Store
from leadscore.synthetic import (
    generate,
    iter_snapshots,
    write_contacts_csv,
    write_events_jsonl,
    write_feedback_csv,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("days_back", [0, 60])
def test_imported_files_score_like_the_data_in_memory(tmp_path: Path, days_back: int) -> None:
    data = generate(400, 8_000, seed=9, now=NOW)
    write_contacts_csv(data, tmp_path / "contacts.csv")
    write_events_jsonl(data, tmp_path / "events.jsonl")
    write_feedback_csv(data, tmp_path / "feedback.csv")
    model = load_model(str(files("leadscore.project") / "templates" / "model.yaml"))
    store = Store.open(f"sqlite:///{tmp_path / 'leadscore.db'}")
    try:
        store.migrate()
        contacts = import_contacts(store, tmp_path / "contacts.csv", catalog=model.catalog,
                                   now=NOW)
        events = import_events(store, tmp_path / "events.jsonl", catalog=model.catalog)
        verdicts = import_contacts(store, tmp_path / "feedback.csv", catalog=model.catalog,
                                   now=NOW)
        assert verdicts.updated == int((data.contacts.feedback_at >= 0).sum()) > 0
        assert (contacts.inserted, events.inserted) == (data.contact_count, data.event_count)
        as_of = NOW - timedelta(days=days_back)
        stored = {s.contact_id: s for s in store.load_snapshots(as_of)}
    finally:
        store.close()
    scorer = Scorer(model)
    in_memory = list(iter_snapshots(data, as_of))
    assert set(stored) == {s.contact_id for s in in_memory}
    for snap in in_memory:
        other = stored[snap.contact_id]
        assert other.properties == snap.properties
        assert {k: s.times for k, s in other.events.items()} == \
            {k: s.times for k, s in snap.events.items()}
        assert scorer.score(other).to_dict() == scorer.score(snap).to_dict()
