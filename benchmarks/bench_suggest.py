"""`make bench-suggest`: `leadscore suggest` on 100,000 synthetic contacts, beside a baseline.

Issue P8 item 7: `suggest` on 100,000 contacts within 1 GB and 60 s on this (shared, 2-core)
machine. Steps, each in its own process (wall time and peak memory, ru_maxrss, of that process
alone):

    setup      `leadscore generate` N contacts / M events into a project, imported (contacts,
               sales's feedback, events, outcomes) and exported as Parquet
               (`leadscore export parquet`) — kept in --work and reused when it is there
    baseline   a hand-written DuckDB query over the exported Parquet building a feature matrix
               of the same kind (each property's value as of the cutoff, event counts per type
               ever and in the 30 days before it), then scikit-learn's logistic regression
               fitted on it: the cost of the work itself, without leadscore
    suggest    `leadscore suggest --as-of created+14d` on the store

The machine is shared: `uptime` is printed with every figure, and the ratio to the baseline
measured in the same run is what compares across runs.

    python benchmarks/bench_suggest.py [--contacts 100000] [--events 2000000] [--work DIR]
        [--before COMMIT] [--json]

`--before COMMIT` also runs `suggest` as that commit had it (its sources on PYTHONPATH), on
the same store in the same run, and says whether the model file and the AUC are the same.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LEADSCORE = [sys.executable, "-m", "leadscore"]
GOAL_SECONDS = 60.0
GOAL_BYTES = 1024**3
CUTOFF_DAYS = 14


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


def measure(command: list[str], *, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a command: wall time and output."""
    started = time.perf_counter()
    with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env) as process:
        stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(command)}\n"
                         f"{stdout[-2000:]}\n{stderr[-4000:]}")
    return {"seconds": seconds, "stdout": stdout, "stderr": stderr}


def isolated(command: list[str], *, cwd: Path | None = None,
             source: Path | None = None) -> dict[str, Any]:
    """`command` run under a fresh wrapper process, so ru_maxrss is the command's alone
    (`source`: leadscore's code from that folder, e.g. an earlier commit)."""
    wrapper = [sys.executable, str(Path(__file__).resolve()), "--run-one", json.dumps(command)]
    env = None if source is None else {**os.environ, "PYTHONPATH": str(source)}
    found = measure(wrapper, cwd=cwd, env=env)
    return json.loads(found["stdout"].strip().splitlines()[-1])


def run_one(command: list[str]) -> None:
    """(inside the wrapper) run the command; print its figures as one JSON line."""
    started = time.perf_counter()
    process = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if process.returncode != 0:
        print(process.stdout[-2000:], process.stderr[-4000:], file=sys.stderr)
        raise SystemExit(process.returncode)
    print(json.dumps({"seconds": seconds, "peak_bytes": peak, "load": uptime(),
                      "stdout": process.stdout}))


def setup(work: Path, contacts: int, events: int, seed: int) -> Path:
    """The project (imported and exported), built once per size and seed."""
    project = work / f"project-{contacts}-{events}-{seed}"
    stamp = project / ".bench-ready"
    if stamp.exists():
        return project
    project.mkdir(parents=True, exist_ok=True)
    steps = [
        [*LEADSCORE, "init", str(project), "--force"],
        [*LEADSCORE, "generate", "--contacts", str(contacts), "--events", str(events),
         "--seed", str(seed), "--out", str(project / "data")],
        [*LEADSCORE, "import", "contacts", "data/contacts.csv"],
        [*LEADSCORE, "import", "contacts", "data/feedback.csv"],
        [*LEADSCORE, "import", "events", "data/events.jsonl"],
        [*LEADSCORE, "import", "outcomes", "data/outcomes.csv"],
        [*LEADSCORE, "export", "parquet", "export"],
    ]
    for command in steps:
        started = time.perf_counter()
        measure(command, cwd=project if command[3] != "init" else None)
        print(f"  setup: {' '.join(command[3:])} {time.perf_counter() - started:.1f} s",
              flush=True)
    stamp.write_text("ok\n")
    return project


