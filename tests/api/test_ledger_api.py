"""The score ledger over HTTP (SQLite, and PostgreSQL under the postgres marker): add an entry,
read it back and in the explanation and scores, void it; mistakes in the one error shape;
writes need the sales scope."""

from __future__ import annotations


def test_add_read_and_void_an_entry(api):
    contact = api.project.leads(limit=1)[0].contact_id
    before = api.get(f"/v1/contacts/{contact}/scores").json()["scores"]["total"]["value"]
    added = api.post(f"/v1/contacts/{contact}/ledger",
                     {"score": "total", "change_by": -7.25, "note": "api test", "by": "ops"},
                     scope="sales")
    assert added.status_code == 200, added.text
    entry = added.json()
    assert (entry["op"], entry["amount"], entry["reason"], entry["author"]) == (
        "change", -7.25, "manual", "ops")
    listed = api.get(f"/v1/contacts/{contact}/ledger", scope="read").json()
    assert [e["id"] for e in listed["entries"]] == [entry["id"]]
    scores = api.get(f"/v1/contacts/{contact}/scores").json()["scores"]["total"]
    explained = api.get(f"/v1/contacts/{contact}/explain").json()["scores"]["total"]
    assert scores["value"] == explained["value"] == round(explained["model_value"] - 7.25, 2)
    assert explained["ledger"][0]["note"] == "api test"
    assert abs(explained["model_value"] - before) < 1  # decay moves with the clock

    voided = api.post(f"/v1/ledger/{entry['id']}/void", {"by": "ops"}, scope="sales")
    assert voided.status_code == 200 and voided.json()["voided_by"] == "ops"
    assert api.get(f"/v1/contacts/{contact}/ledger").json()["entries"] == []
    assert len(api.get(f"/v1/contacts/{contact}/ledger",
                       params={"all": "true"}).json()["entries"]) == 1
    again = api.post(f"/v1/ledger/{entry['id']}/void", {})
    assert again.status_code == 422 and again.json()["errors"][0]["code"] == "LS375"


def test_mistakes_and_scopes(api):
    contact = api.project.leads(limit=1)[0].contact_id
    for body, code, status in (
            ({"score": "total"}, "LS370", 422),
            ({"score": "totl", "change_by": 1}, "LS312", 422),
            ({"score": "total", "change_by": 1, "reason": "nope"}, "LS372", 422),
            ({"score": "total", "change_by": 1, "effective": "someday"}, "LS303", 422)):
        refused = api.post(f"/v1/contacts/{contact}/ledger", body)
        assert refused.status_code == status, (body, refused.text)
        assert refused.json()["errors"][0]["code"] == code
    unknown = api.post("/v1/contacts/nobody/ledger", {"score": "total", "change_by": 1})
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["code"] == "LS310"
    missing = api.post("/v1/ledger/987654/void", {})
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "LS374"
    reader = api.post(f"/v1/contacts/{contact}/ledger", {"score": "total", "change_by": 1},
                      scope="read")
    assert reader.status_code == 403
    assert api.project.ledger_entries(contact) == []
