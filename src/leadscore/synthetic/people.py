"""Synthetic contacts: companies first (industry, size, revenue, country, domain), then people
at those companies (name, title, email), each with a latent fit and buying intent.

Fit drives who they are (target industries, mid-size companies, target countries, business
email, seniority); intent drives what they will do (`leadscore.synthetic.activity`). Both are
kept so tests and backtests can look behind the data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from leadscore.synthetic import vocabulary as v

DAY = 86400


@dataclass
class ContactTable:
    """One row per contact, columns in contact order (contact i is `ids[i]`)."""

    ids: list[str]
    created_at: np.ndarray  # int64 POSIX seconds
    columns: dict[str, list]  # property name → typed values (None = unknown)
    fit: np.ndarray  # latent fit, about N(0, 1.3)
    intent: np.ndarray  # latent buying intent, about N(0, 1)
    seniority: np.ndarray  # vocabulary level (EXECUTIVE … NO_TITLE)
    function: np.ndarray  # index into vocabulary.FUNCTIONS
    original_source: np.ndarray  # index into vocabulary.ORIGINAL_SOURCES
    excluded: np.ndarray  # bool: competitor, vendor, employee or partner (never buys)
    competitor: np.ndarray  # bool
    opted_out: np.ndarray  # bool
    # when sales gave its verdict (sales_feedback, score_adjustment): int64 POSIX seconds,
    # NONE (-1) for a lead sales has not judged by `now`; set once activity is known
    feedback_at: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)


FEEDBACK_COLUMNS = ("sales_feedback", "score_adjustment")  # known from `feedback_at` on


def time_feedback(rng: np.random.Generator, people: ContactTable, opportunity_at: np.ndarray,
                  now: int) -> None:
    """Give each verdict a moment: sales judges a lead days or weeks after it came in (2 days
    plus an exponential lag of mean 3 weeks), and before its opportunity when it has one. A
    verdict that would fall after `now` has not been given: its columns become unknown."""
    created = people.created_at
    count = len(people)
    lag = (2 * DAY + rng.exponential(21 * DAY, count)).astype(np.int64)
    share = rng.uniform(0.5, 0.95, count)
    at = created + lag
    has_opportunity = opportunity_at >= 0
    before = created + ((opportunity_at - created) * share).astype(np.int64)
    at = np.where(has_opportunity & (at >= opportunity_at), before, at)
    judged = np.asarray([f is not None for f in people.columns["sales_feedback"]], dtype=bool)
    given = judged & (at < now)
    people.feedback_at = np.where(given, at, -1).astype(np.int64)
    for name in FEEDBACK_COLUMNS:
        column = people.columns[name]
        for i in np.flatnonzero(judged & ~given).tolist():
            column[i] = None


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _pick(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


@dataclass
class _Companies:
    names: list[str]
    domains: list[str]
    quality: np.ndarray  # latent company fit
    industry: list[str | None]
    employees: np.ndarray  # int64, 0 = unknown
    revenue: np.ndarray  # int64, 0 = unknown
    country: np.ndarray  # index into COUNTRIES
    kind: np.ndarray  # 0 ordinary, 1 competitor, 2 vendor, 3 partner, 4 ourselves


COUNTRIES = (*v.TARGET_COUNTRIES, *v.OTHER_COUNTRIES)
ORDINARY, COMPETITOR, VENDOR, PARTNER, OURSELVES = range(5)


def _company_names(rng: np.random.Generator, count: int) -> list[str]:
    a, b, s = v.COMPANY_WORDS_A, v.COMPANY_WORDS_B, v.COMPANY_SUFFIXES
    space = len(a) * len(b)
    picks = rng.permutation(space)
    suffixes = rng.integers(0, len(s), size=count)
    names = []
    for i in range(count):
        k = int(picks[i % space])
        base = f"{a[k // len(b)]} {b[k % len(b)]}"
        if i >= space:
            base = f"{base} {i // space + 1}"
        suffix = s[suffixes[i]]
        names.append(f"{base} {suffix}" if suffix else base)
    return names


def _generate_companies(rng: np.random.Generator, count: int) -> _Companies:
    quality = rng.normal(0.0, 1.0, count)
    names = _company_names(rng, count)
    kind = np.zeros(count, dtype=np.int8)
    special = rng.random(count)
    kind[special < 0.012] = COMPETITOR
    kind[(special >= 0.012) & (special < 0.022)] = VENDOR
    kind[(special >= 0.022) & (special < 0.030)] = PARTNER
    kind[0] = OURSELVES
    for label, pool in ((COMPETITOR, v.COMPETITORS), (VENDOR, v.VENDORS), (PARTNER, v.PARTNERS)):
        for k in np.flatnonzero(kind == label).tolist():
            names[k] = pool[k % len(pool)]
    names[0] = "Example"

    target_industry = rng.random(count) < _sigmoid(-0.1 + 1.3 * quality)
    t_pick = rng.integers(0, len(v.TARGET_INDUSTRIES), count)
    o_pick = rng.integers(0, len(v.OTHER_INDUSTRIES), count)
    unknown_industry = rng.random(count) < 0.12
    industry: list[str | None] = [
        None if unknown_industry[i]
        else v.TARGET_INDUSTRIES[t_pick[i]] if target_industry[i]
        else v.OTHER_INDUSTRIES[o_pick[i]]
        for i in range(count)
    ]
    for k in np.flatnonzero(kind == COMPETITOR).tolist():
        industry[k] = "Software"

    # size: log-normal, better companies tend to be mid-size to large
    log_size = rng.normal(3.0 + 1.0 * np.clip(quality, -2, 2.5), 1.4)
    employees = np.clip(np.round(np.exp(log_size)), 1, 250_000).astype(np.int64)
    per_head = np.exp(rng.normal(np.log(160_000), 0.55, count))
    revenue = employees * per_head
    revenue = (np.round(revenue / 10_000) * 10_000).astype(np.int64)
    revenue[revenue <= 0] = 10_000
    employees[rng.random(count) < 0.10] = 0
    revenue[rng.random(count) < 0.18] = 0

    target_country = rng.random(count) < _sigmoid(0.7 + 0.8 * quality)
    t_weights = np.array([w for _, w, _ in v.TARGET_COUNTRIES])
    o_weights = np.array([w for _, w, _ in v.OTHER_COUNTRIES])
    country = np.where(
        target_country,
        rng.choice(len(t_weights), count, p=t_weights / t_weights.sum()),
        len(t_weights) + rng.choice(len(o_weights), count, p=o_weights / o_weights.sum()),
    )
    domains = []
    for i, name in enumerate(names):
        tld = v.COUNTRY_DOMAINS.get(COUNTRIES[country[i]][0], ".com")
        if tld != ".com" and special[i] > 0.5:
            tld = ".com"
        base = name.rsplit(" ", 1)[0] if name.endswith(v.COMPANY_SUFFIXES[:7]) else name
        domains.append(f"{_slug(base)}{tld}")
    domains[0] = v.OWN_DOMAIN
    return _Companies(names, domains, quality, industry, employees, revenue, country, kind)


def _spread_creation(rng: np.random.Generator, count: int, now: int, days: int) -> np.ndarray:
    """Creation times over the window, growing over time (more contacts lately), in order."""
    u = rng.random(count)
    # density rising linearly from 1 to 2 across the window
    position = (np.sqrt(1 + 3 * u) - 1) / 1.0
    created = now - days * DAY + (position * days * DAY).astype(np.int64)
    created = np.minimum(created, now - 60)
    return np.sort(created)


def _vary_case(rng: np.random.Generator, titles: list[str]) -> list[str]:
    """Some people type their title in lower or upper case."""
    draw = rng.random(len(titles))
    return [t.lower() if d < 0.06 else t.upper() if d > 0.98 else t
            for t, d in zip(titles, draw, strict=True)]


def generate_contacts(rng: np.random.Generator, count: int, *, now: int, days: int
                      ) -> ContactTable:
    companies = _generate_companies(rng, max(8, count // 3))
    m = len(companies.names)
    # bigger companies have more contacts in the database
    weight = np.sqrt(np.maximum(companies.employees, 5).astype(float))
    weight[companies.kind != ORDINARY] *= 2.5
    weight[0] = 1.0
    company = rng.choice(m, size=count, p=weight / weight.sum())
    kind = companies.kind[company]

    seniority = _pick(rng, v.SENIORITY_WEIGHTS, count)
    function = rng.integers(0, len(v.FUNCTIONS), count)
    person_fit = np.asarray(v.SENIORITY_FIT)[seniority]
    fit = 0.8 * companies.quality[company] + person_fit + rng.normal(0, 0.5, count)
    intent = rng.normal(0, 1, count) + 0.3 * fit
    intent[seniority == v.STUDENT] -= 0.5
    competitor = kind == COMPETITOR
    intent[competitor] += 1.0  # competitors study the pricing page
    excluded = kind != ORDINARY

    created = _spread_creation(rng, count, now, days)
    source = _pick(rng, [w for _, w in v.ORIGINAL_SOURCES], count)

    # names, titles, emails
    first = rng.integers(0, len(v.FIRST_NAMES), count)
    last = rng.integers(0, len(v.LAST_NAMES), count)
    template = rng.random(count)
    titles: list[str] = []
    for i in range(count):
        options = v.TITLE_TEMPLATES[int(seniority[i])]
        text = options[int(template[i] * len(options))]
        titles.append(text.replace("{f}", v.FUNCTIONS[function[i]]))
    titles = _vary_case(rng, titles)

    free_p = _sigmoid(-1.6 - 0.7 * fit)
    free_p[seniority == v.STUDENT] = 0.65
    free_p[excluded] = 0.0
    free = rng.random(count) < free_p
    free_domain = _pick(rng, [w for _, w in v.FREE_EMAIL_DOMAINS], count)
    style = rng.integers(0, 3, count)
    emails: list[str] = []
    seen: set[str] = set()
    for i in range(count):
        f, la = _slug(v.FIRST_NAMES[first[i]]), _slug(v.LAST_NAMES[last[i]])
        local = (f"{f}.{la}", f"{f[0]}{la}", f"{f}{la[0]}")[style[i]]
        domain = v.FREE_EMAIL_DOMAINS[free_domain[i]][0] if free[i] else \
            companies.domains[company[i]]
        email = f"{local}@{domain}"
        n = 2
        while email in seen:
            email = f"{local}{n}@{domain}"
            n += 1
        seen.add(email)
        emails.append(email)

    opted_out = rng.random(count) < np.where(intent < -0.5, 0.06, 0.02)
    missing_title = seniority == v.NO_TITLE
    employees = companies.employees[company]
    revenue = companies.revenue[company]
    country = companies.country[company]
    city_pick = rng.random(count)
    owned = rng.random(count) < np.where(country < len(v.TARGET_COUNTRIES), 0.85, 0.4)
    rep = rng.integers(0, len(v.SALES_REPS), count)
    referrers = _referrers(rng, source)

    # what sales said about leads it already saw: few 'not ready' (with the points it took
    # away), fewer 'unqualified' (mostly poor fits), some 'true SQL' (mostly high intent)
    verdict = rng.random(count)
    true_sql = verdict < np.where(intent > 1.0, 0.04, 0.002)
    unqualified = (verdict > 0.985) & (fit < 0.0)
    not_ready = ~true_sql & ~unqualified & (verdict > 0.96) & (intent > 0.0)
    feedback = np.where(true_sql, 1, np.where(not_ready, 2, np.where(unqualified, 3, 0)))
    takeaway = -rng.integers(10, 41, count)

    ids = [f"c{i + 1:07d}" for i in range(count)]
    columns: dict[str, list] = {
        "email": emails,
        "first_name": [v.FIRST_NAMES[i] for i in first],
        "last_name": [v.LAST_NAMES[i] for i in last],
        "company": [companies.names[i] for i in company],
        "job_title": [None if missing_title[i] else titles[i] for i in range(count)],
        "industry": [companies.industry[i] for i in company],
        "employees": [int(e) if e > 0 else None for e in employees],
        "annual_revenue": [int(r) if r > 0 else None for r in revenue],
        "country": [COUNTRIES[k][0] for k in country],
        "city": [_city(COUNTRIES[k][2], u) for k, u in zip(country, city_pick, strict=True)],
        "original_source": [v.ORIGINAL_SOURCES[s][0] for s in source],
        "referrer_url": referrers,
        "owner": [v.SALES_REPS[r] if o else None for r, o in zip(rep, owned, strict=True)],
        "lifecycle_stage": ["subscriber" if s == _EMAIL_SOURCE else "lead" for s in source],
        "email_opt_out": [bool(x) for x in opted_out],
        "is_employee": [bool(x) for x in kind == OURSELVES],
        "is_partner": [bool(x) for x in kind == PARTNER],
        "is_competitor": [bool(x) for x in competitor],
        "is_vendor": [bool(x) for x in kind == VENDOR],
        "sales_feedback": [(None, "true_sql", "not_ready", "unqualified")[f] for f in feedback],
        "score_adjustment": [int(t) if f == 2 else None
                             for f, t in zip(feedback, takeaway, strict=True)],
    }
    return ContactTable(ids, created, columns, fit, intent, seniority, function, source,
                        excluded, competitor, opted_out)


_EMAIL_SOURCE = [s for s, _ in v.ORIGINAL_SOURCES].index("email")


def _city(cities: tuple[str, ...], u: float) -> str | None:
    return None if u > 0.9 else cities[int(u / 0.9 * len(cities)) % len(cities)]


def _referrers(rng: np.random.Generator, source: np.ndarray) -> list[str | None]:
    names = [s for s, _ in v.ORIGINAL_SOURCES]
    pick = rng.integers(0, 3, len(source))
    out: list[str | None] = []
    for s, p in zip(source, pick, strict=True):
        name = names[s]
        if name in ("organic_search", "paid_search"):
            out.append(v.SEARCH_REFERRER)
        elif name == "social":
            out.append(v.SOCIAL_SITES[p])
        elif name == "partner_referral":
            out.append(v.PARTNER_SITES[p])
        else:
            out.append(None)
    return out
