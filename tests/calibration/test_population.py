"""Point-in-time rules: cutoffs, exclusions, and cutting a history at any moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadscore import synthetic
from leadscore.calibration import Cutoff, CutoffKind, Population, Sample, Target
from leadscore.calibration.cases import CaseStream
from leadscore.calibration.population import (
    converted_at,
    left_out_report,
    unit_hash,
)
from leadscore.diagnostics import LeadscoreError
from leadscore.evaluation import ContactSnapshot, EventSeries
from leadscore.storage.history import ContactHistory
from leadscore.storage.outcomes import OutcomeRecord

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(("text", "kind", "offset_days"), [
    ("2026-01-01", CutoffKind.FIXED, 0), ("created+14d", CutoffKind.AFTER_CREATION, 14),
    ("before-opportunity", CutoffKind.BEFORE_OPPORTUNITY, 1),
    ("opportunity-3d", CutoffKind.BEFORE_OPPORTUNITY, 3),
])
def test_cutoff_forms(text, kind, offset_days):
    cutoff = Cutoff.parse(text)
    assert cutoff.kind is kind and cutoff.offset == offset_days * 86400
    assert Cutoff.parse(cutoff.to_text()) == cutoff


def test_a_cutoff_that_cannot_be_read_is_a_diagnostic():
    with pytest.raises(LeadscoreError) as caught:
        Cutoff.parse("created+soon")
    assert caught.value.diagnostics[0].code == "LS411"


def test_snapshot_at_equals_build_on_the_same_history():
    data = synthetic.generate(60, 3000, seed=11, now=NOW)
    for index in range(60):
        created, changes, events = synthetic.contact_history(data, index)
        history = ContactHistory(data.contact_ids[index], created.timestamp())
        for change in sorted(changes, key=lambda c: c.changed_at):
            history.change_times.append(change.changed_at.timestamp())
            history.change_names.append(change.name)
            history.change_values.append(change.value)
        for event in sorted(events, key=lambda e: e.occurred_at):
            series = history.events.setdefault(event.type, EventSeries())
            series.times.append(event.occurred_at.timestamp())
            series.attributes.append(event.attributes)
        for days in (0, 3, 40, 400):
            moment = created + timedelta(days=days)
            cut = history.snapshot_at(moment.timestamp())
            built = ContactSnapshot.build(data.contact_ids[index], moment, created_at=created,
                                          property_changes=changes, events=events)
            assert cut.properties == built.properties
            assert cut.changes == built.changes
            assert {k: s.times for k, s in cut.events.items()} == \
                {k: s.times for k, s in built.events.items()}


def test_targets():
    t = datetime(2026, 1, 5, tzinfo=UTC)
    record = OutcomeRecord("c", opportunity_at=t, won_at=t + timedelta(days=30))
    assert converted_at(record, Target.OPPORTUNITY_OR_WON) == t.timestamp()
    assert converted_at(record, Target.WON) == (t + timedelta(days=30)).timestamp()
    assert converted_at(None, Target.WON) is None


def test_random_split_is_fixed_per_contact():
    sample = Sample(random_share=0.3, random_seed=7)
    other = Sample(random_share=0.3, random_seed=7, random_part="training")
    ids = [f"c{i}" for i in range(2000)]
    held = [i for i in ids if sample.keeps(i, 0)]
    assert 500 < len(held) < 700
    assert not any(other.keeps(i, 0) for i in held)
    assert unit_hash("c1", 7, "split") == unit_hash("c1", 7, "split")


def test_nothing_after_the_cutoff_is_used_and_settled_contacts_are_left_out(synthetic_project):
    store = synthetic_project.store
    population = Population(Cutoff.parse("before-opportunity"))
    stream = CaseStream(store, population)
    seen = 0
    for snap, case in stream:
        seen += 1
        assert snap.as_of == case.cutoff
        assert all(t <= case.cutoff for s in snap.events.values() for t in s.times)
        assert all(t <= case.cutoff for ts in snap.changes.values() for t in ts)
        if case.converted:
            assert case.converted_at > case.cutoff
    assert seen > 2000
    fixed = CaseStream(store, Population(Cutoff.parse("2025-12-01")))
    cases = [case for _, case in fixed]
    assert all(case.created_at <= case.cutoff for case in cases)
    assert fixed.excluded["created after the cutoff"] > 0
    assert fixed.excluded["converted at or before the cutoff"] > 0
    report = {r.rule: r for r in left_out_report(fixed.excluded, fixed.population)}
    assert report["converted at or before the cutoff"].contacts == \
        fixed.excluded["converted at or before the cutoff"]
    assert "2025-12-01" in report["created after the cutoff"].why
