"""The compiled example-model query against the same model written by hand, on the same
Parquet files, in the same process, alternating (DuckDB; Spark with --spark).

    python benchmarks/handwritten/bench_sql.py DATA_DIR [--contacts N --events N] [--runs 3]
        [--threads 2] [--spark] [--json]

DATA_DIR holds contacts.parquet and events.parquet (`write_parquet.py`); they are written
first when missing (with --contacts/--events). Each run materializes the full result (one row
per contact: scores, labels, grade, stage) into a temporary table, so no engine can skip work.
Prints each run's seconds, the best of each, their ratio (compiled / hand-written), the same
for the process's CPU time (steadier than wall time when other jobs share the machine), and
the machine's load (`uptime`), since the figures follow it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import queries  # noqa: E402
from write_parquet import NOW, write  # noqa: E402

from leadscore.catalog import to_micros  # noqa: E402
from leadscore.sql.duckdb_engine import connect  # noqa: E402


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:  # pragma: no cover
        return "load " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def bench_duckdb(data: Path, runs: int, threads: int) -> dict:
    as_of_us = to_micros(NOW)
    connection = connect(threads=threads)
    hand = queries.duckdb_handwritten(connection, data, as_of_us)
    compiled = queries.duckdb_compiled(connection, data, as_of_us).sql
    times: dict[str, list[float]] = {"hand-written": [], "compiled": []}
    cpu: dict[str, list[float]] = {"hand-written": [], "compiled": []}
    for _ in range(runs):
        for name, sql in (("hand-written", hand), ("compiled", compiled)):
            started, started_cpu = time.perf_counter(), time.process_time()
            connection.execute(f"CREATE OR REPLACE TEMP TABLE result AS {sql}")
            times[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    rows = connection.execute("SELECT count(*) FROM result").fetchone()[0]
    return {"engine": "duckdb", "threads": threads, "rows": rows, "seconds": times,
            "cpu_seconds": cpu, "best": {k: min(v) for k, v in times.items()},
            "best_cpu": {k: min(v) for k, v in cpu.items()},
            "ratio": min(times["compiled"]) / min(times["hand-written"]),
            "cpu_ratio": min(cpu["compiled"]) / min(cpu["hand-written"])}


def bench_spark(data: Path, runs: int) -> dict:
    from leadscore.sql.spark_engine import spark_session

    as_of_us = to_micros(NOW)
    spark = spark_session("local[2]", shuffle_partitions=8, driver_memory="6g")
    try:
        hand = queries.spark_handwritten(data, as_of_us)
        compiled = queries.spark_compiled(spark, data, as_of_us).sql
        times: dict[str, list[float]] = {"hand-written": [], "compiled": []}
        for _ in range(runs):
            for name, sql in (("hand-written", hand), ("compiled", compiled)):
                started = time.perf_counter()
                spark.sql(sql).write.format("noop").mode("overwrite").save()
                times[name].append(time.perf_counter() - started)
    finally:
        spark.stop()
    return {"engine": "spark", "seconds": times, "best": {k: min(v) for k, v in times.items()},
            "ratio": min(times["compiled"]) / min(times["hand-written"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--spark", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.data / "events.parquet").exists():
        write(args.data, args.contacts, args.events, args.seed)
    load_before = uptime()
    results = [bench_duckdb(args.data, args.runs, args.threads)]
    if args.spark:
        results.append(bench_spark(args.data, args.runs))
    report = {"data": str(args.data), "uptime_before": load_before, "uptime_after": uptime(),
              "results": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"uptime before: {report['uptime_before']}")
    for r in results:
        runs = {k: ", ".join(f"{s:.2f}" for s in v) for k, v in r["seconds"].items()}
        print(f"{r['engine']}: hand-written {runs['hand-written']} s; compiled "
              f"{runs['compiled']} s; best {r['best']['hand-written']:.2f} vs "
              f"{r['best']['compiled']:.2f} s → ratio {r['ratio']:.2f}"
              + (f" ({r['rows']:,} contacts)" if "rows" in r else ""))
        if "cpu_ratio" in r:
            print(f"  CPU time (both threads): best {r['best_cpu']['hand-written']:.2f} vs "
                  f"{r['best_cpu']['compiled']:.2f} s → ratio {r['cpu_ratio']:.2f}")
    print(f"uptime after:  {report['uptime_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
