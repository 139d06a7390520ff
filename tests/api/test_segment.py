"""Segment-spec ingestion end to end through the API: every call type, Basic auth with the key,
idempotency by messageId, anonymous activity attributed once the visitor identifies (scores as
if every message had carried the userId), alias merges, the clock-skew arithmetic, the size
limits and placed mistakes — on SQLite (segments included) and PostgreSQL."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from leadscore.api import create_app
from leadscore.catalog import Catalog
from leadscore.diagnostics import LeadscoreError
from leadscore.ingestion.segment import Reader
from leadscore.project import Project, init_project
from leadscore.storage.maintenance import maintain
from leadscore.storage.privacy import contact_data
from tests.databases import create_database

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@dataclass
class Seg:
    project: Project
    client: TestClient
    key: str

    @property
    def auth(self) -> dict[str, str]:  # as a Segment source sends its write key
        return {"Authorization": "Basic " + base64.b64encode(f"{self.key}:".encode()).decode()}

    def send(self, path: str, body, status: int = 200):
        response = self.client.post(path, json=body, headers=self.auth)
        assert response.status_code == status, response.text
        return response.json()

    def events(self, contact_id: str) -> list[tuple]:
        data = contact_data(self.project.store, contact_id) or {"events": []}
        return sorted((e["event_id"], e["type"], e["occurred_us"], _json(e["attributes"]))
                      for e in data["events"])

    def scores(self, contact_id: str) -> dict:
        found = self.project.contact_scores(contact_id, at=NOW)
        found.pop("as_of")
        return found


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _open(root: Path, url: str | None) -> Seg:
    init_project(root)
    if url is not None:
        config = root / "leadscore.toml"
        import re

        config.write_text(re.sub(r'^url = "sqlite:[^"]*"', f'url = "{url}"',
                                 config.read_text(), flags=re.MULTILINE))
    project = Project.open(root)
    key = project.create_api_key(["ingest"]).secret
    return Seg(project, TestClient(create_app(project), raise_server_exceptions=False), key)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(request, tmp_path) -> Iterator[callable]:
    """Make fresh projects on the parameter's kind of store."""
    made: list[Seg] = []
    databases: list[str] = []
    admin = request.getfixturevalue("postgres_admin") if request.param == "postgresql" \
        else None

    def make() -> Seg:
        url = None
        if admin is not None:
            name = f"leadscore_seg_{secrets.token_hex(6)}"
            url = create_database(admin, name)
            databases.append(name)
        seg = _open(tmp_path / f"p{len(made)}", url)
        made.append(seg)
        return seg

    yield make
    for seg in made:
        seg.client.close()
        seg.project.close()
    for name in databases:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def t(minutes: int) -> str:
    return (AT - timedelta(days=3) + timedelta(minutes=minutes)).isoformat()


def journey(user: str | None, anonymous: str | None) -> list[dict]:
    """A visitor's pages and a form, then identify with traits (both ids when `anonymous`)."""
    ids = {k: v for k, v in (("userId", user), ("anonymousId", anonymous)) if v}
    return [
        {"type": "page", **ids, "messageId": "j1", "timestamp": t(0), "name": "Pricing",
         "context": {"page": {"url": "https://example.com/pricing", "path": "/pricing"}}},
        {"type": "page", **ids, "messageId": "j2", "timestamp": t(5),
         "properties": {"url": "https://example.com/customers/acme"}},
        {"type": "track", **ids, "messageId": "j3", "timestamp": t(9),
         "event": "Form Submission", "properties": {"form_id": "demo-request"}},
        {"type": "identify", "userId": "u-ann", **({"anonymousId": anonymous} if anonymous
                                                   else {}),
         "messageId": "j4", "timestamp": t(10),
         "traits": {"email": "ann@acme.io", "title": "VP Marketing", "employees": "250",
                    "address": {"country": "France", "city": "Paris"}}},
        {"type": "group", "userId": "u-ann", "messageId": "j5", "timestamp": t(11),
         "groupId": "acme", "traits": {"name": "Acme", "industry": "software",
                                       "annualRevenue": 20000000, "plan": "enterprise"}},
    ]


