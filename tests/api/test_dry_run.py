"""POST /v1/models/dry-run: a draft model scored on the stored contacts, nothing written; its
label counts and the contacts that would change label or stage; a broken draft is a 422 with
every mistake placed by line and column."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta


def live_text(api) -> str:
    return api.project.config.model_path.read_text(encoding="utf-8")


def stored_labels(api, score: str) -> dict[str, str | None]:
    return {s.contact_id: s.label for s in api.project.store.current_scores(
        api.project.model.name) if s.score == score}


def test_the_live_model_as_a_draft_changes_nothing_and_writes_nothing(api):
    before = api.project.store.current_scores()
    answer = api.post("/v1/models/dry-run", {"model": live_text(api)})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"] == body["live_model"] == api.project.model.name
    assert body["contacts"] == 120
    for score in api.project.model.scores:
        assert sum(body["labels"][score].values()) == 120
    assert sum(body["stages"].values()) == 120
    assert body["stage_changes"] == 0
    assert body["label_changes"] == sum(c["contacts"] for c in body["changes"]
                                        if c["kind"] == "label") == 0
    assert api.project.store.current_scores() == before


def test_a_draft_that_labels_everyone_a_names_each_change(api):
    text = re.sub(r"    thresholds:\n      - \{label: A, min: 35\}\n      - \{label: B, min: 15\}"
                  r"\n      - \{label: C\}\n", "    thresholds:\n      - {label: A}\n",
                  live_text(api), count=1)
    assert text != live_text(api)
    body = api.post("/v1/models/dry-run",
                    {"model": text.replace("name: b2b", "name: b2b_draft"), "limit": 3}).json()
    assert body["model"] == "b2b_draft" and body["live_model"] == "b2b"
    assert body["labels"]["fit"] == {"A": 120}
    stored = Counter(stored_labels(api, "fit").values())
    fit = {(c["before"], c["after"]): c for c in body["changes"]
           if c["kind"] == "label" and c["score"] == "fit"}
    assert {k: c["contacts"] for k, c in fit.items()} == \
        {(label, "A"): n for label, n in stored.items() if label != "A"}
    for (before, _), change in fit.items():
        expected = sorted(c for c, label in stored_labels(api, "fit").items()
                          if label == before)[:3]
        assert change["contact_ids"] == expected
    assert body["label_changes"] == sum(n for label, n in stored.items() if label != "A")
    stages = [c for c in body["changes"] if c["kind"] == "stage"]
    assert body["stage_changes"] == sum(c["contacts"] for c in stages)
    assert all(c["score"] is None and c["after"] for c in stages)
    counts = [c["contacts"] for c in body["changes"]]
    assert counts == sorted(counts, reverse=True)


def test_a_draft_with_mistakes_is_422_with_every_one_placed(api):
    text = live_text(api).replace("points: 20", "points: lots", 1)
    text = text.replace("    max: 60\n", "    max: 60\n    maximum: 70\n", 1)
    answer = api.post("/v1/models/dry-run", {"model": text})
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert len(errors) >= 2
    for error in errors:
        assert re.fullmatch(r"LS1\d\d", error["code"]) and error["message"]
        assert error["place"]["line"] >= 1 and error["place"]["column"] >= 1
    assert any(e["hint"] for e in errors)
    lines = text.splitlines()
    assert {e["place"]["line"] for e in errors} >= {
        next(i for i, line in enumerate(lines, 1) if what in line)
        for what in ("points: lots", "maximum: 70")}
    syntax = api.post("/v1/models/dry-run", {"model": "version: 1\nname: [x\n"})
    assert syntax.status_code == 422 and syntax.json()["errors"][0]["code"] == "LS101"


def test_dry_run_request_mistakes(api):
    late = api.post("/v1/models/dry-run", {"model": live_text(api), "as_of": "someday"})
    assert late.status_code == 422 and late.json()["errors"][0]["place"]["field"] == "as_of"
    past = api.post("/v1/models/dry-run", {"model": live_text(api), "as_of": "now-400d"})
    assert past.status_code == 200
    assert datetime.fromisoformat(past.json()["as_of"]) < datetime.now(UTC) - timedelta(days=399)
    assert api.post("/v1/models/dry-run", {"limit": 3}).status_code == 422
    big = api.post("/v1/models/dry-run", {"model": "#" * 1_100_000})
    assert big.status_code == 413 and big.json()["errors"][0]["code"] == "LS601"
    refused = api.post("/v1/models/dry-run", {"model": live_text(api)}, scope="sales")
    assert refused.status_code == 403


def test_a_draft_that_makes_everyone_sql_moves_stages_forward(api):
    text = live_text(api).replace("{label: SQL, min: 65, stage: sql}",
                                  "{label: SQL, min: -1000, stage: sql}")
    text = text.replace("{label: MQL, min: 35, max: 64.99, stage: mql}",
                        "{label: MQL, min: -2000, max: -1999, stage: mql}")
    text = text.replace("{label: Lead, max: 34.99, stage: lead}",
                        "{label: Lead, max: -2001, stage: lead}")
    body = api.post("/v1/models/dry-run", {"model": text}).json()
    assert body["labels"]["total"] == {"SQL": 120}, body
    stages = [c for c in body["changes"] if c["kind"] == "stage"]
    assert body["stage_changes"] == sum(c["contacts"] for c in stages) > 0
    assert all(c["after"] == "sql" and c["before"] in (None, "subscriber", "lead", "mql")
               for c in stages)
    assert body["stages"].get("sql", 0) >= body["stage_changes"]
    current = api.project.store.current_stages()
    for change in stages:
        assert all(current[cid] == change["before"] for cid in change["contact_ids"])
