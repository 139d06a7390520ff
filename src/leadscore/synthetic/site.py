"""The synthetic company's website, forms and email campaigns as interned attribute dicts.

Every event's attributes are one of a few hundred distinct dicts (a page view of /pricing has
the same attributes whoever views it), so events store an index into `AttributeTable.items`
and snapshots share the dicts instead of holding millions of copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from leadscore.synthetic import vocabulary as v

# event types the generator emits, in the order of their codes
EVENT_TYPES = ("visit", "page_view", "form_submission", "cta_click", "email_open",
               "email_click", "email_bounce", "email_unsubscribe", "meeting_booked",
               "social_interaction", "blog_comment")
(VISIT, PAGE_VIEW, FORM, CTA, OPEN, CLICK, BOUNCE, UNSUBSCRIBE, MEETING, SOCIAL,
 COMMENT) = range(len(EVENT_TYPES))

# page categories
HOME, BLOG, PRICING, CUSTOMERS, PRODUCT, DOCS, CAREERS, COMPANY = range(8)
PAGE_CATEGORIES = (v.HOME_PAGES, v.BLOG_POSTS, v.PRICING_PAGES, v.CUSTOMER_STORIES,
                   v.PRODUCT_PAGES, v.DOCS_PAGES, v.CAREER_PAGES, v.COMPANY_PAGES)
LANDING_PAGES = ("/", v.BLOG_POSTS[0], v.BLOG_POSTS[1], v.BLOG_POSTS[3], "/pricing", "/product",
                 v.CUSTOMER_STORIES[0], "/docs/getting-started")
LANDING_WEIGHTS = (4.0, 2.0, 2.0, 1.5, 1.5, 1.5, 0.5, 1.0)


class AttributeTable:
    """Distinct attribute dicts; `intern` returns the index of an equal dict, adding it once."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._index: dict[tuple, int] = {}

    def intern(self, attributes: dict[str, Any]) -> int:
        key = tuple(sorted(attributes.items()))
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self.items)
            self.items.append(attributes)
        return found


def _title(path: str) -> str:
    last = path.rstrip("/").rsplit("/", 1)[-1] or "home"
    return f"{last.replace('-', ' ').capitalize()} | Example"


def _zipf(count: int, exponent: float = 0.9) -> np.ndarray:
    weights = 1.0 / np.arange(1, count + 1) ** exponent
    return np.cumsum(weights) / weights.sum()


@dataclass
class Campaigns:
    """Marketing emails sent to everyone subscribed: send times and attribute ids."""

    names: list[str]
    sent_at: np.ndarray  # int64, ascending
    opened: np.ndarray  # attribute id of email_open, per campaign
    clicked: np.ndarray  # (campaigns, 3) attribute ids of email_click, one per link
    hard_bounce: np.ndarray
    soft_bounce: np.ndarray
    unsubscribed: np.ndarray


@dataclass
class Site:
    table: AttributeTable
    pages: list[np.ndarray]  # per category: attribute ids of its page views
    page_cumulative: list[np.ndarray]  # per category: cumulative popularity of its pages
    visits: np.ndarray  # (source, landing, variant) → attribute id
    content_forms: np.ndarray
    sales_forms: np.ndarray  # demo-request, contact-sales, evaluation-request
    ctas: np.ndarray  # (cta, page) → id
    meetings: np.ndarray  # (meeting type, rep) → id
    social: np.ndarray
    comments: np.ndarray
    campaigns: Campaigns = field(repr=False)


def _visit(source: str, landing: str, variant: int) -> dict[str, Any]:
    attributes: dict[str, Any] = {"source": source, "url": v.SITE + landing}
    if source in ("organic_search", "paid_search"):
        attributes["referrer"] = v.SEARCH_REFERRER
    elif source == "partner_referral":
        attributes["referrer"] = v.PARTNER_SITES[variant]
    elif source == "social":
        attributes["referrer"] = v.SOCIAL_SITES[variant]
    if source == "paid_search":
        attributes["utm_medium"] = "cpc"
        attributes["utm_campaign"] = ("brand", "lead-scoring-software", "mql-automation")[variant]
    elif source == "email":
        attributes["utm_medium"] = "email"
        attributes["utm_campaign"] = ("newsletter", "product-update", "webinar-invite")[variant]
    elif source == "social":
        attributes["utm_medium"] = "social"
    return attributes