# -- each call type ---------------------------------------------------------------------------

def test_each_call_type_and_what_it_becomes(stores):
    seg = stores()
    seg.send("/v1/identify", {"userId": "u1", "messageId": "i1", "timestamp": t(0),
                              "traits": {"email": "bo@example.com", "firstName": "Bo",
                                         "title": "CTO", "employees": 40,
                                         "address": {"city": "Lyon", "postalCode": "69001"},
                                         "company": {"name": "Bo SA", "plan": "free"}}})
    seg.send("/v1/track", {"userId": "u1", "messageId": "t1", "timestamp": t(1),
                           "event": "Demo Requested", "properties": {"plan": "pro", "seats": 3}})
    seg.send("/v1/page", {"userId": "u1", "messageId": "p1", "timestamp": t(2),
                          "name": "Pricing", "category": "Docs",
                          "context": {"page": {"url": "https://x.io/pricing?a=1",
                                               "path": "/pricing", "referrer": "https://g.co",
                                               "search": "?a=1", "title": "Pricing"}}})
    seg.send("/v1/screen", {"userId": "u1", "messageId": "s1", "timestamp": t(3),
                            "name": "Dashboard", "properties": {"tab": "usage"}})
    out = seg.send("/v1/group", {"userId": "u1", "messageId": "g1", "timestamp": t(4),
                                 "groupId": 77, "traits": {"name": "Acme", "industry": "software",
                                                           "employees": "1,200",
                                                           "foundedYear": 1999}})
    assert out["success"] is True and out["accepted"] == 1
    contact = seg.project.contact("u1")
    assert contact.email == "bo@example.com"
    assert contact.created_at == datetime.fromisoformat(t(0))
    props = contact.properties
    assert props["first_name"] == "Bo" and props["job_title"] == "CTO"
    assert props["city"] == "Lyon" and props["address_postal_code"] == "69001"
    assert props["company"] == "Acme" and props["company_plan"] == "free"  # group came later
    assert props["industry"] == "software" and props["employees"] == 1200
    assert props["company_id"] == "77" and props["company_founded_year"] == 1999
    # the identify's values hold from its own time: as of before the group, 40 employees
    assert seg.project.contact("u1", at=datetime.fromisoformat(t(3))).properties[
        "employees"] == 40
    events = {e[1]: (e[0], e[2], e[3]) for e in seg.events("u1")}
    assert set(events) == {"demo_requested", "page_view", "screen_view"}
    assert events["demo_requested"][0] == "segment:t1"
    assert events["demo_requested"][2] == {"plan": "pro", "seats": 3}
    assert events["page_view"][2] == {"url": "https://x.io/pricing?a=1", "path": "/pricing",
                                      "name": "Pricing", "category": "Docs", "title": "Pricing",
                                      "referrer": "https://g.co", "search": "?a=1"}
    assert events["screen_view"][2] == {"tab": "usage", "name": "Dashboard"}
    assert events["page_view"][1] == int(datetime.fromisoformat(t(2)).timestamp() * 1_000_000)
    # the example model scores the pricing page and the title
    assert seg.scores("u1")["scores"]["engagement"]["value"] > 0


