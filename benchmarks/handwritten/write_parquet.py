"""Write `leadscore.synthetic.generate(...)` data as the Parquet a data team would keep.

    contacts.parquet  one row per contact: contact_id, created_at (TIMESTAMP, UTC), a typed
                      column per property (numbers DOUBLE, flags BOOLEAN, text VARCHAR), and
                      feedback_at: when sales's verdict (sales_feedback, score_adjustment) was
                      given — before then those two are not known
    events.parquet    one row per event: contact_id, type, occurred_at (TIMESTAMP, UTC) and a
                      VARCHAR column per attribute

and, for the compiled query, `canonical_views(...)`: the canonical relations as views over the
same two files (contacts and values as one view, `ls_people`, bound to both names).
Generation runs in chunks of contacts, so 10,000,000 contacts fit in memory.

    python benchmarks/handwritten/write_parquet.py OUT_DIR [--contacts N] [--events N] [--seed N]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from leadscore.synthetic import PROPERTY_COLUMNS, SyntheticData, generate

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NUMBERS = ("employees", "annual_revenue", "score_adjustment")
FLAGS = ("email_opt_out", "is_employee", "is_partner", "is_competitor", "is_vendor")
ATTRIBUTES = ("url", "title", "referrer", "source", "utm_campaign", "utm_medium", "form_id",
              "campaign", "email_id", "bounce_type", "cta_id", "network", "action",
              "meeting_type", "owner")
TIMESTAMP = pa.timestamp("us", tz="UTC")


def contact_table(data: SyntheticData, offset: int = 0) -> pa.Table:
    columns: dict[str, Any] = {
        "contact_id": pa.array(data.contact_ids, pa.string()),
        "created_at": pa.array(data.contacts.created_at.astype(np.int64) * 1_000_000,
                               TIMESTAMP),
    }
    for name in PROPERTY_COLUMNS:
        values = data.contacts.columns[name]
        kind = pa.float64() if name in NUMBERS else pa.bool_() if name in FLAGS else pa.string()
        if name in NUMBERS:
            values = [None if v is None else float(v) for v in values]
        columns[name] = pa.array(values, kind)
    feedback = data.contacts.feedback_at
    at = (np.full(data.contact_count, -1, dtype=np.int64) if feedback is None
          else feedback.astype(np.int64))
    columns["feedback_at"] = pa.array(np.where(at >= 0, at * 1_000_000, 0), TIMESTAMP,
                                      mask=at < 0)
    return pa.table(columns)


def event_table(data: SyntheticData) -> pa.Table:
    ev = data.events
    ids = np.asarray(data.contact_ids, dtype=object)
    kinds = np.asarray(data.event_types, dtype=object)
    columns: dict[str, Any] = {
        "contact_id": pa.array(ids[ev.contact], pa.string()),
        "type": pa.array(kinds[ev.type], pa.string()),
        "occurred_at": pa.array(ev.time.astype(np.int64) * 1_000_000, TIMESTAMP),
    }
    for name in ATTRIBUTES:
        values = np.asarray([a.get(name) for a in data.attributes] + [None], dtype=object)
        columns[name] = pa.array(values[ev.attributes], pa.string())
    return pa.table(columns)


def write(out: Path, contacts: int, events: int, seed: int, chunk: int = 1_000_000) -> None:
    """Generate in chunks of contacts (each chunk its own seed and id range) and append."""
    out.mkdir(parents=True, exist_ok=True)
    contact_writer = event_writer = None
    done_contacts = done_events = 0
    start = time.perf_counter()
    part = 0
    while done_contacts < contacts:
        n = min(chunk, contacts - done_contacts)
        m = round(events * (done_contacts + n) / contacts) - done_events
        data = generate(n, m, seed=seed + part, now=NOW)
        if part:  # ids unique across chunks
            data.contacts.ids = [f"{i}-{part}" for i in data.contacts.ids]
        c, e = contact_table(data), event_table(data)
        if contact_writer is None:
            contact_writer = pq.ParquetWriter(out / "contacts.parquet", c.schema)
            event_writer = pq.ParquetWriter(out / "events.parquet", e.schema)
        contact_writer.write_table(c)
        assert event_writer is not None
        event_writer.write_table(e, row_group_size=1_000_000)
        done_contacts += n
        done_events += data.event_count
        part += 1
        print(f"  {done_contacts:,} contacts, {done_events:,} events "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
    if contact_writer is not None and event_writer is not None:
        contact_writer.close()
        event_writer.close()


def canonical_views(contacts: str, events: str, as_of_us: int,
                    properties: dict[str, Any], attributes: set[tuple[str, str]]
                    ) -> dict[str, str]:
    """DuckDB SQL of the canonical relations over the natural files, for what a compiled
    query reads (`CompiledQuery.required_properties`, `.required_attributes`)."""
    values = ["contact_id"]
    for name, (_, changed) in properties.items():
        if changed:
            raise ValueError("the natural layout keeps no history of changes")
        if name == "created_at":
            values.append('epoch_us(created_at) AS "created_at"')
        elif name in ("sales_feedback", "score_adjustment"):  # known from sales's verdict on
            values.append(f'CASE WHEN epoch_us(feedback_at) <= {as_of_us} THEN "{name}" END '
                          f'AS "{name}"')
        else:
            values.append(f'"{name}"')
    event_columns = ["contact_id", "type", "epoch_us(occurred_at) AS occurred_us"]
    for attribute, kind in sorted(attributes):
        if kind != "string":
            raise ValueError(f"the natural layout keeps attributes as text, not {kind}")
        event_columns.append(f'"{attribute}" AS "{attribute}:string"')
    # one relation for contacts and values (the compiled query reads it once when both
    # names are bound to it), as the natural file holds them together
    return {
        "ls_people": f"SELECT epoch_us(created_at) AS created_us, {', '.join(values)} "
                     f"FROM read_parquet('{contacts}')",
        "ls_events": f"SELECT {', '.join(event_columns)} FROM read_parquet('{events}')",
    }


PEOPLE = {"ls_contacts": "ls_people", "ls_values": "ls_people"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write(args.out, args.contacts, args.events, args.seed)


if __name__ == "__main__":
    main()
