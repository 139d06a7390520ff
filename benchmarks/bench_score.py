"""`make bench`: how fast the Python evaluator scores contacts, against a naive pandas engine.

Generates contacts and events in memory (default 100,000 / 2,000,000, `leadscore.synthetic`),
scores every contact with `Scorer(model).score(snapshot)` under the example model, then scores
them again with the pandas baseline (`pandas_baseline.py`) and checks that both engines give
the same scores (exactly) for every contact. Prints events/s, contacts/s, peak memory
(ru_maxrss) and the goals: ≥ 250,000 events/s and < 2 GB. Exit status 1 when the engines
disagree (the goals are reported, not enforced).

    python benchmarks/bench_score.py [--contacts N] [--events N] [--seed N] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pandas_baseline import PandasBaseline, build_frames  # noqa: E402

from leadscore.evaluation import Scorer  # noqa: E402
from leadscore.model import Model, load_model  # noqa: E402
from leadscore.synthetic import SyntheticData, generate, iter_snapshots  # noqa: E402

GOAL_EVENTS_PER_SECOND = 250_000
GOAL_PEAK_BYTES = 2 * 1024**3
TOLERANCE = 0.0  # both engines share leadscore.evaluation.arithmetic: scores agree exactly
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def load_example_model() -> Model:
    path = files("leadscore.project") / "templates" / "model.yaml"
    return load_model(str(path))


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def score_with_evaluator(model: Model, data: SyntheticData, as_of: datetime
                         ) -> tuple[dict[str, np.ndarray], float, float]:
    """Scores of every contact (score name → values in contact order), the seconds spent
    building snapshots and the seconds spent scoring them."""
    scorer = Scorer(model)
    names = list(model.scores)
    values = {name: np.empty(data.contact_count) for name in names}
    snapshots = iter_snapshots(data, as_of)
    clock = time.perf_counter
    building = scoring = 0.0
    i = 0
    while True:
        t0 = clock()
        snap = next(snapshots, None)
        t1 = clock()
        building += t1 - t0
        if snap is None:
            break
        result = scorer.score(snap).scores
        scoring += clock() - t1
        for name in names:
            values[name][i] = result[name].value
        i += 1
    return {name: v[:i] for name, v in values.items()}, building, scoring


def compare_scores(data: SyntheticData, evaluator: dict[str, np.ndarray], baseline
                   ) -> tuple[float, int, list[str]]:
    """Largest absolute difference, how many contacts differ on some score, and a line for
    each of the first differing contacts."""
    worst = 0.0
    differing = np.zeros(len(baseline), dtype=bool)
    for name, ours in evaluator.items():
        diff = np.abs(ours - baseline[name].to_numpy())
        worst = max(worst, float(diff.max()) if len(diff) else 0.0)
        differing |= diff > TOLERANCE
    problems = []
    for i in np.flatnonzero(differing)[:10]:
        shown = ", ".join(f"{name} {evaluator[name][i]:g} vs {baseline[name].iloc[i]:g}"
                          for name in evaluator)
        problems.append(f"{data.contact_ids[baseline.index[i]]}: evaluator vs baseline: {shown}")
    return worst, int(differing.sum()), problems


def run(contacts: int, events: int, seed: int) -> dict:
    model = load_example_model()
    t0 = time.perf_counter()
    data = generate(contacts, events, seed=seed, now=NOW)
    generation = time.perf_counter() - t0
    peak_generation = peak_rss_bytes()

    evaluator, building, scoring = score_with_evaluator(model, data, NOW)
    peak_evaluator = peak_rss_bytes()
    n_events, n_contacts = data.event_count, len(evaluator["total"])
    gc.collect()

    t0 = time.perf_counter()
    contact_frame, event_frame = build_frames(data)
    frames = time.perf_counter() - t0
    t0 = time.perf_counter()
    baseline = PandasBaseline(model).score(contact_frame, event_frame, NOW.timestamp())
    baseline_scoring = time.perf_counter() - t0
    if not (baseline.scores.index.to_numpy() == np.arange(n_contacts)).all():
        raise SystemExit("the engines scored different sets of contacts")
    worst, differing, problems = compare_scores(data, evaluator, baseline.scores)

    evaluator_total = building + scoring
    baseline_total = frames + baseline_scoring
    return {
        "contacts": n_contacts,
        "events": n_events,
        "seed": seed,
        "generation_seconds": round(generation, 3),
        "evaluator": {
            "snapshot_seconds": round(building, 3),
            "scoring_seconds": round(scoring, 3),
            "events_per_second": round(n_events / scoring),
            "contacts_per_second": round(n_contacts / scoring),
            "end_to_end_events_per_second": round(n_events / evaluator_total),
        },
        "baseline": {
            "frame_seconds": round(frames, 3),
            "scoring_seconds": round(baseline_scoring, 3),
            "events_per_second": round(n_events / baseline_scoring),
        },
        "time_ratio_evaluator_over_baseline": round(scoring / baseline_scoring, 3),
        "time_ratio_end_to_end": round(evaluator_total / baseline_total, 3),
        "peak_rss_bytes": {"after_generation": peak_generation,
                           "after_evaluator": peak_evaluator, "overall": peak_rss_bytes()},
        "agreement": {"max_abs_difference": round(worst, 6), "tolerance": TOLERANCE,
                      "differing_contacts": differing, "first": problems},
        "goals": {
            "events_per_second": {"goal": GOAL_EVENTS_PER_SECOND,
                                  "met": n_events / scoring >= GOAL_EVENTS_PER_SECOND},
            "peak_rss_bytes": {"goal": GOAL_PEAK_BYTES,
                               "met": peak_evaluator < GOAL_PEAK_BYTES},
        },
    }


def _mb(n: int) -> str:
    return f"{n / 1024**2:,.0f} MB"


def print_report(r: dict) -> None:
    ev, base, goals = r["evaluator"], r["baseline"], r["goals"]
    mark = {True: "PASS", False: "MISS"}
    print(f"leadscore bench — example model, {r['contacts']:,} contacts, {r['events']:,} events, "
          f"seed {r['seed']}")
    print(f"  generation (in memory)       {r['generation_seconds']:8.2f} s")
    print(f"  evaluator: snapshots         {ev['snapshot_seconds']:8.2f} s")
    print(f"  evaluator: scoring           {ev['scoring_seconds']:8.2f} s   "
          f"{ev['events_per_second']:>10,} events/s   {ev['contacts_per_second']:>8,} contacts/s")
    print(f"  evaluator: end to end        {ev['snapshot_seconds'] + ev['scoring_seconds']:8.2f} s"
          f"   {ev['end_to_end_events_per_second']:>10,} events/s")
    print(f"  pandas baseline: frames      {base['frame_seconds']:8.2f} s")
    print(f"  pandas baseline: scoring     {base['scoring_seconds']:8.2f} s   "
          f"{base['events_per_second']:>10,} events/s")
    print(f"  time evaluator / baseline    {r['time_ratio_evaluator_over_baseline']:8.2f}  "
          f"(scoring only; end to end incl. snapshots/frames: {r['time_ratio_end_to_end']:.2f})")
    peaks = r["peak_rss_bytes"]
    print(f"  peak memory (ru_maxrss)      after generation {_mb(peaks['after_generation'])}, "
          f"after evaluator {_mb(peaks['after_evaluator'])}, "
          f"overall incl. pandas {_mb(peaks['overall'])}")
    agreement = r["agreement"]
    verdict = "AGREE" if not agreement["differing_contacts"] else \
        f"DISAGREE on {agreement['differing_contacts']:,} contacts"
    print(f"  agreement evaluator vs pandas {verdict}: max |difference| "
          f"{agreement['max_abs_difference']:g} over {r['contacts']:,} contacts × 3 scores "
          f"(tolerance {agreement['tolerance']})")
    for line in agreement["first"]:
        print(f"    {line}")
    g_eps, g_mem = goals["events_per_second"], goals["peak_rss_bytes"]
    print(f"  goal ≥ {g_eps['goal']:,} events/s (evaluator scoring)   {mark[g_eps['met']]}")
    print(f"  goal < {_mb(g_mem['goal'])} peak (through the evaluator run)   "
          f"{mark[g_mem['met']]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    report = run(args.contacts, args.events, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 1 if report["agreement"]["differing_contacts"] else 0


if __name__ == "__main__":
    sys.exit(main())
