"""The score ledger's rule, for all inputs (Hypothesis): of the entries that apply, the last
set-to (by effective time, then id) replaces the model's value and every change-by after it
adds, in hundredths; an entry applies from its effective time (included) to its expiry
(excluded); the next moment is the earliest start or end still to come."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from leadscore.evaluation.arithmetic import round2
from leadscore.evaluation.ledger import (
    LedgerEntry,
    adjust,
    applying,
    in_effect,
    next_moment_us,
    to_cents,
)

NOW = 1_000_000


@st.composite
def entries(draw):
    found = []
    for i in range(draw(st.integers(0, 6))):
        effective = draw(st.integers(NOW - 10, NOW + 10))
        expires = draw(st.one_of(st.none(), st.integers(effective + 1, NOW + 20)))
        found.append(LedgerEntry(draw(st.integers(1, 50)) * 10 + i, "c", draw(
            st.sampled_from(["s", "t"])), draw(st.sampled_from(["set", "change"])),
            draw(st.integers(-100_000, 100_000)), effective, expires,
            voided_us=draw(st.sampled_from([None, None, NOW]))))
    return found


@given(entries(), st.integers(-100_000, 100_000))
def test_the_last_set_to_then_every_later_change_by(found, model_cents):
    model_value = model_cents / 100
    live = sorted((e for e in found if e.score == "s" and e.voided_us is None
                   and e.effective_us <= NOW and (e.expires_us is None or NOW < e.expires_us)),
                  key=lambda e: (e.effective_us, e.id))
    assert applying(found, "s", NOW) == live
    value = Decimal(model_cents) / 100
    for entry in live:
        value = Decimal(entry.cents) / 100 if entry.op == "set" else value + Decimal(
            entry.cents) / 100
    expected = model_value if not live else float(value.quantize(Decimal("0.01")))
    assert adjust(model_value, live) == expected
    assert adjust(model_value, live) == round2(adjust(model_value, live))
    kept = in_effect(live)
    assert all(e.op == "change" for e in kept[1:])
    assert set(kept) <= set(live) and (not live or kept[-1] == live[-1])


@given(entries())
def test_the_next_moment_is_the_earliest_start_or_end_to_come(found):
    moments = [m for e in found if e.voided_us is None
               for m in (e.effective_us, e.expires_us) if m is not None and m > NOW]
    starts = [e.effective_us for e in found if e.voided_us is None and e.effective_us > NOW]
    ends = [e.expires_us for e in found if e.voided_us is None and e.effective_us <= NOW
            and e.expires_us is not None and e.expires_us > NOW]
    best = min(starts + ends, default=None)
    assert next_moment_us(found, NOW) == best
    assert best is None or best in moments


@given(st.decimals(min_value=-10_000, max_value=10_000, places=3))
def test_amounts_are_kept_in_hundredths_half_away_from_zero(amount):
    cents = to_cents(float(amount))
    want = int((abs(amount) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    assert abs(cents) == want and (cents == 0 or (cents > 0) == (amount > 0))


def test_an_amount_rounds_as_written():
    assert (to_cents(1.005), to_cents(-1.005), to_cents(2.675), to_cents(-0.004)) == (
        101, -101, 268, 0)