BASELINE = r"""
import sys, time
import duckdb, numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

folder, days = sys.argv[1], int(sys.argv[2])
started = time.perf_counter()
con = duckdb.connect(config={"threads": 2})
ex = folder + "/export/"
con.execute(f"CREATE VIEW c AS SELECT contact_id, epoch_us(created_at) AS created_us, "
            f"epoch_us(created_at) + {days} * 86400000000 AS cutoff_us "
            f"FROM '{ex}contacts.parquet'")
con.execute(f"CREATE VIEW h AS SELECT contact_id, name, epoch_us(changed_at) AS changed_us, "
            f"seq, value FROM '{ex}property_history.parquet'")
con.execute(f"CREATE VIEW e AS SELECT contact_id, type, epoch_us(occurred_at) AS occurred_us "
            f"FROM '{ex}events.parquet'")
con.execute(f"CREATE VIEW o AS SELECT contact_id, "
            f"least(epoch_us(TRY_CAST(NULLIF(opportunity_at, '') AS TIMESTAMP)), "
            f"epoch_us(TRY_CAST(NULLIF(won_at, '') AS TIMESTAMP))) AS converted_us, "
            f"epoch_us(TRY_CAST(NULLIF(lost_at, '') AS TIMESTAMP)) AS lost_us "
            f"FROM read_csv('{folder}/data/outcomes.csv', all_varchar=true)")
names = [r[0] for r in con.execute(
    "SELECT name FROM h GROUP BY name HAVING count(DISTINCT contact_id) > 0 "
    "AND name NOT IN ('email', 'first_name', 'last_name', 'company', 'created_at', "
    "'lifecycle_stage', 'sales_feedback', 'owner', 'referrer_url') ORDER BY name").fetchall()]
types = [r[0] for r in con.execute("SELECT DISTINCT type FROM e ORDER BY type").fetchall()]
q = lambda s: '"' + s.replace('"', '""') + '"'
pick = ", ".join(f"arg_max(h.value, (h.changed_us, h.seq)) FILTER (WHERE h.name = '{n}') "
                 f"AS {q('p:' + n)}" for n in names)
counts = ", ".join(
    f"count(*) FILTER (WHERE e.type = '{t}') AS {q('e:' + t)}, "
    f"count(*) FILTER (WHERE e.type = '{t}' AND e.occurred_us >= c.cutoff_us - 30 * 86400000000)"
    f" AS {q('e30:' + t)}" for t in types)
sql = f'''
WITH props AS (SELECT c.contact_id, {pick} FROM c JOIN h ON h.contact_id = c.contact_id
               AND h.changed_us <= c.cutoff_us GROUP BY c.contact_id),
     evs AS (SELECT c.contact_id, {counts} FROM c JOIN e ON e.contact_id = c.contact_id
             AND e.occurred_us <= c.cutoff_us GROUP BY c.contact_id)
SELECT c.contact_id, c.created_us, (o.converted_us > c.cutoff_us) AS label, props.* EXCLUDE
       (contact_id), evs.* EXCLUDE (contact_id)
FROM c LEFT JOIN props USING (contact_id) LEFT JOIN evs USING (contact_id)
LEFT JOIN o USING (contact_id)
WHERE coalesce(least(o.converted_us, o.lost_us), 9e18) > c.cutoff_us
  AND c.cutoff_us <= (SELECT max(occurred_us) FROM e)
ORDER BY c.contact_id'''
table = con.sql(sql).fetchnumpy()
built = time.perf_counter() - started
label = np.asarray(table["label"].filled(False) if hasattr(table["label"], "filled")
                   else table["label"], dtype=bool)
columns = []
for name in names:
    raw = table["p:" + name]
    values = np.asarray([None if v is None else str(v) for v in raw], dtype=object)
    levels = {}
    for v in values:
        if v is not None:
            levels[v] = levels.get(v, 0) + 1
    common = [v for v, k in levels.items() if k >= 0.01 * len(values)][:30]
    for level in common:
        columns.append(values == level)
for key in table:
    if key.startswith("e"):
        columns.append(np.log1p(np.asarray(table[key], dtype=float)))
matrix = np.column_stack(columns).astype(float)
created = np.asarray(table["created_us"], dtype=float)
boundary = np.quantile(created, 0.7)
train = created < boundary
fit = LogisticRegression(max_iter=1000).fit(matrix[train], label[train])
auc = roc_auc_score(label[~train], fit.decision_function(matrix[~train]))
print(f"baseline: {len(label):,} contacts x {matrix.shape[1]} columns; matrix {built:.1f} s, "
      f"held-out ROC AUC {auc:.3f}")
"""


