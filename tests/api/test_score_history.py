"""A contact's score history: every recorded change, newest first, paged by cursor."""

from __future__ import annotations


def test_score_history_newest_first_paged_by_cursor(api):
    contact = api.project.leads(limit=1)[0].contact_id
    stored = api.project.store.score_history(contact)
    assert stored, "the fixture scored every contact once"
    whole = api.get(f"/v1/contacts/{contact}/scores/history", scope="read").json()
    assert whole["contact_id"] == contact and whole["total"] == len(stored)
    assert whole["cursor"] is None and len(whole["changes"]) == len(stored)
    times = [c["computed_at"] for c in whole["changes"]]
    assert times == sorted(times, reverse=True)
    assert {(c["score"], c["label"]) for c in whole["changes"]} == \
        {(s.score, s.label) for s in stored}
    paged, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get(f"/v1/contacts/{contact}/scores/history", params=params).json()
        assert len(page["changes"]) <= 2
        paged += page["changes"]
        cursor = page["cursor"]
        if cursor is None:
            break
    assert paged == whole["changes"]


def test_score_history_of_one_model_and_mistakes(api):
    contact = api.project.leads(limit=1)[0].contact_id
    name = api.project.model.name
    mine = api.get(f"/v1/contacts/{contact}/scores/history", params={"model": name}).json()
    assert mine["changes"] and all(c["model"] == name for c in mine["changes"])
    other = api.get(f"/v1/contacts/{contact}/scores/history", params={"model": "nope"}).json()
    assert other["total"] == 0 and other["changes"] == [] and other["cursor"] is None
    bad = api.get(f"/v1/contacts/{contact}/scores/history", params={"cursor": "!!"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "LS315"
    missing = api.get("/v1/contacts/nobody-404/scores/history")
    assert missing.status_code == 404
    error = missing.json()["errors"][0]
    assert error["code"] == "LS310" and error["hint"]
