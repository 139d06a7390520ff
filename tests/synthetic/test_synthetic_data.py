"""The synthetic generator: deterministic, the size asked for, valid for the catalog, and
realistic enough that the example model ranks its contacts sensibly."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from leadscore.catalog import (
    STANDARD_EVENT_TYPES,
    STANDARD_PROPERTIES,
    PropertyType,
    coerce_value,
    parse_datetime,
)
from leadscore.evaluation import ContactSnapshot, Scorer
from leadscore.model import load_model
from leadscore.synthetic import (
    CONTACT_COLUMNS,
    OUTCOME_COLUMNS,
    SyntheticData,
    contact_history,
    generate,
    iter_snapshots,
    write_contacts_csv,
    write_events_jsonl,
    write_feedback_csv,
    write_outcomes_csv,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def data() -> SyntheticData:
    return generate(2_000, 40_000, seed=3, now=NOW)


def write_all(data: SyntheticData, folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    write_contacts_csv(data, folder / "contacts.csv")
    write_events_jsonl(data, folder / "events.jsonl")
    write_feedback_csv(data, folder / "feedback.csv")
    write_outcomes_csv(data, folder / "outcomes.csv")
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_gives_the_same_files_byte_for_byte(tmp_path: Path) -> None:
    first = write_all(generate(500, 10_000, seed=11, now=NOW), tmp_path / "a")
    second = write_all(generate(500, 10_000, seed=11, now=NOW), tmp_path / "b")
    other = write_all(generate(500, 10_000, seed=12, now=NOW), tmp_path / "c")
    assert first == second
    assert first["events.jsonl"] != other["events.jsonl"]
    assert first["contacts.csv"] != other["contacts.csv"]


@pytest.mark.parametrize(("contacts", "events"), [(100, 2_000), (1_000, 20_000),
                                                  (3_000, 150_000), (2_000, 2_000)])
def test_the_event_total_is_the_one_asked_for(contacts: int, events: int) -> None:
    data = generate(contacts, events, seed=5, now=NOW)
    assert data.contact_count == contacts
    assert abs(data.event_count - events) <= 0.02 * events


def test_events_use_catalog_types_and_attributes(data: SyntheticData) -> None:
    used = set()
    for kind in np.unique(data.events.type).tolist():
        name = data.event_types[kind]
        definition = STANDARD_EVENT_TYPES[name]
        used.add(name)
        for a in np.unique(data.events.attributes[data.events.type == kind]).tolist():
            attributes = data.attributes[a]
            assert attributes, name
            for key, value in attributes.items():
                assert key in definition.attributes, (name, key)
                if definition.attributes[key] is PropertyType.NUMBER:
                    assert isinstance(value, int | float)
                else:
                    assert isinstance(value, str) and value
    assert {"visit", "page_view", "form_submission", "email_open", "email_click",
            "email_bounce", "meeting_booked", "cta_click"} <= used


def test_attribute_values_look_like_the_product_site(data: SyntheticData) -> None:
    urls = {a["url"] for a in data.attributes if "url" in a}
    forms = {a["form_id"] for a in data.attributes if "form_id" in a}
    sources = {a["source"] for a in data.attributes if "source" in a}
    assert all(u.startswith("https://") for u in urls)
    for fragment in ("/pricing", "/blog/", "/customers/", "/product/", "/docs/"):
        assert any(fragment in u for u in urls), fragment
    assert {"demo-request", "contact-sales", "evaluation-request", "newsletter"} <= forms
    assert any(f.startswith("ebook-") for f in forms)
    assert any(f.startswith("whitepaper-") for f in forms)
    assert any(f.startswith("webinar-") for f in forms)
    assert sources == {"direct", "organic_search", "paid_search", "partner_referral", "social",
                       "email"}
    assert {a["bounce_type"] for a in data.attributes if "bounce_type" in a} == {"hard", "soft"}


def test_events_fall_between_creation_and_now(data: SyntheticData) -> None:
    created = data.contacts.created_at[data.events.contact]
    assert (data.events.time >= created).all()
    assert (data.events.time <= NOW.timestamp()).all()
    assert created.min() >= (NOW - timedelta(days=365)).timestamp()


def test_events_are_sorted_by_contact_type_and_time(data: SyntheticData) -> None:
    ev = data.events
    key = np.lexsort((ev.time, ev.type, ev.contact))
    assert (key == np.arange(len(ev))).all()


def test_activity_is_skewed(data: SyntheticData) -> None:
    per_contact = np.bincount(data.events.contact, minlength=data.contact_count)
    median = np.median(per_contact)
    assert median <= 12
    assert np.percentile(per_contact, 99) >= 8 * median
    assert per_contact.max() < 0.05 * data.event_count


def test_contacts_are_varied_and_typed(data: SyntheticData) -> None:
    columns = data.contacts.columns
    for name in columns:
        assert name in STANDARD_PROPERTIES
    titles = [t.lower() for t in columns["job_title"] if t]
    assert any("vp" in t or "vice president" in t for t in titles)
    assert any("director" in t or "head of" in t for t in titles)
    assert any("manager" in t for t in titles)
    assert any("intern" in t or "student" in t for t in titles)
    assert any(t in ("ceo", "cto", "cmo") or "chief" in t for t in titles)
    industries = Counter(i for i in columns["industry"] if i)
    assert {"Software", "Financial Services", "Healthcare", "Manufacturing"} <= set(industries)
    assert len(industries) >= 10
    employees = np.array([e for e in columns["employees"] if e is not None])
    assert employees.min() < 10 and employees.max() >= 1000
    free = sum(e.endswith(("@gmail.com", "@yahoo.com", "@hotmail.com", "@outlook.com"))
               for e in columns["email"])
    assert 0.03 < free / data.contact_count < 0.4
    assert len(set(columns["email"])) == data.contact_count
    for flag in ("is_competitor", "is_vendor", "email_opt_out"):
        share = sum(columns[flag]) / data.contact_count
        assert 0 < share < 0.1, flag
    revenue = [(e, r) for e, r in zip(columns["employees"], columns["annual_revenue"],
                                      strict=True) if e and r]
    correlation = np.corrcoef(np.log([e for e, _ in revenue]), np.log([r for _, r in revenue]))
    assert correlation[0, 1] > 0.7


def test_outcomes_are_consistent(data: SyntheticData) -> None:
    out = data.outcomes
    opportunity, won, lost = out.opportunity_at, out.won_at, out.lost_at
    assert not ((won >= 0) & (lost >= 0)).any()
    closed = (won >= 0) | (lost >= 0)
    assert (opportunity[closed] >= 0).all()
    assert (np.maximum(won, lost)[closed] > opportunity[closed]).all()
    assert (np.maximum(won, lost) <= NOW.timestamp()).all()
    assert 0.005 < (won >= 0).mean() < 0.1


def test_files_are_readable(data: SyntheticData, tmp_path: Path) -> None:
    write_all(data, tmp_path)
    with open(tmp_path / "contacts.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CONTACT_COLUMNS
    assert len(rows) == data.contact_count
    for row in rows[:300]:
        assert parse_datetime(row["created_at"]) == parse_datetime(row["updated_at"])
        for name, text in row.items():
            if name in STANDARD_PROPERTIES and name != "created_at":
                definition = STANDARD_PROPERTIES[name]
                coerce_value(text, definition.type, options=definition.options)
    lines = (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == data.event_count
    ids = set()
    previous = ""
    for line in lines:
        event = json.loads(line)
        assert set(event) == {"event_id", "contact_id", "type", "occurred_at", "attributes"}
        assert event["occurred_at"].endswith("Z") and event["occurred_at"] >= previous
        previous = event["occurred_at"]
        ids.add(event["event_id"])
    assert len(ids) == data.event_count
    with open(tmp_path / "outcomes.csv", newline="", encoding="utf-8") as f:
        outcomes = list(csv.DictReader(f))
    assert tuple(outcomes[0]) == OUTCOME_COLUMNS and len(outcomes) == data.contact_count
    won = [o for o in outcomes if o["won_at"]]
    assert len(won) == int(data.won().sum())
    assert all(parse_datetime(o["won_at"]) > parse_datetime(o["opportunity_at"]) for o in won)


def test_written_events_match_the_data(data: SyntheticData, tmp_path: Path) -> None:
    write_events_jsonl(data, tmp_path / "events.jsonl")
    by_contact: dict[str, list[tuple[str, float, str]]] = {}
    with open(tmp_path / "events.jsonl", encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            by_contact.setdefault(e["contact_id"], []).append(
                (e["type"], parse_datetime(e["occurred_at"]).timestamp(),
                 json.dumps(e["attributes"], sort_keys=True)))
    for index in range(0, data.contact_count, 97):
        _, _, records = contact_history(data, index)
        expected = sorted((r.type, r.occurred_at.timestamp(),
                           json.dumps(dict(r.attributes), sort_keys=True)) for r in records)
        assert sorted(by_contact.get(data.contact_ids[index], [])) == expected


def assert_same_snapshot(fast: ContactSnapshot, built: ContactSnapshot) -> None:
    assert fast.contact_id == built.contact_id
    assert fast.as_of == built.as_of
    assert fast.created_at == built.created_at
    assert fast.properties == built.properties
    assert fast.changes == built.changes
    assert set(fast.events) == set(built.events)
    for name, series in built.events.items():
        assert fast.events[name].times == series.times, name
        assert [dict(a) for a in fast.events[name].attributes] == \
            [dict(a) for a in series.attributes], name


@pytest.mark.parametrize("days_back", [0, 45, 200])
def test_fast_snapshots_equal_built_ones(data: SyntheticData, days_back: int) -> None:
    as_of = NOW - timedelta(days=days_back, hours=days_back % 7)
    snapshots = {s.contact_id: s for s in iter_snapshots(data, as_of)}
    created = data.contacts.created_at
    assert len(snapshots) == int((created <= as_of.timestamp()).sum())
    for index in range(0, data.contact_count, 13):
        contact_id = data.contact_ids[index]
        if created[index] > as_of.timestamp():
            assert contact_id not in snapshots
            continue
        created_at, changes, records = contact_history(data, index)
        built = ContactSnapshot.build(contact_id, as_of, created_at=created_at,
                                      property_changes=changes, events=records)
        assert_same_snapshot(snapshots[contact_id], built)


def test_sales_feedback_is_given_later_at_its_own_moment(data: SyntheticData,
                                                         tmp_path: Path) -> None:
    at, created = data.contacts.feedback_at, data.contacts.created_at
    assert at is not None
    judged = np.flatnonzero(at >= 0)
    assert len(judged) > 20
    assert (at[judged] >= created[judged]).all() and (at[judged] < NOW.timestamp()).all()
    assert np.median(at[judged] - created[judged]) > 7 * 86400
    opportunity = data.outcomes.opportunity_at
    sold = judged[opportunity[judged] >= 0]
    assert len(sold) and (at[sold] <= opportunity[sold]).all()  # judged before the deal
    verdicts = data.contacts.columns["sales_feedback"]
    assert all(verdicts[i] is None for i in np.flatnonzero(at < 0))
    write_feedback_csv(data, tmp_path / "feedback.csv")
    with open(tmp_path / "feedback.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["updated_at"] for r in rows] == sorted(r["updated_at"] for r in rows)
    assert {r["contact_id"]: r["sales_feedback"] for r in rows} == {
        data.contact_ids[i]: verdicts[i] for i in judged.tolist()}
    for i in judged[:8].tolist():
        moment = datetime.fromtimestamp(int(at[i]), tz=UTC)
        for as_of, known in ((moment - timedelta(seconds=1), False), (moment, True)):
            snap = next(s for s in iter_snapshots(data, as_of)
                        if s.contact_id == data.contact_ids[i])
            assert ("sales_feedback" in snap.properties) is known
            created_at, changes, records = contact_history(data, i)
            assert_same_snapshot(snap, ContactSnapshot.build(
                snap.contact_id, as_of, created_at=created_at, property_changes=changes,
                events=records))


def test_snapshots_share_attribute_dicts(data: SyntheticData) -> None:
    seen: dict[int, int] = {}
    for snap in iter_snapshots(data, NOW):
        for series in snap.events.values():
            for attributes in series.attributes:
                seen[id(attributes)] = 1
    assert len(seen) <= len(data.attributes) < 2_000


@pytest.mark.slow
def test_the_example_model_ranks_generated_contacts_sensibly() -> None:
    data = generate(6_000, 120_000, seed=21, now=NOW)
    model = load_model(str(files("leadscore.project") / "templates" / "model.yaml"))
    scorer = Scorer(model)
    results = [scorer.score(snap) for snap in iter_snapshots(data, NOW)]
    total = np.array([r.value("total") for r in results])
    stages = Counter(r.stage for r in results)
    assert 0.01 * len(results) < stages["sql"] < 0.2 * len(results)
    assert 0.05 * len(results) < stages["mql"] < 0.4 * len(results)
    assert stages["lead"] > 0.5 * len(results)
    assert np.std(total) > 15
    auc = roc_auc_score(data.won(), total)
    assert 0.65 <= auc <= 0.95, auc


@settings(max_examples=25, deadline=None)
@given(contacts=st.integers(1, 300), per_contact=st.integers(2, 40),
       seed=st.integers(0, 2**32 - 1), days=st.integers(1, 400))
def test_any_arguments_give_well_formed_data(contacts: int, per_contact: int, seed: int,
                                             days: int) -> None:
    events = contacts * per_contact
    data = generate(contacts, events, seed=seed, now=NOW, days=days)
    assert data.contact_count == contacts
    assert abs(data.event_count - events) <= 0.02 * events
    ev = data.events
    created = data.contacts.created_at
    assert (created >= NOW.timestamp() - days * 86400).all()
    assert (ev.time >= created[ev.contact]).all() and (ev.time <= NOW.timestamp()).all()
    assert (np.lexsort((ev.time, ev.type, ev.contact)) == np.arange(len(ev))).all()
    assert sum(s.event_count() for s in iter_snapshots(data, NOW)) == data.event_count
