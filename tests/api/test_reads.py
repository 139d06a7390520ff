"""Reads as JSON (paged by cursor where lists can be long) and the actions; an unknown
contact, list or task is a 404 in the error shape."""

from __future__ import annotations


def scored(api) -> str:
    return api.project.leads(limit=1)[0].contact_id


def test_a_contact_now_and_as_of_a_moment(api):
    contact = scored(api)
    now = api.get(f"/v1/contacts/{contact}", scope="read").json()
    assert now["contact_id"] == contact and now["properties"]
    early = api.get(f"/v1/contacts/{contact}", params={"as_of": now["created_at"]}).json()
    assert early["as_of"][:19] == now["created_at"][:19]
    before = api.get(f"/v1/contacts/{contact}", params={"as_of": "2000-01-01"})
    assert before.status_code == 422 and before.json()["errors"][0]["code"] == "LS311"
    bad = api.get(f"/v1/contacts/{contact}", params={"as_of": "someday"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["place"]["field"] == "as_of"


def test_scores_now_match_the_stored_scores_and_explain(api):
    lead = api.project.leads(limit=1)[0]
    scores = api.get(f"/v1/contacts/{lead.contact_id}/scores", scope="read").json()
    primary = api.project.model.primary_score.name
    assert scores["scores"][primary]["value"] == lead.scores[primary]
    assert scores["grade"] == lead.grade
    explained = api.get(f"/v1/contacts/{lead.contact_id}/explain").json()
    assert explained["contact_id"] == lead.contact_id
    direct = api.project.explain(lead.contact_id, at=None).to_dict()

    def verdicts(doc: dict) -> dict:  # decayed points move with the clock; verdicts do not
        return {name: [(r["rule"], r["matched"]) for r in score["rules"]]
                for name, score in doc["scores"].items()}

    assert set(explained) == set(direct) and verdicts(explained) == verdicts(direct)
    past = api.get(f"/v1/contacts/{lead.contact_id}/scores",
                   params={"as_of": "now-1d"}).json()
    assert past["as_of"] < scores["as_of"]


def test_leads_filter_and_page_by_cursor(api):
    primary = api.project.model.primary_score.name
    first = api.get("/v1/leads", params={"limit": 5}, scope="read").json()
    assert len(first["leads"]) == 5 and first["cursor"]
    second = api.get("/v1/leads", params={"limit": 5, "cursor": first["cursor"]}).json()
    ids = [x["contact_id"] for x in first["leads"] + second["leads"]]
    assert ids == [lead.contact_id for lead in api.project.leads(limit=10)]
    values = [x["scores"][primary] for x in first["leads"] + second["leads"]]
    assert values == sorted(values, reverse=True)
    high = api.get("/v1/leads", params=[("min", "fit=30"), ("limit", 100)]).json()["leads"]
    assert all(x["scores"]["fit"] >= 30 for x in high)
    for params, code in (({"cursor": "nonsense"}, "LS315"), ({"label": "XYZ"}, None),
                         ({"min": "fit"}, "LS306"), ({"sort": "nope"}, "LS312"),
                         ({"limit": 0}, "LS600")):
        refused = api.get("/v1/leads", params=params)
        assert refused.status_code == 422, params
        if code:
            assert refused.json()["errors"][0]["code"] == code


def test_lists_members_and_test(api):
    lists = api.get("/v1/lists", scope="read").json()["lists"]
    assert {"mql", "sql"} <= {x["name"] for x in lists}
    biggest = max(lists, key=lambda x: x["members"])
    assert biggest["members"] >= 2
    name = biggest["name"]
    first = api.get(f"/v1/lists/{name}/members", params={"limit": 1}).json()
    assert first["total"] == biggest["members"] and len(first["members"]) == 1
    rest = api.get(f"/v1/lists/{name}/members",
                   params={"limit": 1000, "cursor": first["cursor"]}).json()
    everyone = [m["contact_id"] for m in first["members"] + rest["members"]]
    assert len(everyone) == len(set(everyone)) == biggest["members"]
    member = everyone[0]
    tested = api.get(f"/v1/lists/{name}/test/{member}").json()
    assert tested["member"] is True
    assert api.get("/v1/lists/nope/members").status_code == 404
    assert api.get(f"/v1/lists/nope/test/{member}").status_code == 404
    assert api.get(f"/v1/lists/{name}/test/nobody-x").status_code == 404


def test_tasks_page_and_done(api):
    tasks = api.get("/v1/tasks", params={"limit": 1}, scope="read").json()
    assert tasks["total"] >= 1
    task = tasks["tasks"][0]
    done = api.post(f"/v1/tasks/{task['id']}/done", scope="sales").json()
    assert done == {"id": task["id"], "status": "done", "changed": True}
    assert api.post(f"/v1/tasks/{task['id']}/done").json()["changed"] is False
    assert api.get("/v1/tasks", params={"limit": 1}).json()["tasks"][0]["status"] == "done"
    if tasks["total"] > 1:
        after = api.get("/v1/tasks", params={"limit": 1, "cursor": tasks["cursor"]}).json()
        assert after["tasks"][0]["id"] > task["id"]
    missing = api.post("/v1/tasks/999999/done")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "LS324"


def test_feedback_stage_log_and_history(api):
    contact = scored(api)
    feedback = api.post(f"/v1/contacts/{contact}/feedback", {"verdict": "not_ready"},
                        scope="sales")
    assert feedback.status_code == 200, feedback.text
    stage = api.put(f"/v1/contacts/{contact}/stage", {"stage": "lead", "by": "ann"},
                    scope="sales")
    assert stage.json() == {"contact_id": contact, "stage": "lead"}
    history = api.get(f"/v1/contacts/{contact}/stages").json()["changes"]
    assert history[-1]["stage"] == "lead" and history[-1]["cause"] == "set by ann"
    log = api.get(f"/v1/contacts/{contact}/log").json()["entries"]
    assert any(e["what"] == "stage" for e in log)
    wrong = api.post(f"/v1/contacts/{contact}/feedback", {"verdict": "maybe"}).json()
    assert wrong["errors"][0]["code"] == "LS321" and wrong["errors"][0]["hint"]
    assert api.put(f"/v1/contacts/{contact}/stage", {"stage": "boss"}).status_code == 422


def test_unknown_contacts_are_404_everywhere(api):
    for path in ("", "/scores", "/scores/history", "/explain", "/log", "/stages"):
        missing = api.get(f"/v1/contacts/nobody-404{path}")
        assert missing.status_code == 404, path
        assert missing.json()["errors"][0]["code"] == "LS310"
    assert api.post("/v1/contacts/nobody-404/feedback",
                    {"verdict": "true_sql"}).status_code == 404
    assert api.put("/v1/contacts/nobody-404/stage", {"stage": "lead"}).status_code == 404
    assert api.get("/v1/nothing").json()["errors"][0]["code"] == "LS604"
    assert api.client.delete("/v1/leads", headers=api.headers()).status_code == 405


def test_outbox_and_retry(api):
    outbox = api.get("/v1/outbox", params={"limit": 2}, scope="read").json()
    assert len(outbox["items"]) == 2 and outbox["cursor"]
    after = api.get("/v1/outbox", params={"limit": 2, "cursor": outbox["cursor"]}).json()
    assert after["items"][0]["id"] > outbox["items"][-1]["id"]
    assert api.get("/v1/outbox", params={"status": "dead"}).json()["items"] == []
    wrong = api.get("/v1/outbox", params={"status": "gone"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["code"] == "LS325"
    assert api.post("/v1/outbox/retry", {"ids": [1]}, scope="admin").json() == {"retried": 0}
    assert api.post("/v1/outbox/retry", scope="admin").json() == {"retried": 0}


def test_cors_is_off_by_default(api):
    answer = api.client.options("/v1/leads", headers={
        "Origin": "https://example.com", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in answer.headers


def test_unscored_scores_keep_their_number_and_say_so(api):
    """The example's `feedback` score has no rule that applies without sales feedback: it is
    unscored for most contacts — 0 in `scores`, `scored: false` beside it, in the stored
    leads (SQLite and PostgreSQL), the computed scores and the explanation alike."""
    leads = api.get("/v1/leads", params={"limit": 100}, scope="read").json()["leads"]
    unscored = [x for x in leads if x["scored"]["feedback"] is False]
    scored = [x for x in leads if x["scored"]["fit"] is True]
    assert unscored and scored
    lead = unscored[0]
    assert lead["scores"]["feedback"] == 0
    scores = api.get(f"/v1/contacts/{lead['contact_id']}/scores", scope="read").json()
    assert scores["scores"]["feedback"] == {"value": 0, "label": None, "scored": False}
    assert scores["scores"]["fit"]["scored"] is True
    explained = api.get(f"/v1/contacts/{lead['contact_id']}/explain").json()
    assert explained["scores"]["feedback"]["scored"] is False
    assert explained["scores"]["feedback"]["value"] == 0
