"""`explain --at t` answers under the model version live at t, as `score history --at` does."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tests.api.conftest import make_project

FIT_A = "      - {label: A, min: 35}"


def test_explain_at_a_moment_uses_the_version_live_then(tmp_path):
    project = make_project(tmp_path / "project", contacts=60, events=900)
    first = project.publish_model(message="the example model")
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)
    model_file = project.config.model_path
    model_file.write_text(model_file.read_text().replace(FIT_A, "      - {label: A, min: 5}"))
    second = project.publish_model(message="A from 5")
    lead = project.leads(limit=1)[0].contact_id

    then = project.explain(lead, at=between)
    now = project.explain(lead)
    assert then.model.published == first.version and now.model.published == second.version
    assert then.to_dict()["model_version"] == first.version
    assert f"version {first.version}," in then.render_text()
    assert then.model.scores["fit"].thresholds != now.model.scores["fit"].thresholds
    project.close()