def checkout(work: Path, commit: str) -> Path:
    """leadscore's sources at `commit` (git archive), for PYTHONPATH."""
    sha = subprocess.run(["git", "rev-parse", "--short", commit], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    folder = work / f"source-{sha}"
    if not (folder / "src").exists():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha, "src"], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "bench-suggest")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--before", metavar="COMMIT",
                        help="also run suggest as this commit had it, in the same run")
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        run_one(json.loads(args.run_one))
        return
    print(f"bench-suggest: {args.contacts:,} contacts, {args.events:,} events  [{uptime()}]",
          flush=True)
    project = setup(args.work, args.contacts, args.events, args.seed)
    script = args.work / "baseline.py"
    script.write_text(BASELINE)
    baseline = isolated([sys.executable, str(script), str(project), str(CUTOFF_DAYS)])
    print(f"baseline (DuckDB + scikit-learn): {baseline['seconds']:.1f} s, "
          f"{baseline['peak_bytes'] / 1e6:,.0f} MB  [{baseline['load']}]\n  "
          + baseline["stdout"].strip(), flush=True)
    command = [*LEADSCORE, "suggest", "--as-of", f"created+{CUTOFF_DAYS}d", "--format", "json"]
    if args.before:
        source = checkout(args.work, args.before)
        before = isolated([*command, "--out", "models/before.yaml"], cwd=project,
                          source=source)
        said = json.loads(before["stdout"])
        print(f"suggest at {args.before}: {before['seconds']:.1f} s, "
              f"{before['peak_bytes'] / 1e6:,.0f} MB  [{before['load']}]\n  held-out ROC AUC "
              f"{said['held_out']['roc_auc']} on {said['held_out']['contacts']:,} contacts",
              flush=True)
    suggest = isolated([*command, "--out", "models/suggested.yaml"], cwd=project)
    report = json.loads(suggest["stdout"])
    print(f"suggest: {suggest['seconds']:.1f} s, {suggest['peak_bytes'] / 1e6:,.0f} MB  "
          f"[{suggest['load']}]\n  held-out ROC AUC {report['held_out']['roc_auc']} on "
          f"{report['held_out']['contacts']:,} contacts, trained on "
          f"{report['training']['contacts']:,}", flush=True)
    if args.before:
        same = ((project / "models" / "before.yaml").read_text().replace("before.yaml", "")
                == (project / "models" / "suggested.yaml").read_text().replace(
                    "suggested.yaml", ""))
        print(f"  the same model file as at {args.before}: {same}; the same held-out AUC: "
              f"{said['held_out']['roc_auc'] == report['held_out']['roc_auc']}")
    ratio = suggest["seconds"] / baseline["seconds"]
    ok_time = suggest["seconds"] < GOAL_SECONDS
    ok_memory = suggest["peak_bytes"] < GOAL_BYTES
    print(f"ratio suggest / baseline: {ratio:.2f}x time, "
          f"{suggest['peak_bytes'] / baseline['peak_bytes']:.2f}x memory; goal under "
          f"{GOAL_SECONDS:g} s ({'met' if ok_time else 'NOT met'}) and 1 GB "
          f"({'met' if ok_memory else 'NOT met'})")
    if args.json:
        print(json.dumps({"contacts": args.contacts, "events": args.events,
                          "baseline": {k: baseline[k] for k in ("seconds", "peak_bytes",
                                                                  "load")},
                          "suggest": {k: suggest[k] for k in ("seconds", "peak_bytes",
                                                                "load")},
                          "held_out_auc": report["held_out"]["roc_auc"], "ratio": ratio}))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
