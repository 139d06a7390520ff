from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadscore.lifecycle import OTHER, STAGES, forward_move, normalize_stage, stage_rank


@pytest.mark.parametrize("current,target,moved", [
    (None, "lead", "lead"),
    ("lead", "mql", "mql"),
    ("mql", "sql", "sql"),
    ("sql", "mql", None),  # never backward
    ("customer", "sql", None),
    ("opportunity", "mql", None),
    ("mql", "mql", None),
    (OTHER, "sql", None),  # 'other' stands apart
    ("lead", None, None),
])
def test_automatic_moves_only_go_forward(current, target, moved):
    assert forward_move(current, target) == moved


@given(current=st.sampled_from([None, *STAGES]), target=st.sampled_from(STAGES))
def test_a_move_never_lowers_the_rank(current, target):
    moved = forward_move(current, target)
    if moved is not None and current is not None:
        assert stage_rank(moved) > stage_rank(current)


def test_hubspot_stage_names_are_understood():
    assert normalize_stage("marketingqualifiedlead") == "mql"
    assert normalize_stage("Sales Qualified Lead") == "sql"
    assert normalize_stage("Customer") == "customer"