def _campaign_schedule(start: int, now: int) -> list[tuple[int, str, str]]:
    """(send time, name, kind): a weekly newsletter on Tuesdays, a monthly product update,
    a webinar invitation every three weeks."""
    sends: list[tuple[int, str, str]] = []
    first = datetime.fromtimestamp(start, tz=UTC).replace(hour=0, minute=0, second=0)
    day = first - timedelta(days=first.weekday())  # a Monday
    end = datetime.fromtimestamp(now, tz=UTC)
    week = 0
    while day <= end:
        tuesday = day + timedelta(days=1, hours=14)
        sends.append((int(tuesday.timestamp()), f"newsletter-{tuesday:%Y-%m-%d}", "newsletter"))
        if tuesday.day <= 7:
            thursday = day + timedelta(days=3, hours=16)
            sends.append((int(thursday.timestamp()), f"product-update-{thursday:%Y-%m}",
                          "product-update"))
        if week % 3 == 1:
            wednesday = day + timedelta(days=2, hours=15)
            sends.append((int(wednesday.timestamp()), f"webinar-invite-{wednesday:%Y-%m-%d}",
                          "webinar-invite"))
        day += timedelta(days=7)
        week += 1
    return sorted(s for s in sends if start <= s[0] <= now)


def _build_campaigns(table: AttributeTable, start: int, now: int) -> Campaigns:
    schedule = _campaign_schedule(start, now)
    names, sent, opened, clicked, hard, soft, unsub = [], [], [], [], [], [], []
    for i, (at, name, kind) in enumerate(schedule):
        email_id = f"em-{i + 1:04d}"
        base = {"campaign": name, "email_id": email_id}
        blog = v.BLOG_POSTS[(i * 7) % len(v.BLOG_POSTS)]
        second = {"newsletter": "/pricing", "product-update": "/product",
                  "webinar-invite": "/webinars"}[kind]
        links = (v.SITE + blog, v.SITE + second, v.SITE + "/customers/" +
                 v.CUSTOMER_STORIES[i % len(v.CUSTOMER_STORIES)].rsplit("/", 1)[-1])
        names.append(name)
        sent.append(at)
        opened.append(table.intern(base))
        clicked.append([table.intern({**base, "url": link}) for link in links])
        hard.append(table.intern({**base, "bounce_type": "hard"}))
        soft.append(table.intern({**base, "bounce_type": "soft"}))
        unsub.append(table.intern(dict(base)))
    as_array = np.asarray
    return Campaigns(names, as_array(sent, dtype=np.int64), as_array(opened, dtype=np.int32),
                     as_array(clicked, dtype=np.int32).reshape(-1, 3),
                     as_array(hard, dtype=np.int32), as_array(soft, dtype=np.int32),
                     as_array(unsub, dtype=np.int32))


def build_site(start: int, now: int) -> Site:
    """All attribute dicts, interned in a fixed order (so ids never depend on the data)."""
    table = AttributeTable()
    pages, cumulative = [], []
    for category in PAGE_CATEGORIES:
        ids = [table.intern({"url": v.SITE + path, "title": _title(path)}) for path in category]
        pages.append(np.asarray(ids, dtype=np.int32))
        cumulative.append(_zipf(len(ids)))
    visits = np.asarray([[[table.intern(_visit(source, landing, variant)) for variant in range(3)]
                          for landing in LANDING_PAGES] for source in v.VISIT_SOURCES],
                        dtype=np.int32)
    form_pages = {"newsletter": "/blog", "demo-request": "/demo",
                  "contact-sales": "/contact-sales", "evaluation-request": "/pricing/enterprise"}
    content = [table.intern({"form_id": f, "url": v.SITE + form_pages.get(f, "/resources/" + f)})
               for f in v.CONTENT_FORMS]
    sales = [table.intern({"form_id": f, "url": v.SITE + form_pages[f]}) for f in v.SALES_FORMS]
    ctas = [[table.intern({"cta_id": cta, "url": v.SITE + page})
             for page in ("/", v.BLOG_POSTS[0], "/pricing")] for cta in v.CTAS]
    meetings = [[table.intern({"meeting_type": kind, "owner": rep}) for rep in v.SALES_REPS]
                for kind in v.MEETING_TYPES]
    social = [table.intern({"network": network, "action": action, "url": v.SITE + post})
              for network in ("linkedin", "x") for action in ("like", "share")
              for post in v.BLOG_POSTS[:3]]
    comments = [table.intern({"url": v.SITE + post}) for post in v.BLOG_POSTS[:12]]
    campaigns = _build_campaigns(table, start, now)
    as_ids = np.asarray
    return Site(table, pages, cumulative, visits, as_ids(content, dtype=np.int32),
                as_ids(sales, dtype=np.int32), as_ids(ctas, dtype=np.int32),
                as_ids(meetings, dtype=np.int32), as_ids(social, dtype=np.int32),
                as_ids(comments, dtype=np.int32), campaigns)
