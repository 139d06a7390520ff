"""Monotonic binning: leadscore's scikit-learn binning (tree on the isotonic fit, bins merged
to the trend, monotonic kept within 0.002 internal-validation AUC) against optbinning's
OptimalBinning (a mixed-integer program, `monotonic_trend="auto_asc_desc"`), per numeric input
of the shared datasets: held-out ROC AUC of the input's WoE, bins, fit time.

    python benchmarks/bench_binning.py    # needs ../shared/data and `pip install optbinning`

The result and the choice are in ARCHITECTURE.md (Decisions in `calibration`).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SETS = [("X Education", "x_education_leads.csv", "examples/x_education/mapping.yaml",
         "2015-01-01"),
        ("Online Shoppers", "online_shoppers_intention.csv",
         "examples/online_shoppers/mapping.yaml", "2017-01-01")]


def inputs_of(csv_name: str, mapping: str, as_of: str, folder: Path):
    from leadscore.calibration import Cutoff, Population
    from leadscore.calibration.cases import CaseStream
    from leadscore.calibration.features import build_inputs
    from leadscore.calibration.suggest import plan_split
    from leadscore.ingestion import load_mapping
    from leadscore.ingestion.outcomes import import_outcomes
    from leadscore.project import Project

    project = Project.at(f"sqlite:///{folder}/store.db", REPO / "examples/x_education/model.yaml")
    with project:
        project.import_contacts(DATA / csv_name, mapping=REPO / mapping)
        import_outcomes(project.store, DATA / csv_name, mapping=load_mapping(REPO / mapping))
        pairs = list(CaseStream(project.store, Population(Cutoff.parse(as_of))))
    ids = [case.contact_id for _, case in pairs]
    labels = np.asarray([case.converted for _, case in pairs])
    _, held = plan_split(ids, np.asarray([case.created_at for _, case in pairs]))
    return build_inputs([snap for snap, _ in pairs], project.model.catalog), labels, held


def main() -> None:
    from optbinning import OptimalBinning

    from leadscore.calibration import metrics
    from leadscore.calibration.binning import bin_characteristic
    from leadscore.calibration.features import CATEGORICAL

    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent")
    for title, csv_name, mapping, as_of in SETS:
        with tempfile.TemporaryDirectory() as tmp:
            inputs, labels, held = inputs_of(csv_name, mapping, as_of, Path(tmp))
        train = ~held
        print(f"\n{title}: {train.sum()} training, {held.sum()} held-out rows")
        print(f"  {'input':28} {'sklearn AUC':>11} {'bins':>4} {'trend':>10} {'s':>5}   "
              f"{'optbinning AUC':>14} {'bins':>4} {'s':>5}")
        totals = {"sklearn": [], "optbinning": [], "t_sk": 0.0, "t_ob": 0.0}
        for ch in inputs.characteristics:
            if ch.kind == CATEGORICAL:
                continue
            x = np.asarray(ch.values, dtype=np.float64)
            started = time.perf_counter()
            ours = bin_characteristic(ch, labels, train)
            t_sk = time.perf_counter() - started
            auc_sk = metrics.roc_auc(ours.woe[held], labels[held]) if ours else 0.5
            started = time.perf_counter()
            ob = OptimalBinning(name=ch.name, dtype="numerical", monotonic_trend="auto_asc_desc",
                                min_bin_size=0.05, max_n_bins=5, solver="cp")
            ob.fit(x[train], labels[train].astype(int))
            woe = -np.asarray(ob.transform(x[held], metric="woe", metric_missing=0),
                              dtype=np.float64)  # optbinning's WoE is ln(non-events/events)
            t_ob = time.perf_counter() - started
            auc_ob = metrics.roc_auc(woe, labels[held])
            totals["sklearn"].append(auc_sk)
            totals["optbinning"].append(auc_ob)
            totals["t_sk"] += t_sk
            totals["t_ob"] += t_ob
            print(f"  {ch.name[:28]:28} {auc_sk:11.4f} {len(ours.bins) if ours else 0:4d} "
                  f"{(ours.trend if ours else '-'):>10} {t_sk:5.2f}   {auc_ob:14.4f} "
                  f"{len(ob.splits) + 1:4d} {t_ob:5.2f}")
        print(f"  mean held-out AUC: scikit-learn {np.mean(totals['sklearn']):.4f} "
              f"({totals['t_sk']:.1f} s), optbinning {np.mean(totals['optbinning']):.4f} "
              f"({totals['t_ob']:.1f} s)")


if __name__ == "__main__":
    main()
