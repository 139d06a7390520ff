"""Company lists after a company run (`storage.company_lists.store_company_lists`), alone: N
companies (default 244,663, the company count of the 1,000,000-contact run) with imported
properties, synthetic run results, and the example project's model with three company lists
(score only, score and two properties, an exclusion). Times the first run (every membership a
join), a run that changes nothing, and one where 1% of the companies change label; on SQLite.
The run's `ls_companies` holds the properties the company model reads (as in a company run):
the lists read theirs from it (`--no-reuse`: without it, from the store).

    python benchmarks/bench_company_lists.py [--companies N]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from leadscore.ingestion.companies import import_companies
from leadscore.lists.definition import parse_lists
from leadscore.model import parse_model
from leadscore.storage import Store
from leadscore.storage.company_lists import store_company_lists

TEMPLATES = Path(__file__).resolve().parents[1] / "src/leadscore/project/templates"
LISTS = """version: 1
lists:
  - name: hot
    of: companies
    groups:
      - [{score: account, label: Hot}]
  - name: target
    of: companies
    groups:
      - [{score: account, label: {at_least: Warm}}, {property: industry, any_of: [software,
          healthcare]}]
      - [{property: country, equals: US}, {score: company_fit, at_least: 30}]
    exclude:
      - {property: employees, at_most: 10}
  - name: cold
    of: companies
    groups:
      - [{not: {score: account, label: {at_least: Warm}}}]
"""
T = 1_780_000_000_000_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=244_663)
    parser.add_argument("--no-reuse", action="store_true")
    args = parser.parse_args()
    n = args.companies
    model = parse_model((TEMPLATES / "model.yaml").read_text(), "model.yaml")
    lists = parse_lists(LISTS, "lists.yaml", model)
    rng = random.Random(7)
    ids = [f"co{i:07d}" for i in range(n)]
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "companies.csv"
        rows = [(i, rng.choice(['software', 'retail', 'healthcare', 'energy']),
                 rng.choice(['US', 'DE', 'FR']), rng.randint(1, 5000)) for i in ids]
        with csv.open("w") as out:
            out.write("company_id,industry,country,employees,updated_at\n")
            for i, industry, country, employees in rows:
                out.write(f"{i},{industry},{country},{employees},2026-01-01\n")
        store = Store.open(f"sqlite:///{folder}/store.db")
        started = time.perf_counter()
        import_companies(store, csv, catalog=model.companies.catalog)
        print(f"import of {n:,} companies: {time.perf_counter() - started:.1f} s")
        values = [rng.uniform(0, 120) for _ in ids]
        for label, changed in (("first run (all joins)", 0), ("nothing changed", 0),
                               ("1% changed", n // 100)):
            for k in rng.sample(range(n), changed):
                values[k] = 120 - values[k]
            duck = duckdb.connect()
            columns = {"company_id": ids, "contacts": [1] * n}
            for name in model.companies.scores:
                columns[name] = pa.array(values, pa.float64())
                columns[name + ":label"] = pa.array(
                    ["Hot" if v >= 75 else "Warm" if v >= 40 else "Cold" for v in values],
                    pa.string())
            duck.register("r", pa.table(columns))
            duck.execute("CREATE TEMPORARY TABLE ls_results AS SELECT * FROM r")
            if not args.no_reuse:
                duck.register("c", pa.table({
                    "company_id": ids, "p:industry": [r[1] for r in rows],
                    "p:country": [r[2] for r in rows],
                    "p:employees": pa.array([float(r[3]) for r in rows], pa.float64())}))
                duck.execute("CREATE TEMPORARY TABLE ls_companies AS SELECT * FROM c")
            started = time.perf_counter()
            with store.write() as writer:
                done = store_company_lists(writer.connection, duck, model, lists,
                                           as_of_us=T + len(label))
            print(f"{label}: {time.perf_counter() - started:.2f} s, "
                  f"{len(done.joins):,} joins, {len(done.leaves):,} leaves, "
                  f"members {done.members}")
            duck.close()
        store.close()


if __name__ == "__main__":
    main()
