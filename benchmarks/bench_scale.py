"""`make bench-scale`: leadscore at the size of a real marketing database, every figure beside a
hand-written DuckDB query of the same example model over Parquet of the same data, measured
in the same run (the machines are shared: the ratios are what counts).

Steps (each a `leadscore` command in its own process: wall time and peak memory, ru_maxrss):

    generate      N contacts / M events (leadscore.synthetic), written as the CSV/JSONL files
                  `leadscore import` reads and as natural Parquet (benchmarks/handwritten)
    baseline      the hand-written DuckDB query over that Parquet (example_duckdb.sql)
    import        contacts, sales's feedback, events (events/s)
    score         a full score from the store (twice: the first also moves every stage)
    incremental   1 % of the contacts get new events: import them, then `score`
    reads         leads --limit 20, stats, explain C, --help (median of 3, end to end)
    process       the first `process` after the bulk import (contacts/s), beside the same
                  store processed contact by contact (`process --per-contact`, unless
                  --skip-per-contact)
    record        R contacts / E events from Parquet through the DuckDB engine
                  (`score --contacts … --events …`), beside the hand-written query
    spark         the same files through `score --engine spark` (local[2]) beside a
                  hand-written Spark SQL query

    python benchmarks/bench_scale.py [--contacts 1000000] [--events 10000000]
        [--record-contacts 10000000] [--record-events 100000000] [--skip-record]
        [--skip-spark] [--skip-process] [--skip-per-contact] [--work DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "handwritten"))
LEADSCORE = [sys.executable, "-m", "leadscore"]
GOALS = {
    "peak_bytes": 2 * 1024**3,
    "import_events_per_second": 150_000,
    "full_score_ratio": 2.0,
    "incremental_share": 0.05,
    "read_seconds": 0.5,
    "help_seconds": 0.3,
    "process_contacts_per_second": 20_000,
    "record_seconds": 20.0,
    "record_peak_bytes": 8 * 1024**3,
    "spark_ratio": 2.0,
}


def measure(command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
            check: bool = True) -> dict[str, Any]:
    """Run a command; its wall time, the peak resident memory of it and its children, and
    its output."""
    started = time.perf_counter()
    before = _children_peak()
    process = subprocess.run(command, cwd=cwd, env={**os.environ, **(env or {})},
                             capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak = _children_peak()
    if check and process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(command)}\n"
                         f"{process.stdout[-2000:]}\n{process.stderr[-4000:]}")
    return {"seconds": seconds, "peak_bytes": max(peak, before) if peak > before else peak,
            "stdout": process.stdout, "stderr": process.stderr, "code": process.returncode}


def _children_peak() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def isolated(command: list[str], **kw: Any) -> dict[str, Any]:
    """`measure` in a fresh wrapper process, so that ru_maxrss is this command's alone."""
    wrapper = [sys.executable, str(Path(__file__).resolve()), "--run-one", json.dumps(command)]
    found = measure(wrapper, **kw)
    result = json.loads(found["stdout"].strip().splitlines()[-1])
    if kw.get("check", True) and result["code"] != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result['stderr'][-4000:]}")
    return result


def run_one(command: list[str]) -> None:
    """(inside the wrapper) run the command, print its figures as one JSON line."""
    found = measure(command, check=False)
    print(found["stdout"], end="", file=sys.stderr)
    print(json.dumps({"seconds": found["seconds"], "peak_bytes": _children_peak(),
                      "code": found["code"], "stdout": found["stdout"][-20000:],
                      "stderr": found["stderr"][-8000:]}))


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


# -- data ---------------------------------------------------------------------------------------

