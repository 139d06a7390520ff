"""Models as published versions, end to end through the command line on both stores:
publish, the file differing from the live version, diff, history, rollback, a contact's score
history naming the version of each row, and its scores as of a moment under the version live
then."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from leadscore.project import Project
from tests.api.conftest import make_project
from tests.cli.conftest import Cli

FIT_A = "      - {label: A, min: 35}"
FIT_A_LOWER = "      - {label: A, min: 25}"

pytestmark = pytest.mark.slow


@pytest.fixture
def versioned(tmp_path, store_url):
    root = tmp_path / "project"
    project = make_project(root, store_url, contacts=120, events=2400)
    project.close()
    yield root, Cli(root)


def _fit_labels(project: Project) -> dict[str, str | None]:
    return {lead.contact_id: lead.labels.get("fit") for lead in project.leads(limit=None)}


def test_publish_diff_history_rollback_and_scores_as_of_through_the_cli(versioned):
    root, cli = versioned
    model_file = root / "models" / "model.yaml"
    assert FIT_A in model_file.read_text()
    assert "Nothing published yet" in cli("model", "history").err
    with Project.open(root) as project:
        before_any = _fit_labels(project)
        assert project.model.published is None  # the file is live until the first publish

    first = cli("model", "publish", "-m", "the example model", "--author", "ops",
                "--format", "json").json()
    assert (first["version"], first["state"], first["action"]) == (1, "live", "publish")
    assert first["contacts"] == 120 and first["attempts"] == 1
    v1_live = datetime.fromisoformat(first["live_at"])
    with Project.open(root) as project:
        assert project.model.published == 1
        assert _fit_labels(project) == before_any  # the same model, the same labels
        contact = project.leads(limit=1)[0].contact_id
    rows = cli("score", "history", contact, "--format", "json").json()
    assert rows[0]["version"] == 1 and {r["version"] for r in rows} == {None, 1}

    time.sleep(0.05)
    model_file.write_text(model_file.read_text().replace(FIT_A, FIT_A_LOWER))
    note = cli("score").err
    assert "scoring with the live version 1" in note and "differs" in note
    diff = cli("model", "diff", "live", "file", "--format", "json").json()
    assert [(r["score"], r["rule"], r["change"]) for r in diff["rules"]] == \
        [("fit", "thresholds", "changed")]
    assert "A 25+" in diff["rules"][0]["after"] and "A 35+" in diff["rules"][0]["before"]
    fit_moves = {(c["before"], c["after"]): c["contacts"] for c in diff["changes"]
                 if c["kind"] == "label" and c["score"] == "fit"}
    assert set(fit_moves) == {("B", "A")} and fit_moves[("B", "A")] > 0
    assert diff["labels_b"]["fit"]["A"] == diff["labels_a"]["fit"]["A"] + fit_moves[("B", "A")]
    text = cli("model", "diff", "1", "file").out
    assert "thresholds" in text and "Who changes" in text

    second = cli("model", "publish", "-m", "A from 25", "--format", "json").json()
    assert (second["version"], second["previous"], second["state"]) == (2, 1, "live")
    v2_live = datetime.fromisoformat(second["live_at"])
    with Project.open(root) as project:
        after = _fit_labels(project)
    moved = {cid for cid in after if after[cid] != before_any[cid]}
    assert len(moved) == fit_moves[("B", "A")]  # what the diff predicted is what happened
    assert all((before_any[c], after[c]) == ("B", "A") for c in moved)
    assert "scoring with the live version" not in cli("score").err  # the file is live now

    # a contact's stored scores as of a moment: under the version live then
    moved_contact = sorted(moved)[0]
    between = v1_live + (v2_live - v1_live) / 2
    at_v1 = cli("score", "history", moved_contact, "--at", between.isoformat(),
                "--format", "json").json()
    at_v2 = cli("score", "history", moved_contact, "--at", "now", "--format", "json").json()
    before_v1 = cli("score", "history", moved_contact, "--at",
                    (v1_live - timedelta(milliseconds=1)).isoformat(), "--format", "json").json()
    fit = {d["version"]: next(s for s in d["scores"] if s["score"] == "fit")
           for d in (at_v1, at_v2, before_v1)}
    assert (at_v1["version"], at_v2["version"], before_v1["version"]) == (1, 2, None)
    assert (fit[1]["label"], fit[2]["label"], fit[None]["label"]) == ("B", "A", "B")
    assert fit[1]["version"] == 1 and fit[2]["version"] == 2
    shown = cli("score", "history", moved_contact).out
    assert "version" in shown

    back = cli("model", "rollback", "--format", "json").json()
    assert (back["version"], back["previous"], back["action"]) == (1, 2, "rollback")
    with Project.open(root) as project:
        assert project.model.published == 1
        assert _fit_labels(project) == before_any
    history = cli("model", "history", "--format", "json").json()
    assert history["live"] == 1
    assert [p["action"] for p in history["publishes"]] == ["publish", "publish", "rollback"]
    assert [v["message"] for v in history["versions"]] == ["the example model", "A from 25"]
    assert history["versions"][1]["same_as_file"] and not history["versions"][0]["same_as_file"]
    assert "Model versions" in cli("model", "history").out


def test_mistakes_are_placed_and_store_nothing(versioned):
    root, cli = versioned
    missing = cli("model", "publish", ok=False)
    assert missing.code == 1 and "LS360" in missing.err
    assert cli("model", "rollback", ok=False).err.count("LS361") == 1
    assert "LS361" in cli("model", "diff", "7", "file", ok=False).err
    model_file = root / "models" / "model.yaml"
    good = model_file.read_text()
    model_file.write_text(good.replace("min: 35}", "min: thirty}", 1))
    broken = cli("model", "publish", "-m", "broken", ok=False)
    assert broken.code == 1 and "model.yaml:" in broken.err
    model_file.write_text(good)
    assert "Nothing published yet" in cli("model", "history").err
    with Project.open(root) as project:  # a publish that is still running blocks another
        project.publish_model(text=_example_text(), message="pending", wait=False)
    blocked = cli("model", "publish", "-m", "again", ok=False)
    assert "LS363" in blocked.err and "model resume" in blocked.err
    assert "being published" in cli("score").err
    resumed = cli("model", "resume", "--format", "json").json()
    assert resumed["state"] == "live" and resumed["version"] == 1
    assert cli("model", "resume").out.strip() == "No publish is unfinished."


def _example_text() -> str:
    import tempfile
    from pathlib import Path

    from leadscore.project.scaffold import init_project

    with tempfile.TemporaryDirectory() as folder:
        init_project(Path(folder))
        return (Path(folder) / "models" / "model.yaml").read_text()


def test_processing_keeps_the_old_version_until_the_new_one_is_live(versioned):
    from leadscore.storage import EventInput

    root, _ = versioned
    worker, other = Project.open(root), Project.open(root)
    try:
        assert worker.model.published is None  # loaded: the file, nothing published
        other.publish_model(message="first")
        assert worker.follow_live(every=0) and worker.model.published == 1
        lower = other.config.model_path.read_text().replace(FIT_A, FIT_A_LOWER)
        pending = other.publish_model(text=lower, message="A from 25", wait=False)
        assert pending.state == "rescoring" and not worker.follow_live(every=0)
        contact = worker.leads(limit=None)[-1].contact_id  # a demo request changes its scores
        moment = datetime.now(UTC)
        worker.automation.ingest_events([EventInput(
            "versions-demo", contact, "form_submission", moment,
            {"form_id": "demo-request"})], now=moment)
        worker.process(deliver=False)
        newest = [r for r in worker.store.score_history(contact) if r.computed_at >= moment]
        assert newest and {r.version for r in newest} == {1}  # under the live version
        other.resume_publish()
        assert worker.follow_live(every=0) and worker.model.published == 2
        assert worker.store.score_history(contact)[-1].version == 2
    finally:
        worker.close()
        other.close()
