"""`stats` from counts: the spread of each score walked from its values' counts equals DuckDB's
own quantiles over every value, and the counts of a base segment (kept beside it), less what
its patches replace, plus the patches, equal the figures of the current scores row by row."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore import synthetic
from leadscore.project import Project
from leadscore.project.scaffold import init_project
from leadscore.storage import leads, maintenance, score_writes
from leadscore.storage.current import stage_counts
from leadscore.storage.leads import _mean, _spread_sql, stage_relation
from leadscore.storage.scores import current_wide_sql
from leadscore.storage.segments import SIDECAR
from leadscore.storage.views import DataView

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
values = st.lists(st.one_of(st.integers(-300, 300).map(float),
                            st.floats(-500, 500, allow_nan=False).map(lambda v: round(v, 2))),
                  min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(values)
def test_the_spread_from_counts_equals_duckdbs_quantiles(xs: list[float]) -> None:
    duck = duckdb.connect()
    duck.execute("CREATE TABLE t AS SELECT unnest(?::DOUBLE[]) AS v", [xs])
    expected = duck.execute(f"SELECT min(v), max(v), {_mean('v')}, count(v), "
                            "quantile_cont(v, 0.5), quantile_disc(v, 0.9) FROM t").fetchone()
    low, high, mean, count, below, above, fraction, p90 = duck.execute(
        f"SELECT * FROM {_spread_sql('(SELECT v, count(*) AS n FROM t GROUP BY v)')}"
    ).fetchone()
    assert (low, high, count, p90) == (expected[0], expected[1], expected[3], expected[5])
    assert round(float(mean), 2) == round(float(expected[2]), 2)
    assert below * (1 - fraction) + above * fraction == expected[4]  # to the last bit


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setattr(score_writes, "SCORE_SEGMENT_MIN", 5)  # small runs write patches
    monkeypatch.setattr(maintenance, "PATCH_SHARE", 1.0)  # which stay until folded here
    init_project(tmp_path)
    data = synthetic.generate(300, 4000, seed=11, now=NOW)
    synthetic.write_contacts_csv(data, tmp_path / "contacts.csv")
    synthetic.write_events_jsonl(data, tmp_path / "events.jsonl")
    opened = Project.open(tmp_path)
    opened.import_contacts(tmp_path / "contacts.csv")
    opened.import_events(tmp_path / "events.jsonl")
    return opened


def _row_by_row(project: Project) -> dict:
    """The figures straight from every current row (what `stats` said before counts)."""
    model = project.model
    names = list(model.scores)
    with project.store.read_raw() as connection, DataView(connection) as view:
        current = current_wide_sql(view, model.name, names)
        spread, labels = {}, {}
        for name in names:
            value, label = leads.quote_name(name), leads.quote_name(name + ":label")
            low, p50, p90, high, mean, count = view.query(
                f"SELECT min({value}), quantile_cont({value}, 0.5), quantile_disc({value}, 0.9),"
                f" max({value}), {_mean(value)}, count({value}) FROM {current} AS l")[0]
            if count:
                spread[name] = {"min": low, "p50": p50, "p90": p90, "max": high,
                                "mean": round(float(mean), 2)}
                labels[name] = {k: int(n) for k, n in view.query(
                    f"SELECT coalesce({label}, '—'), count(*) FROM {current} AS l "
                    f"WHERE {value} IS NOT NULL GROUP BY 1")}
        grades = {k: int(n) for k, n in view.query(
            f"SELECT grade, count(*) FROM {current} AS l WHERE grade IS NOT NULL GROUP BY 1")}
        stages = {k: int(n) for k, n in view.query(
            f"SELECT stage, count(*) FROM {stage_relation(view)} AS s WHERE stage IS NOT NULL "
            "GROUP BY 1")}
        unscored = {name: int(view.query(
            f"SELECT count(*) FROM {current} AS l "
            f"WHERE {leads.quote_name(name + ':scored')} = FALSE")[0][0]) for name in names}
    return {"scores": spread, "labels": labels, "grades": grades, "stages": stages,
            "unscored": unscored}


def _stats(project: Project) -> dict:
    found = project.store.score_statistics(project.model.name, list(project.model.scores))
    with project.store.read_raw() as connection, DataView(connection) as view:
        found["stages"] = {k: v for k, v in stage_counts(view).items() if k is not None}
    return found


def _events(path: Path, contacts: list[str], at: datetime, tag: str) -> Path:
    with path.open("w") as handle:
        for n, contact_id in enumerate(contacts):
            for k in range(3):
                handle.write(json.dumps({
                    "event_id": f"{tag}-{n}-{k}", "contact_id": contact_id, "type": "page_view",
                    "occurred_at": (at + timedelta(minutes=k)).isoformat(),
                    "attributes": {"url": "https://www.example.com/pricing"}}) + "\n")
    return path


def test_stats_from_counts_equal_the_current_rows(project: Project, tmp_path: Path) -> None:
    project.score(full=True)
    assert _stats(project) == _row_by_row(project)
    kept = list(project.store.segments.folder.glob(f"*{SIDECAR}"))
    assert len(kept) == 1  # the base's counts, kept by the first `stats`
    ids = sorted(lead.contact_id for lead in project.leads(limit=None))
    for round_, part in enumerate((ids[:12], ids[6:30], ids[100:104])):  # patches over it
        moment = datetime.now(UTC) - timedelta(minutes=30 - round_)
        project.import_events(_events(tmp_path / f"new{round_}.jsonl", part, moment,
                                      f"r{round_}"))
        project.score()
        assert _stats(project) == _row_by_row(project)
    project.process()  # the automation's rows in the scores table, stages moved by workflows
    assert _stats(project) == _row_by_row(project)
    assert maintenance.compact_scores(project.store, most=0) == 1  # a new base
    assert _stats(project) == _row_by_row(project)
    with project.store.read() as connection:
        assert project.store.segments.collect_garbage(connection, grace_us=0) >= 1
    names = {p.name for p in project.store.segments.folder.iterdir()}
    assert all(p.removesuffix(SIDECAR) in names for p in names if p.endswith(SIDECAR))
    assert _stats(project) == _row_by_row(project)
