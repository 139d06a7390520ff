"""`make bench` (second part): a backtest of 1,000,000 synthetic contacts with 20,000,000 events.

A million contacts with twenty million events do not fit in memory as Python objects, so the
history is generated and scored in chunks (`leadscore.synthetic` with one seed per chunk:
50,000 contacts and 1,000,000 events each) and only numbers per contact are kept. Every
contact is scored as of one moment (90 days before the data's end) with the example model
under the evaluator's fast path, against the outcomes the generator drew; then the full
backtest report is computed (ROC AUC with a 1,000-replicate bootstrap interval, deciles,
bands, stages, calibration, the explained surprises). Prints the time of each part and the
peak memory (ru_maxrss).

    python benchmarks/bench_backtest.py [--contacts N] [--events N] [--chunk N] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.resources import files

import numpy as np

from leadscore.calibration import Case, score_cases, summarize
from leadscore.evaluation import ContactSnapshot
from leadscore.model import load_model
from leadscore.synthetic import generate, iter_snapshots

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AS_OF = NOW - timedelta(days=90)
NONE = -1


def peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class ChunkedHistory:
    """(snapshot, case) pairs chunk by chunk; counts what was generated and left out."""

    def __init__(self, contacts: int, events: int, chunk: int, seed: int) -> None:
        self.contacts, self.events, self.chunk, self.seed = contacts, events, chunk, seed
        self.generated_contacts = self.generated_events = 0
        self.generation_seconds = 0.0
        self.left_out = 0

    def __iter__(self) -> Iterator[tuple[ContactSnapshot, Case]]:
        cutoff = AS_OF.timestamp()
        chunks = max(1, self.contacts // self.chunk)
        for k in range(chunks):
            started = time.perf_counter()
            data = generate(self.chunk, self.events // chunks, seed=self.seed + k, now=NOW)
            self.generation_seconds += time.perf_counter() - started
            self.generated_contacts += data.contact_count
            self.generated_events += data.event_count
            out = data.outcomes
            first = np.where(out.opportunity_at != NONE, out.opportunity_at,
                             out.won_at).astype(np.float64)
            first[(out.opportunity_at == NONE) & (out.won_at == NONE)] = np.inf
            lost = np.where(out.lost_at != NONE, out.lost_at, np.inf).astype(np.float64)
            settled = np.minimum(first, lost)
            created = data.contacts.created_at
            for index, snap in zip(np.flatnonzero(created <= cutoff).tolist(),
                                   iter_snapshots(data, AS_OF), strict=True):
                if settled[index] <= cutoff:
                    self.left_out += 1
                    continue
                converted = bool(np.isfinite(first[index]))
                yield snap, Case(f"{k}:{snap.contact_id}", float(created[index]), cutoff,
                                 converted, float(first[index]) if converted else None)
            del data


def run(contacts: int, events: int, chunk: int, seed: int) -> dict:
    model = load_model(str(files("leadscore.project") / "templates" / "model.yaml"))
    history = ChunkedHistory(contacts, events, chunk, seed)
    started = time.perf_counter()
    scored = score_cases([model], history, keep=10)
    streamed = time.perf_counter() - started
    peak_scoring = peak_rss_bytes()
    started = time.perf_counter()
    result = summarize(scored, 0, population=f"as of {AS_OF:%Y-%m-%d}", replicates=1000)
    report_seconds = time.perf_counter() - started
    return {
        "generated_contacts": history.generated_contacts,
        "generated_events": history.generated_events,
        "backtested_contacts": result.contacts, "converted": result.converted,
        "events_before_cutoff": result.events, "left_out_settled": history.left_out,
        "roc_auc": round(result.auc, 4),
        "roc_auc_interval": [round(result.auc_interval.low, 4),
                             round(result.auc_interval.high, 4)],
        "seconds": {"generation": round(history.generation_seconds, 1),
                    "snapshots_and_scoring": round(streamed - history.generation_seconds, 1),
                    "report": round(report_seconds, 1),
                    "total": round(streamed + report_seconds, 1)},
        "peak_rss_bytes": {"after_scoring": peak_scoring, "overall": peak_rss_bytes()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    r = run(args.contacts, args.events, args.chunk, args.seed)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    s, mb = r["seconds"], 1024**2
    print(f"leadscore bench — backtest of {r['generated_contacts']:,} contacts with "
          f"{r['generated_events']:,} events (example model, as of {AS_OF:%Y-%m-%d})")
    print(f"  backtested {r['backtested_contacts']:,} contacts ({r['converted']:,} converted; "
          f"{r['left_out_settled']:,} settled before the cutoff left out), "
          f"{r['events_before_cutoff']:,} events before the cutoff")
    print(f"  ROC AUC {r['roc_auc']:.4f} (95% interval {r['roc_auc_interval'][0]:.4f}–"
          f"{r['roc_auc_interval'][1]:.4f}, 1,000 bootstrap replicates)")
    print(f"  generation (streamed, in chunks)  {s['generation']:8.1f} s")
    print(f"  snapshots + scoring               {s['snapshots_and_scoring']:8.1f} s")
    print(f"  report (metrics, bootstrap)       {s['report']:8.1f} s")
    print(f"  total                             {s['total']:8.1f} s")
    print(f"  peak memory (ru_maxrss)           {r['peak_rss_bytes']['overall'] / mb:8,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
