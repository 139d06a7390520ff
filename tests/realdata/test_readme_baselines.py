"""The README's table of the suggested scorecard beside logistic regression and gradient
boosting is what benchmarks/bench_baselines.py measures: same datasets, splits, held-out
counts and ROC AUCs (to the printed 3 decimals). Skips without ../shared/data."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
ROW = re.compile(r"^\| (X Education|Online Shoppers) \| (random|time) \| ([\d,]+) \| "
                 r"\**([\d.]+)\** \| ([\d.]+) \| ([\d.]+) \| ([+−-][\d.]+) \|$")


def _bench():
    spec = importlib.util.spec_from_file_location("bench_baselines",
                                                  REPO / "benchmarks" / "bench_baselines.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def readme_rows() -> dict[tuple[str, str], tuple[int, float, float, float]]:
    rows = {}
    for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines():
        found = ROW.match(line)
        if found:
            rows[(found[1], found[2])] = (int(found[3].replace(",", "")), float(found[4]),
                                          float(found[5]), float(found[6]))
    return rows


def test_the_readme_table_has_every_dataset_and_split():
    bench = _bench()
    assert set(readme_rows()) == {(d.title, s) for d in bench.SETS for s in bench.SPLITS}


@pytest.mark.parametrize("title,split", [("X Education", "random"), ("X Education", "time"),
                                         ("Online Shoppers", "random"),
                                         ("Online Shoppers", "time")])
def test_the_readme_table_is_what_the_benchmark_measures(title, split, tmp_path):
    bench = _bench()
    data = next(d for d in bench.SETS if d.title == title)
    if not (DATA / data.csv).is_file():
        pytest.skip(f"{DATA / data.csv} is absent (real datasets are not part of the "
                    "repository)")
    row = bench.measure(data, split, tmp_path)
    held, scorecard, logistic, boosting = readme_rows()[(title, split)]
    print(f"\n{bench.table([row])}")
    assert row.held_out == held
    for measured, written in ((row.scorecard, scorecard), (row.logistic, logistic),
                              (row.boosting, boosting)):
        assert abs(measured - written) <= 0.0015, (row, written)
