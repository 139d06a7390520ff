"""Synthetic activity and outcomes, drawn from each contact's latent intent and fit.

The story, per contact: it is created by a first visit (usually ending in a content form),
comes back in bursts of sessions (a visit, then page views, now and then a form or a CTA
click), and opens or clicks the weekly marketing emails while subscribed. High intent means
more activity, more recent bursts, more pricing and customer-story pages. Some contacts
request a demo, book a meeting and become an opportunity, which is later won or lost (more
often won with a good fit); customers keep reading the docs. Everything is vectorised with
numpy over flat per-event arrays; times are whole seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadscore.synthetic import site as s
from leadscore.synthetic import vocabulary as v
from leadscore.synthetic.people import ContactTable

DAY = 86400
HOUR = 3600
NONE = -1  # an outcome that did not happen (yet)


@dataclass
class EventTable:
    """Events sorted by (contact, type, time); columns are parallel numpy arrays."""

    contact: np.ndarray  # int32 contact index
    time: np.ndarray  # int64 POSIX seconds
    type: np.ndarray  # uint8 index into site.EVENT_TYPES
    attributes: np.ndarray  # int32 index into the attribute table

    def __len__(self) -> int:
        return len(self.time)


@dataclass
class Outcomes:
    opportunity_at: np.ndarray  # int64, NONE when none
    won_at: np.ndarray
    lost_at: np.ndarray


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class _Events:
    """Accumulates events as arrays, to be concatenated once."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, contact: np.ndarray, time: np.ndarray, kind: np.ndarray | int,
            attributes: np.ndarray) -> None:
        n = len(contact)
        kinds = np.full(n, kind, dtype=np.uint8) if isinstance(kind, int) else kind
        self.parts.append((contact.astype(np.int32), time.astype(np.int64),
                           kinds.astype(np.uint8), attributes.astype(np.int32)))

    def count(self) -> int:
        return sum(len(p[0]) for p in self.parts)

    def table(self, created: np.ndarray, now: int) -> EventTable:
        contact, time, kind, attributes = (np.concatenate([p[i] for p in self.parts])
                                           for i in range(4))
        time = np.clip(time, created[contact], now)
        order = np.lexsort((time, kind, contact))
        return EventTable(contact[order], time[order], kind[order], attributes[order])


