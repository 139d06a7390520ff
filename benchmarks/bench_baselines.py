"""The suggested scorecard beside tuned black boxes, on the shared datasets, a random and a
time split each: held-out ROC AUC of `leadscore suggest`'s written model file (its backtest),
of a tuned logistic regression and of tuned gradient boosting, trained on the same inputs
(the scorecard's candidate inputs, less what the leakage guard left out) and the same split.

    python benchmarks/bench_baselines.py           # needs ../shared/data; make bench-baselines
    python benchmarks/bench_baselines.py "Online Shoppers:time"     # one dataset and split
    python benchmarks/bench_baselines.py --additive "Online Shoppers:random"   # and boosting
                                              # without interactions (on stderr)

- Random split: the file as the examples import it (no dates), 30 % held out by a hash of the
  contact id, seed 7 (what `suggest` does with a dateless file).
- Time split: the rows in creation order (X Education by `Lead Number`, Online Shoppers by
  `Month`), created one every 20 minutes (`order_by_row`), the last 30 % held out; every
  contact is scored at its creation (`--as-of created+0d`). The sorted copy and its mapping
  are written to a temporary folder, never into the repository.
- Logistic regression: numbers with a missing-value flag, median-filled and standardised;
  categories one-hot (unseen ones all zero); C from {0.01, 0.1, 1} by 5-fold ROC AUC on the
  training contacts. Gradient boosting: scikit-learn's HistGradientBoosting with native
  categories; leaves {7, 15, 31} × L2 {0, 1} at learning rate 0.1 by 3-fold ROC AUC, up to
  300 rounds with early stopping.

The README's table is this script's output; tests/realdata/test_readme_baselines.py keeps the
two in step.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "June", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass(frozen=True)
class Dataset:
    title: str
    csv: str
    mapping: str
    as_of: str  # the random split's cutoff (the export's one date)
    start: str  # the time split's first creation


SETS = [Dataset("X Education", "x_education_leads.csv", "examples/x_education/mapping.yaml",
                "2015-01-01", "2015-01-01"),
        Dataset("Online Shoppers", "online_shoppers_intention.csv",
                "examples/online_shoppers/mapping.yaml", "2017-01-01", "2017-01-01")]
SPLITS = ("random", "time")


@dataclass
class Row:
    dataset: str
    split: str
    held_out: int
    scorecard: float
    logistic: float
    boosting: float
    seconds: float
    additive: float | None = None  # gradient boosting that may not combine inputs

    @property
    def gap(self) -> float:
        """The scorecard against the better black box (negative: behind)."""
        return self.scorecard - max(self.logistic, self.boosting)


def time_ordered(data: Dataset, folder: Path) -> tuple[Path, Path]:
    """A copy of the file in creation order and a mapping that dates row N at start + N·20m."""
    import pandas as pd
    import yaml

    frame = pd.read_csv(DATA / data.csv, dtype=str, keep_default_na=False)
    if "Lead Number" in frame:
        frame = frame.iloc[np.argsort(frame["Lead Number"].astype(int).to_numpy(),
                                      kind="stable")]
    else:
        frame = frame.iloc[np.argsort([MONTHS.index(m) for m in frame["Month"]], kind="stable")]
    if "Prospect ID" not in frame:  # row ids follow the new order: keep the old ones
        frame.insert(0, "Session", [f"row-{i + 1}" for i in frame.index])
    csv_path = folder / data.csv
    frame.to_csv(csv_path, index=False)
    mapping = yaml.safe_load((REPO / data.mapping).read_text(encoding="utf-8"))
    mapping.pop("defaults", None)
    if mapping.pop("row_ids", False):
        mapping["contact_id"] = "Session"
    mapping["order_by_row"] = {"start": data.start, "step": "20min"}
    mapping_path = folder / "mapping.yaml"
    mapping_path.write_text(yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
    return csv_path, mapping_path


def matrices(characteristics, train: np.ndarray):  # -> (numbers, categories)
    """Numbers (nan = unknown) and categories (codes from the training rows, −1 = unknown or
    unseen) of the inputs."""
    from leadscore.calibration.features import CATEGORICAL

    numbers, categories = [], []
    for ch in characteristics:
        if ch.kind == CATEGORICAL:
            seen = sorted({v for v in ch.values[train] if v is not None})
            index = {v: i for i, v in enumerate(seen)}
            categories.append(np.asarray([index.get(v, -1) for v in ch.values]))
        else:
            numbers.append(np.asarray(ch.values, dtype=np.float64))
    width = len(train)
    return (np.column_stack(numbers) if numbers else np.zeros((width, 0)),
            np.column_stack(categories) if categories else np.zeros((width, 0), dtype=int))


def logistic_auc(numbers, categories, labels, train, held) -> float:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    x = np.column_stack([numbers, categories]).astype(np.float64)
    n_num = numbers.shape[1]
    encode = ColumnTransformer([
        ("numbers", make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                                  StandardScaler()), list(range(n_num))),
        ("categories", OneHotEncoder(handle_unknown="ignore"),
         list(range(n_num, x.shape[1])))])
    search = GridSearchCV(make_pipeline(encode, LogisticRegression(max_iter=2000)),
                          {"logisticregression__C": [0.01, 0.1, 1]},
                          scoring="roc_auc", cv=5)
    search.fit(x[train], labels[train])
    return float(roc_auc_score(labels[held], search.predict_proba(x[held])[:, 1]))


def boosting_auc(numbers, categories, labels, train, held, *,
                 interactions: bool = True) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GridSearchCV

    cats = np.where(categories < 0, np.nan, categories).astype(np.float64)
    x = np.column_stack([numbers, cats])
    mask = [False] * numbers.shape[1] + [True] * categories.shape[1]
    model = HistGradientBoostingClassifier(
        categorical_features=mask, max_iter=300, early_stopping=True, random_state=0,
        interaction_cst=None if interactions else "no_interactions")
    search = GridSearchCV(model, {"max_leaf_nodes": [7, 15, 31], "l2_regularization": [0.0, 1.0]},
                          scoring="roc_auc", cv=3)
    search.fit(x[train], labels[train])
    return float(roc_auc_score(labels[held], search.predict_proba(x[held])[:, 1]))


def measure(data: Dataset, split: str, folder: Path, *, additive: bool = False) -> Row:
    from leadscore.calibration import Cutoff, Population, suggest_model
    from leadscore.calibration.cases import CaseStream
    from leadscore.calibration.features import (
        build_inputs,
        load_declared_types,
        with_declared_types,
    )
    from leadscore.calibration.suggest import plan_split
    from leadscore.ingestion import load_mapping
    from leadscore.ingestion.outcomes import import_outcomes
    from leadscore.project import Project

    started = time.perf_counter()
    if split == "time":
        csv_path, mapping = time_ordered(data, folder)
        as_of = "created+0d"
    else:
        csv_path, mapping, as_of = DATA / data.csv, REPO / data.mapping, data.as_of
    project = Project.at(f"sqlite:///{folder}/store.db", REPO / "examples/x_education/model.yaml")
    with project:
        project.import_contacts(csv_path, mapping=mapping)
        import_outcomes(project.store, csv_path, mapping=load_mapping(mapping))
        population = Population(Cutoff.parse(as_of))
        report = suggest_model(project.store, project.model.catalog, population,
                               folder / "suggested.yaml", split=split, replicates=200)
        catalog = with_declared_types(project.model.catalog,
                                      load_declared_types(project.store))
        pairs = list(CaseStream(project.store, population,
                                property_types=dict(catalog.properties)))
    ids = [case.contact_id for _, case in pairs]
    labels = np.asarray([case.converted for _, case in pairs], dtype=bool)
    created = np.asarray([case.created_at for _, case in pairs], dtype=np.float64)
    _, held = plan_split(ids, created, split=split)
    inputs = build_inputs([snap for snap, _ in pairs], catalog)
    used = [ch for ch in inputs.characteristics
            if (ch.property or ch.key) not in report.guarded]
    train = ~held
    numbers, categories = matrices(used, train)
    return Row(data.title, split, int(held.sum()), report.held_out_auc,
               logistic_auc(numbers, categories, labels, train, held),
               boosting_auc(numbers, categories, labels, train, held),
               time.perf_counter() - started,
               boosting_auc(numbers, categories, labels, train, held, interactions=False)
               if additive else None)


def table(rows: list[Row]) -> str:
    lines = ["| dataset | split | held out | suggested scorecard | logistic regression | "
             "gradient boosting | scorecard − best |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.dataset} | {r.split} | {r.held_out:,} | {r.scorecard:.3f} | "
                     f"{r.logistic:.3f} | {r.boosting:.3f} | {r.gap:+.3f} |")
    return "\n".join(lines)


def main(only: list[str]) -> None:
    """Every dataset and split, or those named as 'Dataset:split' in `only`; a row of the
    table is printed as soon as it is measured. `--additive` also fits gradient boosting
    that may not combine inputs (`interaction_cst="no_interactions"`, same grid): a model of
    the scorecard's form, one function per input added up."""
    additive = "--additive" in only
    only = [o for o in only if o != "--additive"]
    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent: the shared datasets are not part of the repository")
    header = table([]).splitlines()
    print("\n".join(header), flush=True)
    for data in SETS:
        for split in SPLITS:
            if only and f"{data.title}:{split}" not in only:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                row = measure(data, split, Path(tmp), additive=additive)
            print(table([row]).splitlines()[-1], flush=True)
            if row.additive is not None:
                print(f"{data.title}, {split} split: gradient boosting without interactions "
                      f"(each tree on one input) {row.additive:.3f}", file=sys.stderr)
            print(f"{data.title}, {split} split: {row.seconds:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