def test_a_batch_applies_its_messages_in_order_with_its_shared_sent_at(stores):
    seg = stores()
    sent = (AT - timedelta(hours=1)).isoformat()
    out = seg.send("/v1/batch", {"batch": [
        {"type": "track", "userId": "u2", "messageId": "b1", "event": "Trial Started",
         "timestamp": (AT - timedelta(hours=2)).isoformat()},
        {"type": "identify", "userId": "u2", "messageId": "b2", "traits": {"plan": "pro"}},
    ], "sentAt": sent, "receivedAt": "ignored at the top"})
    assert out == {"success": True, "received": 2, "accepted": 2, "repeated": 0, "events": 1,
                   "contacts_created": 1, "held": 0, "attributed": 0, "merged": 0}
    [(_, kind, occurred, _)] = seg.events("u2")
    assert kind == "trial_started"
    # the batch's sentAt corrects the message's clock: the server received it just now, one
    # hour after the sender sent it, so it happened 2 h - 1 h + (now - AT) ago by the
    # server's clock; within the test's own run time
    skew = datetime.now(UTC) - (AT - timedelta(hours=1))
    expected = AT - timedelta(hours=2) + skew
    assert abs(occurred / 1e6 - expected.timestamp()) < 60


# -- authentication -------------------------------------------------------------------------

def test_basic_auth_with_the_key_as_user_name_and_scopes(stores):
    seg = stores()
    body = {"userId": "u3", "event": "Signed Up"}
    assert seg.client.post("/v1/track", json=body).status_code == 401
    bearer = {"Authorization": f"Bearer {seg.key}"}
    assert seg.client.post("/v1/track", json=body, headers=bearer).status_code == 200
    as_password = {"Authorization": "Basic " + base64.b64encode(f":{seg.key}".encode()).decode()}
    assert seg.client.post("/v1/track", json=body, headers=as_password).status_code == 200
    wrong = {"Authorization": "Basic " + base64.b64encode(b"lsk_nope:").decode()}
    refused = seg.client.post("/v1/track", json=body, headers=wrong)
    assert refused.status_code == 401 and refused.json()["errors"][0]["code"] == "LS602"
    garbled = seg.client.post("/v1/track", json=body, headers={"Authorization": "Basic %%%"})
    assert garbled.status_code == 401
    assert garbled.json()["errors"][0]["place"] == {"field": "Authorization"}
    read = seg.project.create_api_key(["read"]).secret
    as_read = {"Authorization": "Basic " + base64.b64encode(f"{read}:".encode()).decode()}
    assert seg.client.post("/v1/track", json=body, headers=as_read).status_code == 403
    # the Basic form works on every route, with the route's scope
    assert seg.client.get("/v1/contacts/u3", headers=as_read).status_code == 200


# -- idempotency -----------------------------------------------------------------------------

def test_a_resent_message_changes_nothing_even_within_a_batch(stores):
    seg = stores()
    batch = {"batch": journey("u-ann", None)}
    first = seg.send("/v1/batch", batch)
    assert first["accepted"] == 5 and first["events"] == 3
    before = contact_data(seg.project.store, "u-ann")
    again = seg.send("/v1/batch", batch)
    assert again["accepted"] == 0 and again["repeated"] == 5 and again["events"] == 0
    # the same message id with other content, alone and twice in one batch: still a no-op
    changed = {**journey("u-ann", None)[3], "traits": {"title": "Intern"}}
    repeat = seg.send("/v1/batch", {"batch": [changed, changed]})
    assert repeat["repeated"] == 2
    fresh = {**changed, "messageId": "j4-new", "timestamp": t(20)}
    inside = seg.send("/v1/batch", {"batch": [fresh, {**fresh, "traits": {"title": "CEO"}}]})
    assert inside["accepted"] == 1 and inside["repeated"] == 1
    after = contact_data(seg.project.store, "u-ann")
    assert after["events"] == before["events"]
    assert seg.project.contact("u-ann").properties["job_title"] == "Intern"
    # without a messageId, the id is derived from the content: a resend is still a no-op
    plain = {"userId": "u-ann", "event": "Webinar Attended", "timestamp": t(30)}
    assert seg.send("/v1/track", plain)["accepted"] == 1
    assert seg.send("/v1/track", {**plain, "sentAt": t(31)})["repeated"] == 1
    assert len(seg.events("u-ann")) == 4