def _pick_rows(rng: np.random.Generator, cumulative: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each row index, a category drawn from that row of a cumulative-probability matrix."""
    u = rng.random(len(rows))
    picked = (u[:, None] > cumulative[rows]).sum(axis=1)
    return np.minimum(picked, cumulative.shape[1] - 1)


def _cumulative_softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.cumsum(e / e.sum(axis=1, keepdims=True), axis=1)


def _campaign_window(sent: np.ndarray, start: np.ndarray, end: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first campaign sent at or after `start` and how many were sent before
    `end`."""
    lo = np.searchsorted(sent, start, side="left")
    hi = np.searchsorted(sent, end, side="left")
    return lo, np.maximum(hi - lo, 0)


@dataclass
class _Plan:
    """Per-contact decisions taken before the regular activity is drawn."""

    demo_at: np.ndarray  # NONE when no bottom-of-funnel request leads to an opportunity
    email_end: np.ndarray  # no marketing email after this moment (unsubscribed, bounced)
    won_at: np.ndarray
    outcomes: Outcomes


def _plan_outcomes(rng: np.random.Generator, people: ContactTable, site: s.Site, now: int,
                   events: _Events) -> _Plan:
    n = len(people)
    created = people.created_at
    intent, fit = people.intent, people.fit
    seniority = people.seniority
    age = now - created
    index = np.arange(n)

    # timing, budget and luck that no data shows
    hidden = rng.normal(0.0, 1.0, n)
    p_opportunity = _sigmoid(-4.1 + 1.0 * intent + 0.8 * fit + 0.9 * hidden)
    p_opportunity[people.excluded] = 0.0
    p_opportunity[seniority == v.STUDENT] *= 0.1
    buyer = (rng.random(n) < p_opportunity) & (age > 2 * DAY)

    demo_at = created + 600 + (rng.random(n) * np.maximum(age - 600, 0)).astype(np.int64)
    meeting_at = demo_at + HOUR + rng.exponential(2 * DAY, n).astype(np.int64)
    opportunity_at = meeting_at + rng.exponential(1 * DAY, n).astype(np.int64)
    requested = buyer & (rng.random(n) < 0.7)  # others were sourced by sales
    booked = buyer & (meeting_at <= now) & (rng.random(n) < 0.92)
    opened = buyer & (opportunity_at <= now)

    sales_form = rng.choice(len(site.sales_forms), n, p=[0.6, 0.25, 0.15])
    events.add(index[requested], demo_at[requested], s.FORM,
               site.sales_forms[sales_form[requested]])
    # high-intent contacts (competitors among them) who ask for a demo but never buy
    tyre_kickers = ~buyer & (rng.random(n) < 0.4 * _sigmoid(2 * (intent - 1.5)))
    tyre_kickers &= age > DAY
    kick_at = created + (rng.random(n) * age).astype(np.int64)
    events.add(index[tyre_kickers], kick_at[tyre_kickers], s.FORM,
               site.sales_forms[sales_form[tyre_kickers]])
    also_met = tyre_kickers & (rng.random(n) < 0.4)
    meeting_kind = rng.integers(0, len(v.MEETING_TYPES), n)
    rep = rng.integers(0, len(v.SALES_REPS), n)
    met = booked | also_met
    meeting_time = np.where(booked, meeting_at, kick_at + DAY)
    events.add(index[met], meeting_time[met], s.MEETING, site.meetings[meeting_kind[met], rep[met]])

    p_win = _sigmoid(-0.5 + 0.7 * fit + 0.3 * intent + 0.8 * rng.normal(0.0, 1.0, n))
    wins = opened & (rng.random(n) < p_win)
    close_at = opportunity_at + 10 * DAY + rng.gamma(2.0, 20 * DAY, n).astype(np.int64)
    closed = opened & (close_at <= now)
    none = np.full(n, NONE, dtype=np.int64)
    outcomes = Outcomes(np.where(opened, opportunity_at, none),
                        np.where(closed & wins, close_at, none),
                        np.where(closed & ~wins, close_at, none))

    # email: unsubscribes and hard bounces end it, soft bounces do not
    camp = site.campaigns
    lo, count = _campaign_window(camp.sent_at, created, np.full(n, now + 1))
    email_end = np.full(n, now + 1, dtype=np.int64)
    which = lo + (rng.random(n) * count).astype(np.int64)
    which = np.minimum(which, max(len(camp.sent_at) - 1, 0))
    has_campaign = count > 0
    delay = HOUR + rng.exponential(DAY, n).astype(np.int64)
    sent = camp.sent_at[which] if len(camp.sent_at) else np.zeros(n, dtype=np.int64)
    out = people.opted_out & has_campaign
    events.add(index[out], sent[out] + delay[out], s.UNSUBSCRIBE, camp.unsubscribed[which[out]])
    email_end[people.opted_out] = np.where(has_campaign, sent, created)[people.opted_out]
    hard = ~people.opted_out & has_campaign & (rng.random(n) < 0.015)
    events.add(index[hard], sent[hard] + 60, s.BOUNCE, camp.hard_bounce[which[hard]])
    email_end[hard] = sent[hard]
    soft = ~people.opted_out & ~hard & has_campaign & (rng.random(n) < 0.03)
    events.add(index[soft], sent[soft] + 60, s.BOUNCE, camp.soft_bounce[which[soft]])

    # the form that created the contact (offline imports have none)
    offline = people.original_source == [name for name, _ in v.ORIGINAL_SOURCES].index("offline")
    by_email = people.original_source == [name for name, _ in v.ORIGINAL_SOURCES].index("email")
    entry = ~offline & (rng.random(n) < 0.9)
    form = rng.integers(0, len(v.CONTENT_FORMS) - 1, n)  # any content form but the newsletter
    form[by_email] = v.CONTENT_FORMS.index("newsletter")
    entry_at = created + 30 + rng.exponential(240, n).astype(np.int64)
    events.add(index[entry], entry_at[entry], s.FORM, site.content_forms[form[entry]])

    return _Plan(np.where(requested, demo_at, NONE), email_end, outcomes.won_at, outcomes)


def _budgets(rng: np.random.Generator, people: ContactTable, regular: int, now: int
             ) -> np.ndarray:
    """Regular events per contact: skewed (most have a few, some very many), more with intent
    and with time since creation."""
    n = len(people)
    if regular <= 0 or n == 0:
        return np.zeros(n, dtype=np.int64)
    age_days = (now - people.created_at) / DAY
    weight = np.exp(0.6 * people.intent + rng.normal(0, 1.1, n)) * (age_days + 10) ** 0.5
    weight = np.minimum(weight, np.quantile(weight, 0.999))  # no single contact dominates
    weight[people.competitor] *= 3
    return rng.multinomial(regular, weight / weight.sum()).astype(np.int64)


def _draw_email(rng: np.random.Generator, people: ContactTable, site: s.Site, plan: _Plan,
                contact: np.ndarray, now: int, events: _Events) -> None:
    camp = site.campaigns
    lo, count = _campaign_window(camp.sent_at, people.created_at[contact],
                                 plan.email_end[contact])
    which = lo + (rng.random(len(contact)) * count).astype(np.int64)
    at = camp.sent_at[which] + 120 + rng.exponential(10 * HOUR, len(contact)).astype(np.int64)
    intent = people.intent[contact]
    click = rng.random(len(contact)) < 0.1 + 0.25 * _sigmoid(intent - 0.5)
    link = np.where(rng.random(len(contact)) < 0.25 + 0.3 * _sigmoid(intent - 1), 1,
                    rng.integers(0, 3, len(contact)))
    kind = np.where(click, s.CLICK, s.OPEN).astype(np.uint8)
    attributes = np.where(click, camp.clicked[which, link], camp.opened[which])
    events.add(contact, np.minimum(at, now), kind, attributes)


def _page_preferences(people: ContactTable, customer: bool) -> np.ndarray:
    """Cumulative probability of each page category, per contact."""
    intent, fit = people.intent, people.fit
    n = len(people)
    logits = np.zeros((n, 8))
    logits[:, s.HOME] = 0.9
    logits[:, s.BLOG] = 1.7 - 0.2 * intent
    logits[:, s.PRICING] = -1.5 + 1.0 * intent
    logits[:, s.CUSTOMERS] = -1.4 + 0.6 * intent + 0.3 * fit
    logits[:, s.PRODUCT] = 0.1 + 0.5 * intent
    logits[:, s.DOCS] = -0.8 + 1.2 * np.isin(people.function, [2, 6, 7])  # engineering, IT, data
    logits[:, s.CAREERS] = -3.0 + 3.0 * (people.seniority == v.STUDENT)
    logits[:, s.COMPANY] = -1.5
    logits[people.competitor, s.PRICING] += 1.5
    if customer:
        logits[:, s.DOCS] += 2.5
        logits[:, s.PRODUCT] += 0.5
        logits[:, s.PRICING] -= 1.0
    return _cumulative_softmax(logits)


def _session_sources(people: ContactTable) -> np.ndarray:
    """Cumulative probability of each visit source (vocabulary.VISIT_SOURCES), per contact."""
    n = len(people)
    logits = np.zeros((n, len(v.VISIT_SOURCES)))
    logits[:, 0] = -0.6 + 0.6 * people.intent  # direct: people who know where they go
    logits[:, 1] = 0.4  # organic search
    logits[:, 2] = -1.2  # paid search
    partner = [name for name, _ in v.ORIGINAL_SOURCES].index("partner_referral")
    logits[:, 3] = -2.5 + 2.5 * (people.original_source == partner)
    logits[:, 4] = -1.5
    logits[:, 5] = -0.8 - 9.0 * people.opted_out
    return _cumulative_softmax(logits)


def _draw_web(rng: np.random.Generator, people: ContactTable, site: s.Site, plan: _Plan,
              contact: np.ndarray, now: int, events: _Events) -> None:
    """Sessions in bursts: each starts with a visit and goes on with page views and the odd
    form, CTA click, share or comment."""
    n_slots = len(contact)
    if n_slots == 0:
        return
    created = people.created_at
    intent = people.intent
    first_of_contact = np.r_[True, contact[1:] != contact[:-1]]
    session_length = 2.5 + 3.0 * _sigmoid(intent)
    starts = first_of_contact | (rng.random(n_slots) < 1.0 / session_length[contact])
    session = np.cumsum(starts) - 1
    owner = contact[starts]  # contact of each session
    n_sessions = len(owner)
    first_session = np.r_[True, owner[1:] != owner[:-1]]
    per_contact = np.bincount(owner, minlength=len(people))

    # bursts: the first at creation, the others spread towards now for high intent
    bursts = 1 + np.minimum(rng.poisson(0.4 + per_contact / 5.0), 15)
    demo = plan.demo_at >= 0
    bursts[demo] = np.maximum(bursts[demo], 2)
    burst_start = np.r_[0, np.cumsum(bursts)[:-1]]
    owner_of_burst = np.repeat(np.arange(len(people)), bursts)
    rank = np.arange(len(owner_of_burst)) - burst_start[owner_of_burst]
    age = (now - created)[owner_of_burst]
    skew = 1.0 / (1.0 + 0.8 * np.maximum(intent[owner_of_burst], 0.0))
    centre = created[owner_of_burst] + (rng.random(len(age)) ** skew * age).astype(np.int64)
    centre[rank == 0] = created[owner_of_burst][rank == 0]
    buying = demo[owner_of_burst] & (rank == 1)
    centre[buying] = np.maximum(plan.demo_at[owner_of_burst][buying] - 2 * DAY,
                                created[owner_of_burst][buying])

    pick = (rng.random(n_sessions) * bursts[owner]).astype(np.int64)
    pick[demo[owner] & (rng.random(n_sessions) < 0.4)] = 1
    pick[first_session] = 0
    burst = burst_start[owner] + pick
    spread = rng.exponential(2.5 * DAY, n_sessions).astype(np.int64)
    spread[first_session] = 0
    session_at = centre[burst] + spread
    late = session_at > now
    session_at[late] = now - (rng.random(int(late.sum())) * 3 * DAY).astype(np.int64)
    session_at = np.maximum(session_at, created[owner])

    gap = 5 + rng.exponential(80, n_slots).astype(np.int64)
    gap[starts] = 0
    elapsed = np.cumsum(gap)
    elapsed -= elapsed[np.flatnonzero(starts)][session]
    at = np.minimum(session_at[session] + elapsed, now)

    # what each slot is
    p_form = 0.012 + 0.03 * _sigmoid(intent - 0.5)
    u = rng.random(n_slots)
    f = p_form[contact]
    kind = np.full(n_slots, s.PAGE_VIEW, dtype=np.uint8)
    kind[u < f + 0.045] = s.CTA
    kind[u < f] = s.FORM
    kind[(u >= f + 0.045) & (u < f + 0.05)] = s.SOCIAL
    kind[(u >= f + 0.05) & (u < f + 0.053)] = s.COMMENT
    kind[starts] = s.VISIT
    attributes = np.zeros(n_slots, dtype=np.int32)

    # visits
    where = np.flatnonzero(starts)
    source = _pick_rows(rng, _session_sources(people), owner)
    original = np.asarray([v.VISIT_SOURCES.index(name) if name in v.VISIT_SOURCES else 0
                           for name, _ in v.ORIGINAL_SOURCES])
    source[first_session] = original[people.original_source[owner[first_session]]]
    weights = np.asarray(s.LANDING_WEIGHTS)
    landing = rng.choice(len(weights), n_sessions, p=weights / weights.sum())
    variant = rng.integers(0, 3, n_sessions)
    attributes[where] = site.visits[source, landing, variant]

    # page views: the category depends on the contact, on whether it is a customer by then and
    # on whether the session is part of the burst before a demo request
    where = np.flatnonzero(kind == s.PAGE_VIEW)
    who = contact[where]
    category = _pick_rows(rng, _page_preferences(people, customer=False), who)
    won_at = plan.won_at[who]
    customer = (won_at >= 0) & (at[where] > won_at)
    if customer.any():
        category[customer] = _pick_rows(rng, _page_preferences(people, customer=True),
                                        who[customer])
    in_buying = buying[burst[session[where]]]
    roll = rng.random(len(where))
    category[in_buying & (roll < 0.35)] = s.PRICING
    category[in_buying & (roll >= 0.35) & (roll < 0.5)] = s.CUSTOMERS
    item_roll = rng.random(len(where))
    for k in range(len(site.pages)):
        chosen = category == k
        items = np.searchsorted(site.page_cumulative[k], item_roll[chosen], side="right")
        attributes[where[chosen]] = site.pages[k][np.minimum(items, len(site.pages[k]) - 1)]

    # forms (content, or now and then a sales form), CTAs, shares, comments
    where = np.flatnonzero(kind == s.FORM)
    p_sales = 0.01 + 0.12 * _sigmoid(2.0 * (intent[contact[where]] - 2.0))
    sales = rng.random(len(where)) < p_sales
    content = rng.integers(0, len(site.content_forms), len(where))
    sales_form = rng.choice(len(site.sales_forms), len(where), p=[0.6, 0.25, 0.15])
    attributes[where] = np.where(sales, site.sales_forms[sales_form], site.content_forms[content])
    for code, ids in ((s.SOCIAL, site.social), (s.COMMENT, site.comments)):
        where = np.flatnonzero(kind == code)
        attributes[where] = ids[rng.integers(0, len(ids), len(where))]
    where = np.flatnonzero(kind == s.CTA)
    cta = np.where(intent[contact[where]] > 1.0, 0, rng.integers(0, len(v.CTAS), len(where)))
    attributes[where] = site.ctas[cta, rng.integers(0, 3, len(where))]
    events.add(contact, at, kind, attributes)


def generate_activity(rng: np.random.Generator, people: ContactTable, site: s.Site, total: int,
                      now: int) -> tuple[EventTable, Outcomes]:
    """About `total` events (exactly, unless the contacts' milestones alone exceed it)."""
    events = _Events()
    plan = _plan_outcomes(rng, people, site, now, events)
    budget = _budgets(rng, people, total - events.count(), now)
    contact = np.repeat(np.arange(len(people), dtype=np.int64), budget)
    created = people.created_at
    # e-mail or web: the first regular event of a contact created on the web is its visit
    _, count = _campaign_window(site.campaigns.sent_at, created, plan.email_end)
    share = rng.beta(2.0, 3.0, len(people)) * 0.8
    share[count == 0] = 0.0
    is_email = rng.random(len(contact)) < share[contact]
    first = np.r_[True, contact[1:] != contact[:-1]] if len(contact) else np.zeros(0, bool)
    offline = [name for name, _ in v.ORIGINAL_SOURCES].index("offline")
    is_email &= ~(first & (people.original_source[contact] != offline))
    _draw_email(rng, people, site, plan, contact[is_email], now, events)
    _draw_web(rng, people, site, plan, contact[~is_email], now, events)
    return events.table(created, now), plan.outcomes
