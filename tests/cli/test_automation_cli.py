"""The automation commands end to end: process, receive, lists, feedback, stages, log, tasks,
outbox and worker, as a user runs them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def acted(tmp_path_factory):
    from tests.cli.conftest import Cli

    root = tmp_path_factory.mktemp("acting")
    run = Cli(root)
    run("init", ".")
    config = root / "leadscore.toml"
    config.write_text(config.read_text().replace("8765", "8799"))
    run("generate", "--contacts", "300", "--events", "6000", "--seed", "3")
    run("import", "contacts", "data/contacts.csv")
    run("import", "events", "data/events.jsonl")
    receiver = subprocess.Popen([sys.executable, "-m", "leadscore", "receive", "--port", "8799",
                                 "--show", "1"], cwd=root, stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    processed = run("process").out
    receiver.send_signal(signal.SIGTERM)
    received, _ = receiver.communicate(timeout=20)
    return run, processed, received


def test_process_acts_and_notifications_arrive_signed(acted):
    run, processed, received = acted
    assert "Processed 300 contacts" in processed
    delivered = int(processed.split("Delivered ")[1].split(" ")[0])
    assert delivered > 0 and "0 dead letters" in processed
    assert "signature verified" in received
    assert f"{delivered} distinct notifications, 0 with a bad signature" in received


def test_lists_show_members_and_test(acted):
    run, _, _ = acted
    shown = run("list", "show", "--format", "json").json()
    counts = {row["list"]: row["members"] for row in shown}
    assert counts["sql"] > 0 and counts["mql"] > 0
    member = run("list", "members", "sql", "--format", "json").json()[0]["contact"]
    verdict = run("list", "test", "sql", member).out
    assert f"Contact {member} IS a member of list sql" in verdict and "✓ score total" in verdict
    wrong = run("list", "test", "sqll", member, ok=False)
    assert wrong.code == 1 and "did you mean 'sql'" in wrong.err


def test_feedback_stage_and_log(acted):
    run, _, _ = acted
    member = run("list", "members", "sql", "--format", "json").json()[0]["contact"]
    run("feedback", member, "not_ready")
    lists = {row["list"]: row["members"] for row in run("list", "show", "--format", "json").json()}
    assert member not in [r["contact"] for r in run("list", "members", "sql", "--limit", "0",
                                                     "--format", "json").json()]
    assert lists["mql"] > 0
    timeline = run("log", member).out
    assert "feedback-not-ready" in timeline and "sql → mql" in timeline
    run("stage", "set", member, "lead", "--by", "ana")
    history = run("stage", "history", member, "--format", "json").json()
    assert history[-1]["to"] == "lead" and history[-1]["cause"] == "set by ana"
    bad = run("feedback", member, "not-ready", ok=False)
    assert bad.code == 1 and "did you mean 'not_ready'" in bad.err


def test_tasks_outbox_and_worker(acted):
    run, _, _ = acted
    tasks = run("tasks", "--format", "json").json()
    assert tasks and all(t["top reasons"] for t in tasks)
    outbox = run("outbox", "--status", "delivered", "--format", "json").json()
    assert outbox and {o["status"] for o in outbox} == {"delivered"}
    assert run("outbox", "retry").out.startswith("0 dead letters")
    assert "Worker stopped: 1 passes" in run("worker", "--once").out


def test_imported_outcomes_move_stages(acted):
    run, _, _ = acted
    won, opened = [row["contact"] for row in run("list", "members", "mql", "--limit", "2",
                                                  "--format", "json").json()]
    outcomes = run.cwd / "crm-outcomes.csv"
    outcomes.write_text("contact_id,opportunity_at,won_at,lost_at\n"
                        f"{won},2026-01-05T10:00:00Z,2026-02-01T10:00:00Z,\n"
                        f"{opened},2026-01-20T10:00:00Z,,\n")
    run("import", "outcomes", str(outcomes))
    run("process")
    won_history = run("stage", "history", won, "--format", "json").json()
    assert (won_history[-1]["to"], won_history[-1]["cause"]) == (
        "customer", "outcome: deal_won (automatic)")
    opened_history = run("stage", "history", opened, "--format", "json").json()
    assert (opened_history[-1]["to"], opened_history[-1]["cause"]) == (
        "opportunity", "outcome: opportunity_created (automatic)")
    # an opportunity never falls back into the MQL list
    assert opened not in [r["contact"] for r in run("list", "members", "mql", "--limit", "0",
                                                     "--format", "json").json()]
    again = run("import", "outcomes", str(outcomes)).out
    assert "2 unchanged" in again
    assert "Processed 0 contacts" in run("process").out  # nothing new: nobody is due


def test_first_process_after_import_reports_the_same_in_bulk_and_per_contact(tmp_path):
    """More contacts due than `BULK_MIN`: `process` settles most of them set-wise; with
    --per-contact every one goes the per-contact way. What they did must be the same."""
    from datetime import UTC, datetime, timedelta

    from leadscore.automation.bulk import BULK_MIN
    from tests.cli.conftest import Cli

    count = BULK_MIN + 500
    Cli(tmp_path)("generate", "--contacts", str(count), "--events", "20000", "--seed", "5")
    moment = (datetime.now(UTC) + timedelta(hours=1)).isoformat()  # after every event
    outputs, lists, tasks = [], [], []
    for name, extra in (("bulk", ()), ("each", ("--per-contact",))):
        (tmp_path / name).mkdir()
        run = Cli(tmp_path / name)
        run("init", ".")
        run("import", "contacts", str(tmp_path / "data" / "contacts.csv"))
        run("import", "events", str(tmp_path / "data" / "events.jsonl"))
        out = run("process", "--no-deliver", "--at", moment, *extra).out.splitlines()[0]
        outputs.append(out.split(" in ")[0] + ":" + out.split(":", 1)[1])
        lists.append(run("list", "show", "--format", "json").json())
        tasks.append(sorted((t["contact"], t["title"]) for t in
                            run("tasks", "--limit", "0", "--format", "json").json()))
    assert f"Processed {count:,} contacts" in outputs[0]
    assert outputs[0] == outputs[1]
    assert lists[0] == lists[1]
    assert tasks[0] == tasks[1]