def generate(work: Path, contacts: int, events: int, seed: int, now: datetime) -> None:
    """The same synthetic data as import files (CSV/JSONL) and as natural Parquet."""
    import pyarrow.parquet as pq
    from write_parquet import contact_table, event_table

    from leadscore import synthetic

    data = synthetic.generate(contacts, events, seed=seed, now=now)
    files = work / "data"
    files.mkdir(parents=True, exist_ok=True)
    synthetic.write_contacts_csv(data, files / "contacts.csv")
    synthetic.write_feedback_csv(data, files / "feedback.csv")
    synthetic.write_events_jsonl(data, files / "events.jsonl")
    natural = work / "natural"
    natural.mkdir(exist_ok=True)
    pq.write_table(contact_table(data), natural / "contacts.parquet")
    pq.write_table(event_table(data), natural / "events.parquet", row_group_size=1_000_000)
    # 1 % of the contacts, with new events an hour after the data ends
    picked = data.contact_ids[:: 100]
    with (files / "new_events.jsonl").open("w") as handle:
        for n, contact_id in enumerate(picked):
            for k in range(10):
                moment = datetime.fromtimestamp(now.timestamp() + 60 + k, tz=UTC)
                handle.write(json.dumps({
                    "event_id": f"bench-new-{n}-{k}", "contact_id": contact_id,
                    "type": "page_view", "occurred_at": moment.isoformat(),
                    "attributes": {"url": "https://www.example.com/pricing"}}) + "\n")
    (work / "contact-id.txt").write_text(data.contact_ids[len(data.contact_ids) // 2])


def handwritten_duckdb(natural: Path, as_of_us: int, *, memory: str | None = None
                       ) -> list[str]:
    """The command that runs the hand-written DuckDB query over `natural` (results to a
    Parquet file, as `score --out` writes them)."""
    limit = f"con.execute(\"SET memory_limit = '{memory}'\")" if memory else ""
    script = f"""
import duckdb, sys
sys.path.insert(0, {str(HERE / 'handwritten')!r})
text = open({str(HERE / 'handwritten' / 'example_duckdb.sql')!r}).read()
text = (text.replace('{{contacts}}', {str(natural / 'contacts.parquet')!r})
            .replace('{{events}}', {str(natural / 'events.parquet')!r})
            .replace('{{as_of_us}}', '{as_of_us}'))
con = duckdb.connect()
{limit}
parts = [s for s in text.split(';') if any(l.strip() and not l.strip().startswith('--')
                                           for l in s.splitlines())]
for statement in parts[:-1]:
    con.execute(statement)
con.execute("COPY (" + parts[-1] + ") TO {str(natural / 'handwritten.parquet')!r} (FORMAT parquet)")
"""
    return [sys.executable, "-c", script]


def handwritten_spark(natural: Path, as_of_us: int) -> list[str]:
    script = f"""
import sys
from leadscore.sql.spark_engine import spark_session
text = open({str(HERE / 'handwritten' / 'example_spark.sql')!r}).read()
text = (text.replace('{{contacts}}', {str(natural / 'contacts.parquet')!r})
            .replace('{{events}}', {str(natural / 'events.parquet')!r})
            .replace('{{as_of_us}}', '{as_of_us}')).rstrip().rstrip(';')
spark = spark_session('local[2]')
spark.sql(text).write.mode('overwrite').parquet({str(natural / 'handwritten-spark')!r})
spark.stop()
"""
    return [sys.executable, "-c", script]


def median_of(command: list[str], cwd: Path, times: int = 3) -> dict[str, Any]:
    runs = [isolated(command, cwd=cwd) for _ in range(times)]
    return {"seconds": statistics.median(r["seconds"] for r in runs),
            "peak_bytes": max(r["peak_bytes"] for r in runs)}


# -- the run -----------------------------------------------------------------------------------

def main() -> None:  # noqa: PLR0915 - one benchmark, step after step
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--record-contacts", type=int, default=10_000_000)
    parser.add_argument("--record-events", type=int, default=100_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-record", action="store_true")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--skip-process", action="store_true")
    parser.add_argument("--skip-per-contact", action="store_true")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.run_one:
        run_one(json.loads(args.run_one))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="leadscore-bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"contacts": args.contacts, "events": args.events,
                              "uptime_before": uptime()}
    figures: list[tuple[str, str, str, str]] = []  # step, figure, beside, goal

    def note(step: str, figure: str, beside: str = "", goal: str = "") -> None:
        figures.append((step, figure, beside, goal))
        print(f"  {step}: {figure}" + (f"  [{beside}]" if beside else "")
              + (f"  {goal}" if goal else ""), flush=True)

    now = datetime.now(UTC)
    as_of_us = int(now.timestamp() * 1_000_000)
    print(f"generating {args.contacts:,} contacts / {args.events:,} events in {work} …",
          flush=True)
    started = time.perf_counter()
    generate(work, args.contacts, args.events, args.seed, now)
    note("generate", f"{time.perf_counter() - started:.0f} s")

    baseline = isolated(handwritten_duckdb(work / "natural", as_of_us))
    hand = baseline["seconds"]
    note("baseline", f"hand-written DuckDB query {hand:.2f} s, "
                     f"{baseline['peak_bytes'] / 2**30:.2f} GB")
    report["baseline"] = baseline

    project = work / "project"
    shutil.rmtree(project, ignore_errors=True)
    measure([*LEADSCORE, "init", str(project)])
    data = work / "data"

    def step(name: str, *command: str, **kw: Any) -> dict[str, Any]:
        found = isolated([*LEADSCORE, *command], cwd=project, **kw)
        report[name] = {k: v for k, v in found.items() if k not in ("stdout", "stderr")}
        return found

    def mem(found: dict[str, Any]) -> str:
        ok = "✓" if found["peak_bytes"] < GOALS["peak_bytes"] else "✗"
        return f"peak {found['peak_bytes'] / 2**30:.2f} GB {ok}"

    found = step("import_contacts", "import", "contacts", str(data / "contacts.csv"))
    note("import contacts", f"{found['seconds']:.1f} s, {mem(found)}")
    found = step("import_feedback", "import", "contacts", str(data / "feedback.csv"))
    note("import feedback", f"{found['seconds']:.1f} s, {mem(found)}")
    found = step("import_events", "import", "events", str(data / "events.jsonl"))
    rate = args.events / found["seconds"]
    note("import events", f"{found['seconds']:.1f} s = {rate:,.0f} events/s, {mem(found)}",
         goal=f"≥ {GOALS['import_events_per_second']:,}/s "
              f"{'✓' if rate >= GOALS['import_events_per_second'] else '✗'}")

    first = step("score_first", "score", "--full")
    note("score (first, moves every stage)", f"{first['seconds']:.1f} s, {mem(first)}",
         f"{first['seconds'] / hand:.2f}× hand-written")
    full = step("score_full", "score", "--full")
    ratio = full["seconds"] / hand
    note("score --full", f"{full['seconds']:.1f} s, {mem(full)}",
         f"{ratio:.2f}× hand-written",
         f"≤ {GOALS['full_score_ratio']}× {'✓' if ratio <= GOALS['full_score_ratio'] else '✗'}")
    companies = _company_seconds(full["stdout"])
    if companies is not None:  # the hand-written query scores no companies: say how much
        report["score_full_companies_seconds"] = companies  # of the step the company run was
        note("  of which the company run", f"{companies:.1f} s; contacts alone "
             f"{(full['seconds'] - companies) / hand:.2f}× hand-written")
    step("import_new_events", "import", "events", str(data / "new_events.jsonl"))
    incremental = step("score_incremental", "score")
    share = incremental["seconds"] / full["seconds"]
    note("score after 1 % new events", f"{incremental['seconds']:.2f} s, {mem(incremental)}",
         f"{share * 100:.1f} % of a full score",
         f"< {GOALS['incremental_share'] * 100:.0f} % "
         f"{'✓' if share < GOALS['incremental_share'] else '✗'}")
    companies = _company_seconds(incremental["stdout"])
    if companies is not None:
        report["score_incremental_companies_seconds"] = companies
        scored = re.search(r"Scored ([\d,]+) compan", incremental["stdout"])
        note("  of which the company run", f"{companies:.1f} s "
             f"({scored.group(1) if scored else '?'} companies, those whose contacts changed)")

    contact = (work / "contact-id.txt").read_text().strip()
    for name, command in (("leads", ["leads", "--limit", "20"]), ("stats", ["stats"]),
                          ("explain", ["explain", contact]), ("help", ["--help"])):
        found = median_of([*LEADSCORE, *command], project)
        report[name] = found
        limit = GOALS["help_seconds"] if name == "help" else GOALS["read_seconds"]
        note(name, f"{found['seconds']:.2f} s end to end (median of 3)",
             goal=f"< {limit} s {'✓' if found['seconds'] < limit else '✗'}")

    if not args.skip_process:
        copy = work / "project-per-contact"
        if not args.skip_per_contact:  # the same store, for the per-contact path beside
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(project, copy, symlinks=True)
        at = ("--at", datetime.now(UTC).isoformat())  # one moment for both: the same work
        found = step("process", "process", "--no-deliver", *at)
        processed = _processed(found["stdout"]) or args.contacts
        per_second = processed / found["seconds"]
        beside = ""
        if not args.skip_per_contact:
            slow = isolated([*LEADSCORE, "process", "--no-deliver", "--per-contact", *at],
                            cwd=copy)
            report["process_per_contact"] = {k: v for k, v in slow.items()
                                             if k not in ("stdout", "stderr")}
            slow_rate = (_processed(slow["stdout"]) or args.contacts) / slow["seconds"]
            beside = (f"per contact {slow['seconds']:.1f} s = {slow_rate:,.0f} contacts/s: "
                      f"{per_second / slow_rate:.1f}× faster; same report: "
                      f"{_report(found['stdout']) == _report(slow['stdout'])}")
            shutil.rmtree(copy, ignore_errors=True)
        note("first process after the bulk import",
             f"{found['seconds']:.1f} s = {per_second:,.0f} contacts/s, {mem(found)}", beside,
             goal=f"≥ {GOALS['process_contacts_per_second']:,}/s "
                  f"{'✓' if per_second >= GOALS['process_contacts_per_second'] else '✗'}")

    if not args.skip_spark:
        spark_hand = isolated(handwritten_spark(work / "natural", as_of_us))
        spark = isolated([*LEADSCORE, "--project", str(project), "score", "--engine", "spark",
                          "--contacts", str(work / "natural" / "contacts.parquet"),
                          "--events", str(work / "natural" / "events.parquet"),
                          "--out", str(work / "natural" / "leadscore-spark"), "--top", "0",
                          "--as-of", now.isoformat()])
        ratio = spark["seconds"] / spark_hand["seconds"]
        report["spark"] = {"leadscore": spark["seconds"], "handwritten": spark_hand["seconds"]}
        note("spark local[2]", f"{spark['seconds']:.1f} s",
             f"hand-written Spark SQL {spark_hand['seconds']:.1f} s = {ratio:.2f}×",
             f"≤ {GOALS['spark_ratio']}× {'✓' if ratio <= GOALS['spark_ratio'] else '✗'}")

    if not args.skip_record:
        record = work / "record"
        print(f"writing {args.record_contacts:,} contacts / {args.record_events:,} events as "
              "Parquet …", flush=True)
        from write_parquet import write

        started = time.perf_counter()
        write(record, args.record_contacts, args.record_events, args.seed)
        note("record data", f"{time.perf_counter() - started:.0f} s")
        record_hand = isolated(handwritten_duckdb(record, as_of_us, memory="6GB"))
        ours = isolated([*LEADSCORE, "--project", str(project), "score",
                         "--contacts", str(record / "contacts.parquet"),
                         "--events", str(record / "events.parquet"),
                         "--out", str(record / "leadscore.parquet"), "--top", "0",
                         "--as-of", now.isoformat()], env={"LEADSCORE_DUCKDB_MEMORY": "6GB"})
        report["record"] = {"leadscore": ours["seconds"], "peak_bytes": ours["peak_bytes"],
                            "handwritten": record_hand["seconds"],
                            "handwritten_peak_bytes": record_hand["peak_bytes"]}
        ok = ours["seconds"] < GOALS["record_seconds"] and \
            ours["peak_bytes"] < GOALS["record_peak_bytes"]
        note(f"record {args.record_contacts:,} / {args.record_events:,}",
             f"{ours['seconds']:.1f} s, peak {ours['peak_bytes'] / 2**30:.2f} GB",
             f"hand-written {record_hand['seconds']:.1f} s, "
             f"{record_hand['peak_bytes'] / 2**30:.2f} GB",
             f"< {GOALS['record_seconds']:.0f} s and < 8 GB {'✓' if ok else '✗'}")

    report["uptime_after"] = uptime()
    report["figures"] = figures
    print(f"\nmachine load: before {report['uptime_before']}\n              after "
          f"{report['uptime_after']}")
    if args.json:
        print(json.dumps(report, indent=2, default=str))


def _report(output: str) -> str:
    """The process report without its time: what it did."""
    line = output.strip().splitlines()[0] if output.strip() else ""
    head, _, rest = line.partition(" in ")
    return head + ": " + rest.partition(": ")[2]


def _company_seconds(output: str) -> float | None:
    """The company run's own time in a `score` report ("Scored N companies[ whose …] in
    Xs")."""
    found = re.search(r"Scored [\d,]+ compan(?:y|ies)[^\n]*? in ([\d.]+)s", output)
    return float(found.group(1)) if found else None


def _processed(output: str) -> int | None:
    for word in output.split():
        cleaned = word.replace(",", "")
        if cleaned.isdigit():
            return int(cleaned)
    return None


if __name__ == "__main__":
    main()
