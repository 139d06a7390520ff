"""Writing synthetic data as the files `leadscore import` reads: contacts.csv, events.jsonl
(one event per line, ISO 8601 UTC times), feedback.csv (sales's verdicts, each at the moment it
was given: imported as contacts, it adds to their history) and outcomes.csv (for backtests).

Output is a pure function of the data, so the same seed gives the same bytes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from leadscore.synthetic.activity import NONE
from leadscore.synthetic.dataset import PROPERTY_COLUMNS, SyntheticData, event_id
from leadscore.synthetic.people import FEEDBACK_COLUMNS

# updated_at: when the row's values became true — at creation (feedback.csv: at the verdict),
# as in `contact_history`, so an import can be seen as of any past moment like `iter_snapshots`
CREATION_COLUMNS = tuple(n for n in PROPERTY_COLUMNS[1:] if n not in FEEDBACK_COLUMNS)
CONTACT_COLUMNS = ("contact_id", "email", "created_at", "updated_at", *CREATION_COLUMNS)
FEEDBACK_FILE_COLUMNS = ("contact_id", "updated_at", *FEEDBACK_COLUMNS)
OUTCOME_COLUMNS = ("contact_id", "opportunity_at", "won_at", "lost_at")
_CHUNK = 50_000


def format_times(seconds: np.ndarray) -> list[str]:
    """POSIX seconds → ISO 8601 UTC strings ('2026-03-01T09:30:00Z'), vectorised."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return [t + "Z" for t in text.tolist()]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_contacts_csv(data: SyntheticData, path: str | Path) -> None:
    columns = data.contacts.columns
    created = format_times(data.contacts.created_at)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CONTACT_COLUMNS)
        emails = columns["email"]
        values = [columns[name] for name in CREATION_COLUMNS]
        for i, contact_id in enumerate(data.contact_ids):
            writer.writerow([contact_id, emails[i], created[i], created[i],
                             *(_cell(col[i]) for col in values)])


COMPANY_COLUMNS = ("company_id", "name", "domain", "industry", "employees", "annual_revenue",
                   "country", "created_at", "updated_at")


def write_companies_csv(data: SyntheticData, path: str | Path) -> None:
    """The companies of the contacts with a business e-mail (the free-mail domains of
    `companies.association` group no one), in order of their first contact: `a00001`, …,
    with the values their contacts carry and the creation time of their first contact."""
    from leadscore.companies.association import FREE_MAIL_DOMAINS, FreeMail, email_domain

    free = FreeMail(FREE_MAIL_DOMAINS)
    columns = data.contacts.columns
    created = format_times(data.contacts.created_at)
    first: dict[str, int] = {}
    for i, email in enumerate(columns["email"]):
        domain = email_domain(email)
        if domain is not None and domain not in free and domain not in first:
            first[domain] = i
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COMPANY_COLUMNS)
        for n, (domain, i) in enumerate(first.items(), start=1):
            name = columns["company"][i]
            writer.writerow([f"a{n:05d}", _cell(name), domain,
                             *(_cell(columns[c][i]) for c in ("industry", "employees",
                                                              "annual_revenue", "country")),
                             created[i], created[i]])


def write_events_jsonl(data: SyntheticData, path: str | Path) -> None:
    """Events in time order (as a tracking feed would send them), ids stable per seed."""
    ev = data.events
    rendered = [json.dumps(a, ensure_ascii=False, separators=(",", ":")) for a in data.attributes]
    types = [json.dumps(t) for t in data.event_types]
    contacts = [json.dumps(c) for c in data.contact_ids]
    order = np.argsort(ev.time, kind="stable")
    with open(path, "w", encoding="utf-8") as f:
        for start in range(0, len(order), _CHUNK):
            chunk = order[start:start + _CHUNK]
            times = format_times(ev.time[chunk])
            lines = [
                f'{{"event_id":"{event_id(data, p)}","contact_id":{contacts[c]},'
                f'"type":{types[k]},"occurred_at":"{t}","attributes":{rendered[a]}}}\n'
                for p, c, k, t, a in zip(chunk.tolist(), ev.contact[chunk].tolist(),
                                         ev.type[chunk].tolist(), times,
                                         ev.attributes[chunk].tolist(), strict=True)
            ]
            f.write("".join(lines))


def write_feedback_csv(data: SyntheticData, path: str | Path) -> None:
    """Sales's verdicts in the order they were given: contact_id, updated_at (the moment),
    sales_feedback and score_adjustment (points 'not ready' took away)."""
    at = data.contacts.feedback_at
    if at is None:
        at = np.full(data.contact_count, -1, dtype=np.int64)
    given = np.flatnonzero(at >= 0)
    order = given[np.argsort(at[given], kind="stable")]
    times = format_times(at[order]) if len(order) else []
    columns = [data.contacts.columns[name] for name in FEEDBACK_COLUMNS]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(FEEDBACK_FILE_COLUMNS)
        for i, moment in zip(order.tolist(), times, strict=True):
            writer.writerow([data.contact_ids[i], moment, *(_cell(col[i]) for col in columns)])


def write_outcomes_csv(data: SyntheticData, path: str | Path) -> None:
    """One row per contact; a time is empty when that outcome did not happen by `now`."""
    out = data.outcomes
    columns = []
    for values in (out.opportunity_at, out.won_at, out.lost_at):
        text = format_times(np.where(values == NONE, 0, values))
        columns.append(["" if v == NONE else t for v, t in zip(values.tolist(), text,
                                                                   strict=True)])
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(OUTCOME_COLUMNS)
        for i, contact_id in enumerate(data.contact_ids):
            writer.writerow([contact_id, columns[0][i], columns[1][i], columns[2][i]])
