"""Writing synthetic data as the files `leadscore import` reads: contacts.csv, events.jsonl
(one event per line, ISO 8601 UTC times) and outcomes.csv (for backtests).

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

# updated_at: when the row's values became true — at creation, as in `contact_history`, so an
# import can be seen as of any past moment just like `iter_snapshots`
CONTACT_COLUMNS = ("contact_id", "email", "created_at", "updated_at", *PROPERTY_COLUMNS[1:])
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
        values = [columns[name] for name in PROPERTY_COLUMNS[1:]]
        for i, contact_id in enumerate(data.contact_ids):
            writer.writerow([contact_id, emails[i], created[i], created[i],
                             *(_cell(col[i]) for col in values)])


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