# -- identity resolution -----------------------------------------------------------------------

def test_anonymous_activity_counts_for_the_contact_once_it_identifies(stores):
    anonymous, clean = stores(), stores()
    for message in journey(None, "anon-1")[:3]:
        out = anonymous.send("/v1/batch", {"batch": [message]})
        assert out["held"] == 1 and out["events"] == 0
    assert anonymous.project.store.existing_contact_ids(["anon-1", "u-ann"]) == set()
    identified = anonymous.send("/v1/batch", {"batch": journey(None, "anon-1")[3:]})
    assert identified["attributed"] == 3 and identified["events"] == 3
    assert identified["contacts_created"] == 1
    clean.send("/v1/batch", {"batch": journey("u-ann", None)})
    assert anonymous.events("u-ann") == clean.events("u-ann")
    assert anonymous.scores("u-ann") == clean.scores("u-ann")
    assert anonymous.scores("u-ann")["scores"]["engagement"]["value"] > 0
    a, c = anonymous.project.contact("u-ann"), clean.project.contact("u-ann")
    assert (a.created_at, a.email, a.properties) == (c.created_at, c.email, c.properties)
    # the worker picks the contact up: stored scores, stage and lists as in the clean run
    for seg in (anonymous, clean):
        seg.project.process(deliver=False)
    stored = [{(s.score, s.value, s.label) for s in seg.project.store.current_scores()
               if s.contact_id == "u-ann"} for seg in (anonymous, clean)]
    assert stored[0] == stored[1] and stored[0]
    assert anonymous.project.store.current_stage("u-ann") == \
        clean.project.store.current_stage("u-ann")
    # later anonymous activity of the same visitor goes straight to the contact
    later = {"type": "page", "anonymousId": "anon-1", "messageId": "later", "timestamp": t(60),
             "properties": {"url": "https://example.com/pricing/enterprise"}}
    assert anonymous.send("/v1/batch", {"batch": [later]})["events"] == 1
    assert len(anonymous.events("u-ann")) == 4


def test_an_anonymous_id_keeps_its_first_identification(stores):
    seg = stores()
    seg.send("/v1/page", {"anonymousId": "shared", "messageId": "s1", "timestamp": t(0)})
    seg.send("/v1/identify", {"userId": "first", "anonymousId": "shared", "messageId": "s2",
                              "timestamp": t(1)})
    seg.send("/v1/identify", {"userId": "second", "anonymousId": "shared", "messageId": "s3",
                              "timestamp": t(2)})
    seg.send("/v1/page", {"anonymousId": "shared", "messageId": "s4", "timestamp": t(3)})
    assert len(seg.events("first")) == 2 and seg.events("second") == []


@pytest.mark.parametrize("in_segments", [False, True])
def test_alias_merges_two_contacts_as_if_one_id_had_been_used(stores, in_segments):
    merged, clean = stores(), stores()
    old = [{**m, "userId": "u-old"} for m in journey("u-old", None)[:3]]
    new = [{"type": "track", "userId": "u-ann", "messageId": "n1", "timestamp": t(30),
            "event": "Form Submission", "properties": {"form_id": "ebook-guide"}},
           *journey("u-ann", None)[3:]]
    merged.send("/v1/batch", {"batch": old})
    merged.send("/v1/batch", {"batch": new})
    merged.project.process(deliver=False)
    if in_segments:
        if merged.project.store.segments is None:
            pytest.skip("segments are the embedded store's")
        store = merged.project.store
        maintain(store, flush_rows=1)
        with store.read() as connection:  # u-old's events and properties are in segments now
            assert store.segments.live(connection, "events")
            assert store.segments.live(connection, "props")
            assert connection.exec_driver_sql("SELECT count(*) FROM events").scalar() == 0
    out = merged.send("/v1/alias", {"previousId": "u-old", "userId": "u-ann",
                                    "messageId": "al1", "timestamp": t(40)})
    assert out["merged"] == 1 and out["events"] == 3
    clean.send("/v1/batch", {"batch": [{**m, "userId": "u-ann"} for m in old]})
    clean.send("/v1/batch", {"batch": new})
    assert merged.events("u-ann") == clean.events("u-ann")
    assert merged.scores("u-ann") == clean.scores("u-ann")
    assert merged.client.get("/v1/contacts/u-old", headers={
        "Authorization": f"Bearer {merged.project.create_api_key(['read']).secret}"}
    ).status_code == 404
    assert contact_data(merged.project.store, "u-old") is None
    # later messages naming the old id go to the survivor
    merged.send("/v1/track", {"userId": "u-old", "messageId": "after", "event": "Came Back",
                              "timestamp": t(50)})
    assert "came_back" in {e[1] for e in merged.events("u-ann")}
    merged.project.process(deliver=False)
    assert merged.project.store.current_stage("u-old") is None


