"""Properties that hold for any import history (Hypothesis, on an in-memory SQLite store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.storage import ContactInput, EventInput, Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)

values = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["a", "b", ""]), st.booleans())
contact_inputs = st.builds(
    lambda cid, hours, props: ContactInput(cid, T0 + timedelta(hours=hours), properties=props),
    st.sampled_from(["c1", "c2", "c3"]),
    st.integers(0, 48),
    st.dictionaries(st.sampled_from(["p", "q", "r"]), values, max_size=3),
)
event_inputs = st.builds(
    lambda n, cid, hours, kind: EventInput(f"e{n}", cid, kind, T0 + timedelta(hours=hours),
                                           {"n": n}),
    st.integers(0, 30), st.sampled_from(["c1", "c2", "c3"]), st.integers(0, 48),
    st.sampled_from(["visit", "page_view"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(st.lists(contact_inputs, min_size=1, max_size=6), min_size=1,
                        max_size=4),
       events=st.lists(event_inputs, max_size=12), hours=st.integers(-1, 50))
def test_streamed_snapshots_equal_snapshots_built_from_history(
        batches: list[list[ContactInput]], events: list[EventInput], hours: int) -> None:
    with Store.open("sqlite://") as store:
        for batch in batches:
            store.upsert_contacts(batch)
            before = store.counts()
            again = store.upsert_contacts(batch)  # the same import twice: nothing new
            assert again.inserted == again.updated == 0
            assert store.counts() == before
        known = store.existing_contact_ids(e.contact_id for e in events)
        ours = [e for e in events if e.contact_id in known]
        store.add_events(ours)
        assert store.add_events(ours).inserted == 0  # sent twice, stored once

        as_of = T0 + timedelta(hours=hours)
        for snap in store.load_snapshots(as_of, batch_size=2):
            _, created, changes, history = store.load_contact(snap.contact_id)
            built = ContactSnapshot.build(snap.contact_id, as_of, created_at=created,
                                          property_changes=changes, events=history)
            assert snap.properties == built.properties
            assert snap.changes == built.changes
            assert {k: v.times for k, v in snap.events.items()} == {
                k: v.times for k, v in built.events.items()}
