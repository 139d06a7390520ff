"""List-membership diffing over a batch (`lists.changes`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leadscore.lists.changes import ListChanges

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_joins_and_leaves_are_logged_and_netted_per_list_and_contact():
    changes = ListChanges()
    assert changes.record("c1", {"a"}, {"b", "c"}, T0) == (["b", "c"], ["a"])
    assert changes.record("c2", set(), {"a"}, T0) == (["a"], [])
    assert changes.joins() == [{"list": n, "contact_id": c, "joined_at": T0}
                               for n, c in [("b", "c1"), ("c", "c1"), ("a", "c2")]]
    assert changes.leaves() == [("a", "c1")]
    assert len(changes.log) == 4


def test_a_contact_that_leaves_and_rejoins_within_a_batch_changes_no_membership():
    changes = ListChanges()
    changes.record("c1", {"a"}, set(), T0)
    changes.record("c1", set(), {"a"}, T0 + timedelta(seconds=1))
    assert changes.joins() == [] and changes.leaves() == []
    assert [row["change"] for row in changes.log] == ["leave", "join"]  # both moves recorded


def test_a_contact_that_joins_and_leaves_within_a_batch_changes_no_membership():
    changes = ListChanges()
    changes.record("c1", set(), {"a"}, T0)
    changes.record("c1", {"a"}, set(), T0 + timedelta(seconds=1))
    assert changes.joins() == [] and changes.leaves() == []
