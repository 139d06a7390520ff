"""Sales feedback as a backtest label (SPEC §5): each judged lead scored just before sales's
first verdict, true_sql positive — through the library and the CLI."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadscore.calibration import Cutoff, CutoffKind, Population, Target, backtest_model
from leadscore.calibration.cases import CaseStream
from leadscore.diagnostics import LeadscoreError
from leadscore.project import Project
from tests.cli.conftest import Cli

START = datetime(2026, 1, 1, tzinfo=UTC)
JUDGED_AFTER = timedelta(days=20)
LATE_FLIP = "c0007"  # not_ready first, true_sql a week later: its first verdict is the label


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _write_history(folder: Path) -> dict[str, str]:
    """120 contacts; contact i views pricing i % 6 times in its first 10 days; the first 100
    are judged on day 20 (true_sql from 4 views), and every not_ready lead views pricing 10
    times after its verdict — which a point-in-time score must not see. Returns the first
    verdicts."""
    verdicts: dict[str, str] = {}
    with open(folder / "contacts.csv", "w", newline="") as f:
        rows = csv.writer(f)
        rows.writerow(["contact_id", "email", "created_at", "job_title"])
        for i in range(120):
            created = START + timedelta(hours=i)
            rows.writerow([f"c{i:04d}", f"p{i}@example.com", _iso(created), "Engineer"])
    with open(folder / "events.jsonl", "w") as f, \
            open(folder / "feedback.csv", "w", newline="") as g:
        feedback = csv.writer(g)
        feedback.writerow(["contact_id", "sales_feedback", "updated_at"])
        for i in range(120):
            cid, created = f"c{i:04d}", START + timedelta(hours=i)
            views = i % 6
            for n in range(views):
                f.write(json.dumps({"event_id": f"{cid}-v{n}", "contact_id": cid,
                                    "type": "page_view",
                                    "occurred_at": _iso(created + timedelta(days=1 + n)),
                                    "attributes": {"url": "https://x.test/pricing"}}) + "\n")
            if i >= 100:
                continue
            verdict = "true_sql" if views >= 4 else ("not_ready" if i % 2 else "unqualified")
            if cid == LATE_FLIP:
                verdict = "not_ready"
            verdicts[cid] = verdict
            judged = created + JUDGED_AFTER
            feedback.writerow([cid, verdict, _iso(judged)])
            if verdict == "not_ready":
                for n in range(10):
                    f.write(json.dumps({"event_id": f"{cid}-late{n}", "contact_id": cid,
                                        "type": "page_view",
                                        "occurred_at": _iso(judged + timedelta(hours=n + 1)),
                                        "attributes": {"url": "https://x.test/pricing"}})
                            + "\n")
            if cid == LATE_FLIP:
                feedback.writerow([cid, "true_sql", _iso(judged + timedelta(days=7))])
    return verdicts


@pytest.fixture(scope="module")
def judged(tmp_path_factory) -> tuple[Cli, dict[str, str]]:
    root = tmp_path_factory.mktemp("feedback-label")
    run = Cli(root)
    run("init", ".")
    verdicts = _write_history(root)
    run("import", "contacts", "contacts.csv")
    run("import", "events", "events.jsonl")
    run("import", "contacts", "feedback.csv")
    return run, verdicts


def test_feedback_cutoffs_read_and_round_trip():
    cutoff = Cutoff.parse("before-feedback")
    assert cutoff.kind is CutoffKind.BEFORE_FEEDBACK and cutoff.offset == 1.0
    assert Cutoff.parse("feedback-2h").offset == 7200
    assert Cutoff.parse("feedback-15min").offset == 900
    for text in ("before-feedback", "feedback-2h", "feedback-3d"):
        assert Cutoff.parse(Cutoff.parse(text).to_text()) == Cutoff.parse(text)
    with pytest.raises(LeadscoreError) as caught:
        Population(Cutoff.parse("before-feedback"))  # the outcome target cannot go with it
    assert caught.value.diagnostics[0].code == "LS415"
    with pytest.raises(LeadscoreError) as caught:
        Population(Cutoff.parse("before-opportunity"), Target.SALES_FEEDBACK)
    assert caught.value.diagnostics[0].code == "LS415"


def test_judged_leads_are_scored_just_before_their_first_verdict(judged):
    run, verdicts = judged
    project = Project.open(run.cwd)
    try:
        stream = CaseStream(project.store, Population(Cutoff.parse("before-feedback"),
                                                      Target.SALES_FEEDBACK))
        cases = {case.contact_id: (snap, case) for snap, case in stream}
        assert set(cases) == set(verdicts)
        assert stream.excluded["no sales feedback"] == 20
        for cid, (snap, case) in cases.items():
            judged_at = (START + timedelta(hours=int(cid[1:])) + JUDGED_AFTER).timestamp()
            assert case.cutoff == judged_at - 1.0
            assert case.converted == (verdicts[cid] == "true_sql")
            views = snap.events.get("page_view")
            assert (len(views.times) if views else 0) == int(cid[1:]) % 6  # none after
            assert "sales_feedback" not in snap.properties
        assert not cases[LATE_FLIP][1].converted  # its first verdict, not the later one
        result = backtest_model(project.store, project.model,
                                Population(Cutoff.parse("before-feedback"),
                                           Target.SALES_FEEDBACK), replicates=100)
    finally:
        project.close()
    assert result.contacts == 100
    assert result.converted == sum(v == "true_sql" for v in verdicts.values())
    assert result.auc > 0.95  # pricing views decide the verdict, and the model scores them
    assert any("first verdict" in note for note in result.notes)


@pytest.mark.slow
def test_backtest_on_sales_feedback_from_the_cli(judged, tmp_path):
    run, verdicts = judged
    data = run("backtest", "--target", "sales-feedback", "--replicates", "100",
               "--format", "json").json()
    assert data["contacts"] == 100 and data["roc_auc"] > 0.95
    assert "first verdict" in data["population"]
    text = run("backtest", "--target", "sales-feedback", "--as-of", "feedback-15d",
               "--replicates", "100").out
    assert "15 day(s) before each lead's first sales feedback" in text
    wrong = run("backtest", "--as-of", "before-feedback", ok=False)
    assert wrong.code == 1 and "LS415" in wrong.err and "--target sales-feedback" in wrong.err
    out = run("thresholds", "--target", "sales-feedback", "--sql-precision", "0.8",
              "--format", "json").json()
    assert out["contacts"] == 100


def test_no_feedback_says_how_to_record_it(tmp_path):
    run = Cli(tmp_path)
    run("init", ".")
    _write_history(tmp_path)
    run("import", "contacts", "contacts.csv")
    result = run("backtest", "--target", "sales-feedback", ok=False)
    assert result.code == 1 and "LS410" in result.err and "leadscore feedback" in result.err


def test_generated_verdicts_come_later_and_are_the_labels(synthetic_project):
    """`leadscore generate` writes sales's verdicts at their own moments (feedback.csv): a
    backtest on them takes every judged lead, just before its verdict."""
    from leadscore import synthetic
    from tests.calibration.conftest import NOW

    data = synthetic.generate(3000, 60_000, seed=3, now=NOW)  # the fixture's data
    at, created = data.contacts.feedback_at, data.contacts.created_at
    verdicts = data.contacts.columns["sales_feedback"]
    judged = [i for i in range(data.contact_count) if at[i] >= 0 and at[i] - 1 >= created[i]]
    result = backtest_model(synthetic_project.store, synthetic_project.model,
                            Population(Cutoff.parse("before-feedback"), Target.SALES_FEEDBACK),
                            replicates=100)
    assert result.contacts == len(judged) > 50
    assert result.converted == sum(verdicts[i] == "true_sql" for i in judged) > 10
