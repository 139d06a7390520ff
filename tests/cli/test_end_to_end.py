"""The command line end to end, as a new user meets it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_init_creates_a_project_whose_model_validates(cli):
    cli("init", "proj")
    assert (cli.cwd / "proj/leadscore.toml").is_file()
    assert (cli.cwd / "proj/models/model.schema.json").is_file()
    cli.cwd = cli.cwd / "proj"
    result = cli("validate")
    assert "✓ " in result.out and "model b2b" in result.out
    assert "4 lists (mql, sql, hot-accounts, engaged-at-hot-companies)" in result.out
    assert "6 workflows" in result.out
    assert not (cli.cwd / ".leadscore").exists()  # checking files does not touch the store
    again = cli("init", ".", ok=False)
    assert again.code == 1 and "LS302" in again.err


def test_score_leads_explain_and_stats(demo_project):
    leads = demo_project("leads", "--limit", "5", "--format", "json").json()
    assert len(leads) == 5
    totals = [lead["scores"]["total"] for lead in leads]
    assert totals == sorted(totals, reverse=True)
    best = leads[0]["contact_id"]

    text = demo_project("explain", best).out
    assert f"Contact {best}" in text and "✓" in text and "✗" in text
    data = demo_project("explain", best, "--format", "json").json()
    assert data["scores"]["total"]["value"] == totals[0]
    fit_rules = data["scores"]["fit"]["groups"][0]["rules"]
    assert {"rule", "matched", "points", "why"} <= set(fit_rules[0])

    stats = demo_project("stats", "--format", "json").json()
    assert stats["counts"]["contacts"] == 300
    assert stats["counts"]["scored"] == 300
    assert sum(stats["stages"].values()) == 300

    table = demo_project("leads", "--limit", "3").out
    assert best in table
    csv_out = demo_project("leads", "--limit", "3", "--format", "csv").out.splitlines()
    assert csv_out[0] == "#,contact,email,fit,engagement,feedback,total,grade,stage"
    assert len(csv_out) == 4


def test_leads_filters(demo_project):
    sql = demo_project("leads", "--label", "SQL", "--limit", "0", "--format", "json").json()
    assert all(lead["labels"]["total"] == "SQL" for lead in sql)
    fit = demo_project("leads", "--min", "fit=30", "--limit", "0", "--format", "json").json()
    assert all(lead["scores"]["fit"] >= 30 for lead in fit)
    bad = demo_project("leads", "--min", "fitt=3", ok=False)
    assert bad.code == 1 and "LS312" in bad.err and "did you mean 'fit'" in bad.err


def test_reimport_changes_nothing_and_rescoring_is_stable(demo_project):
    before = demo_project("stats", "--format", "json").json()["counts"]
    contacts = demo_project("import", "contacts", "data/contacts.csv").out
    events = demo_project("import", "events", "data/events.jsonl").out
    assert "0 new" in contacts and "0 new" in events
    after = demo_project("stats", "--format", "json").json()["counts"]
    assert (after["contacts"], after["events"], after["property_changes"]) == (
        before["contacts"], before["events"], before["property_changes"])


def test_explain_as_of_the_past_and_under_a_draft(demo_project):
    lead = demo_project("leads", "--limit", "1", "--format", "json").json()[0]
    cid = lead["contact_id"]
    past = demo_project("explain", cid, "--at", "2000-01-01", ok=False)
    assert past.code == 1 and "LS311" in past.err
    draft = demo_project.cwd / "models/draft.yaml"
    text = (demo_project.cwd / "models/model.yaml").read_text()
    draft.write_text(text.replace("name: b2b", "name: draft").replace("points: 60", "points: 0"))
    explained = demo_project("explain", cid, "--model", "models/draft.yaml", "--format",
                             "json").json()
    assert explained["model"] == "draft"
    before = demo_project("stats", "--format", "json").json()
    run = demo_project("score", "--model", "models/draft.yaml", "--dry-run", "--format",
                       "json").json()
    assert run["written"] is False and run["contacts"] == 300
    assert demo_project("stats", "--format", "json").json() == before


def test_dry_run_on_files_never_touches_the_store(demo_project):
    before = demo_project("stats", "--format", "json").json()
    run = demo_project("score", "--dry-run", "--contacts", "data/contacts.csv", "--events",
                       "data/events.jsonl", "--format", "json").json()
    assert run["contacts"] == 300 and len(run["top"]) == 10
    assert demo_project("stats", "--format", "json").json() == before


def test_a_broken_model_is_reported_with_places_and_exit_1(cli):
    cli("init", ".")
    model = cli.cwd / "models/model.yaml"
    model.write_text(model.read_text().replace("job_title, contains", "job_titel, contains", 1)
                     .replace("per_event: true", "per_evnt: true"))
    result = cli("validate", ok=False)
    assert result.code == 1
    assert "models/model.yaml:" in result.err
    assert "LS120" in result.err and "did you mean 'job_title'" in result.err
    assert "LS103" in result.err and "did you mean 'per_event'" in result.err
    assert "^" in result.err
    as_json = cli("validate", "--format", "json", ok=False).json()
    assert {e["code"] for e in as_json["errors"]} == {"LS120", "LS103"}


def test_a_bad_import_row_names_line_and_field_and_stores_nothing(cli):
    cli("init", ".")
    (cli.cwd / "c.csv").write_text(
        "contact_id,email,employees\nc1,a@x.com,12\nc2,b@x.com,lots\nc3,c@x.com,7\n")
    result = cli("import", "contacts", "c.csv", ok=False)
    assert result.code == 1
    assert "c.csv:3" in result.err and "employees" in result.err
    stats = cli("stats", "--format", "json").json()
    assert stats["counts"]["contacts"] == 0


def test_usage_mistakes_are_one_sentence_not_a_traceback(cli):
    nowhere = cli("stats", ok=False)
    assert nowhere.code == 1 and "LS300" in nowhere.err and "leadscore init" in nowhere.err
    cli("init", ".")
    result = cli("explain", "--at", "yesterday-ish", "x", ok=False)
    assert result.code == 1 and "LS303" in result.err
    empty = cli("explain", "nobody", ok=False)  # nothing imported: no store, none made
    assert empty.code == 1 and "LS294" in empty.err and "import data first" in empty.err
    (cli.cwd / "one.csv").write_text("id,email\nc1,a@example.com\n")
    cli("import", "contacts", "one.csv")
    unknown = cli("explain", "nobody", ok=False)
    assert unknown.code == 1 and "LS310" in unknown.err
