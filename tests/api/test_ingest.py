"""Native ingestion: batches checked by the import rules, stored whole or not at all, a resend
a no-op, contacts made due for the worker, and the size limits."""

from __future__ import annotations

import json

from leadscore.api.limits import BATCH_LIMIT, MESSAGE_LIMIT


def event(contact: str, n: int, **extra):
    return {"event_id": f"api-{contact}-{n}", "contact_id": contact, "type": "page_view",
            "occurred_at": "2026-03-01T09:30:00Z", "attributes": {"url": "/pricing"}, **extra}


def counts(api) -> dict:
    return api.project.stats()["counts"]


def test_contacts_are_upserted_and_made_due(api):
    body = {"contacts": [{"contact_id": "api-1", "email": "ann@example.com",
                          "properties": {"job_title": "VP Marketing", "employees": "1,200"}}]}
    done = api.post("/v1/contacts", body, scope="ingest")
    assert done.status_code == 200, done.text
    assert done.json() == {"received": 1, "inserted": 1, "updated": 0, "unchanged": 0,
                           "repeated": 0, "contacts_created": 0}
    again = api.post("/v1/contacts", body, scope="ingest").json()
    assert again["inserted"] == 0 and again["updated"] == 0
    shown = api.get("/v1/contacts/api-1", scope="read").json()
    assert shown["email"] == "ann@example.com"
    assert shown["properties"]["employees"] == 1200
    assert api.project.automation.next_due_at() is not None  # the worker will look at it


def test_events_are_appended_once(api):
    api.post("/v1/contacts", {"contacts": [{"contact_id": "api-2"}]})
    before = counts(api)["events"]
    batch = {"events": [event("api-2", 1), event("api-2", 2), event("api-2", 1)]}
    first = api.post("/v1/events", batch, scope="ingest").json()
    assert first["inserted"] == 2 and first["repeated"] == 1
    resent = api.post("/v1/events", batch, scope="ingest").json()
    assert resent["inserted"] == 0 and resent["unchanged"] == 2
    assert counts(api)["events"] == before + 2
    # no event id: derived from the content, so a resend is a no-op too
    bare = {"events": [{k: v for k, v in event("api-2", 3).items() if k != "event_id"}]}
    assert api.post("/v1/events", bare).json()["inserted"] == 1
    assert api.post("/v1/events", bare).json()["inserted"] == 0


def test_a_bad_item_refuses_the_whole_batch_with_its_index_and_field(api):
    before = counts(api)["events"]
    batch = {"events": [event("c0000001", 10), event("c0000001", 11, occurred_at="yesterday"),
                        {**event("c0000001", 12), "colour": "red"}]}
    refused = api.post("/v1/events", batch)
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert [(e["code"], e["place"]) for e in errors] == [
        ("LS213", {"index": 1, "field": "occurred_at"}),
        ("LS210", {"index": 2, "field": "colour"})]
    assert all(e["message"] and e["hint"] for e in errors)
    assert counts(api)["events"] == before  # nothing of the batch was stored


def test_events_of_unknown_contacts(api):
    batch = {"events": [event("c0000001", 20), event("nobody-1", 1), event("nobody-2", 1)]}
    refused = api.post("/v1/events", batch)
    assert refused.status_code == 422
    assert [(e["code"], e["place"]["index"]) for e in refused.json()["errors"]] == [
        ("LS219", 1), ("LS219", 2)]
    made = api.post("/v1/events", {**batch, "create_contacts": True}).json()
    assert made["inserted"] == 3 and made["contacts_created"] == 2
    assert api.get("/v1/contacts/nobody-1").status_code == 200


def test_outcomes(api):
    body = {"outcomes": [{"contact_id": "c0000002", "opportunity_at": "2026-03-20"}]}
    done = api.post("/v1/outcomes", body, scope="ingest")
    assert done.status_code == 200 and done.json()["inserted"] == 1
    refused = api.post("/v1/outcomes", {"outcomes": [{"contact_id": "nobody-9"},
                                                     {"contact_id": "c0000003",
                                                      "won_at": "soon"}]})
    assert [(e["code"], e["place"]) for e in refused.json()["errors"]] == [
        ("LS401", {"index": 1, "field": "won_at"})]
    unknown = api.post("/v1/outcomes", {"outcomes": [{"contact_id": "nobody-9"}]}).json()
    assert unknown["errors"][0]["code"] == "LS403"


def test_the_shape_of_the_body_is_checked(api):
    wrong = api.post("/v1/events", {"events": [1, {"contact_id": "x"}]})
    assert wrong.status_code == 422
    first = wrong.json()["errors"][0]
    assert first["code"] == "LS600" and first["place"]["index"] == 0
    missing = api.post("/v1/events", {"evnts": []}).json()["errors"][0]
    assert missing["code"] == "LS600" and missing["place"]["field"] == "events"
    broken = api.client.post("/v1/events", content=b"{not json", headers={
        **api.headers(), "Content-Type": "application/json"})
    assert broken.status_code == 422 and broken.json()["errors"][0]["code"] == "LS600"


def test_bodies_past_the_limits_get_413(api):
    big = {"events": [event("c0000001", n) for n in range(4000)]}
    assert len(json.dumps(big)) > BATCH_LIMIT
    refused = api.post("/v1/events", big)
    assert refused.status_code == 413
    assert refused.json()["errors"][0]["code"] == "LS601"
    within = {"events": [event("c0000001", n) for n in range(300)]}
    assert MESSAGE_LIMIT < len(json.dumps(within)) < BATCH_LIMIT
    assert api.post("/v1/events", within).status_code == 200
    message = {"verdict": "true_sql", "by": "x" * MESSAGE_LIMIT}
    assert api.post("/v1/contacts/c0000001/feedback", message).status_code == 413
    # a chunked body without a length is counted as it comes
    chunks = iter([b'{"events": [', b" " * BATCH_LIMIT, b"]}"])
    streamed = api.client.post("/v1/events", content=chunks, headers=api.headers())
    assert streamed.status_code == 413