def test_alias_of_an_anonymous_id_attributes_its_activity(stores):
    seg = stores()
    seg.send("/v1/page", {"anonymousId": "v-9", "messageId": "a1", "timestamp": t(0),
                          "properties": {"url": "https://example.com/pricing"}})
    out = seg.send("/v1/alias", {"previousId": "v-9", "userId": "u-9", "messageId": "a2",
                                 "timestamp": t(1)})
    assert out["attributed"] == 1 and out["merged"] == 0
    assert [e[1] for e in seg.events("u-9")] == ["page_view"]


# -- time -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields,expected", [
    ({"timestamp": "2026-11-30T10:00:00Z", "sentAt": "2026-11-30T10:00:05Z",
      "receivedAt": "2026-11-30T09:00:10Z"}, "2026-11-30T09:00:05+00:00"),  # clock 1 h fast
    ({"timestamp": "2026-11-30T10:00:00Z", "sentAt": "2026-11-30T10:00:05Z"},
     "2026-11-30T11:59:55+00:00"),  # receivedAt: the server's time (12:00)
    ({"originalTimestamp": "2026-11-30T10:00:00Z", "sentAt": "2026-11-30T10:30:00Z",
      "receivedAt": "2026-11-30T10:30:02Z"}, "2026-11-30T10:00:02+00:00"),
    ({"timestamp": "2026-11-30T10:00:00Z", "originalTimestamp": "2026-01-01T00:00:00Z"},
     "2026-11-30T10:00:00+00:00"),  # no sentAt: no correction
    ({}, "2026-11-30T12:00:00+00:00"),  # no time at all: when it was received
    ({"sentAt": "2026-11-30T10:00:00Z"}, "2026-11-30T12:00:00+00:00"),
])
def test_the_clock_skew_arithmetic(fields, expected):
    reader = Reader(Catalog(), NOW)
    [message] = reader.single({"userId": "u", "event": "X", **fields}, "track")
    reader.finish()
    assert message.at == datetime.fromisoformat(expected)
    assert message.event is not None and message.event.occurred_at == message.at


def test_the_corrected_time_is_stored(stores):
    seg = stores()
    out = seg.project.ingest_segment(
        {"userId": "u5", "messageId": "c1", "event": "Clocked", "timestamp": t(0),
         "sentAt": t(30)}, kind="track", now=AT - timedelta(days=3) + timedelta(minutes=31))
    assert out.events == 1
    [(_, _, occurred, _)] = seg.events("u5")
    assert occurred == int((AT - timedelta(days=3) + timedelta(minutes=1)).timestamp() * 1e6)


# -- limits and mistakes ------------------------------------------------------------------------

