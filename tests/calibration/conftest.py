"""A small synthetic project with outcomes, built once per module (3,000 contacts)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadscore import synthetic
from leadscore.ingestion.outcomes import import_outcomes
from leadscore.project import Project, init_project

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def build_project(root: Path, contacts: int = 3000, events: int = 60_000, seed: int = 3
                  ) -> Project:
    init_project(root)
    data = synthetic.generate(contacts, events, seed=seed, now=NOW)
    folder = root / "data"
    folder.mkdir(exist_ok=True)
    synthetic.write_contacts_csv(data, folder / "contacts.csv")
    synthetic.write_events_jsonl(data, folder / "events.jsonl")
    synthetic.write_feedback_csv(data, folder / "feedback.csv")
    synthetic.write_outcomes_csv(data, folder / "outcomes.csv")
    project = Project.open(root)
    project.import_contacts(folder / "contacts.csv")
    project.import_contacts(folder / "feedback.csv")
    project.import_events(folder / "events.jsonl")
    import_outcomes(project.store, folder / "outcomes.csv")
    return project


@pytest.fixture(scope="module")
def synthetic_project(tmp_path_factory) -> Project:
    project = build_project(tmp_path_factory.mktemp("calibration"))
    yield project
    project.close()