def test_size_limits_answer_413_in_the_error_shape(stores):
    seg = stores()
    big = {"userId": "u6", "event": "Big", "properties": {"blob": "x" * (33 * 1024)}}
    response = seg.client.post("/v1/track", json=big, headers=seg.auth)
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "LS601"
    small = {"type": "track", "userId": "u6", "event": "Ok"}
    in_batch = seg.client.post("/v1/batch", json={"batch": [small, {**small, **big}]},
                               headers=seg.auth)
    assert in_batch.status_code == 413
    [problem] = in_batch.json()["errors"]
    assert problem["code"] == "LS601" and problem["place"] == {"index": 1}
    many = {"batch": [{**small, "properties": {"blob": "y" * 20_000}}] * 27}
    too_big = seg.client.post("/v1/batch", json=many, headers=seg.auth)
    assert too_big.status_code == 413 and "500 KB" in too_big.json()["errors"][0]["message"]
    assert seg.project.store.existing_contact_ids(["u6"]) == set()


def test_a_bad_message_is_named_by_index_and_field_and_nothing_is_stored(stores):
    seg = stores()
    good = {"type": "track", "userId": "u7", "event": "Fine", "messageId": "ok-1"}
    response = seg.client.post("/v1/batch", headers=seg.auth, json={"batch": [
        good,
        {"type": "identify", "userId": "u7", "traits": {"employees": "lots"}},
        {"type": "track", "anonymousId": "v", "properties": []},
        {"type": "page", "timestamp": "yesterday"},
        {"type": "fly", "userId": "u7"},
        {"type": "group", "userId": "u7"},
        {"type": "track", "userId": "u7", "event": "!!!"},
        {"type": "identify", "userId": "u7", "traits": {"tags": ["a"],
                                                        "address": {"geo": {"lat": 1}}}},
    ]})
    assert response.status_code == 422
    found = {(e["place"].get("index"), e["place"].get("field"), e["code"])
             for e in response.json()["errors"]}
    assert (1, "traits.employees", "LS220") in found or \
        any(i == 1 and f == "traits.employees" for i, f, _ in found)
    assert (2, "properties", "LS623") in found
    assert (3, "userId", "LS622") in found and (3, "timestamp", "LS624") in found
    assert (4, "type", "LS621") in found
    assert (5, "groupId", "LS622") in found
    assert (6, "event", "LS625") in found
    assert (7, "traits.tags", "LS626") in found
    assert (7, "traits.address.geo", "LS626") in found
    for problem in response.json()["errors"]:
        assert set(problem) == {"code", "severity", "message", "place", "text", "hint"}
    assert seg.project.store.existing_contact_ids(["u7"]) == set()
    # the good message alone is accepted afterwards: nothing of the refused batch was kept
    assert seg.send("/v1/batch", {"batch": [good]})["accepted"] == 1


def test_a_single_route_refuses_a_message_of_another_type(stores):
    seg = stores()
    response = seg.client.post("/v1/track", json={"type": "identify", "userId": "u"},
                               headers=seg.auth)
    assert response.status_code == 422
    assert response.json()["errors"][0]["place"] == {"field": "type"}
    for body in ([], "text", {"batch": {}}):
        answer = seg.client.post("/v1/batch", json=body, headers=seg.auth)
        assert answer.status_code == 422 and answer.json()["errors"][0]["code"] in (
            "LS600", "LS620")


def test_reader_errors_are_diagnostics():
    reader = Reader(Catalog(), NOW)
    reader.batch({"batch": [{"type": "alias", "userId": "u"}]})
    with pytest.raises(LeadscoreError) as raised:
        reader.finish()
    [problem] = raised.value.diagnostics
    assert problem.code == "LS622" and problem.location.field == "previousId"


def test_the_batch_route_takes_one_message_of_its_own_type(stores):
    seg = stores()
    out = seg.send("/v1/batch", {"type": "track", "userId": "u8", "event": "Hooked"})
    assert out["accepted"] == 1 and out["events"] == 1
    response = seg.client.post("/v1/batch", json={"userId": "u8"}, headers=seg.auth)
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "LS620"
