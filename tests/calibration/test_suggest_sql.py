"""`suggest` builds its inputs set-wise in DuckDB (`features_sql`); the snapshot path
(`features.build_inputs`, a snapshot per contact through the evaluator's matchers) is the
reference. The two give the same inputs, the same model file and the same held-out AUC."""

from __future__ import annotations

import numpy as np
import pytest

from leadscore.calibration import Cutoff, Population, suggest_model
from leadscore.calibration import cases as cases_module
from leadscore.calibration.cases import CaseStream
from leadscore.calibration.features import build_inputs, with_declared_types
from leadscore.calibration.features_sql import build_inputs_sql
from leadscore.storage.declared import load_declared_types


def _both(project, cutoff: str):
    catalog = with_declared_types(project.model.catalog, load_declared_types(project.store))
    population = Population(Cutoff.parse(cutoff))
    stream = CaseStream(project.store, population, property_types=dict(catalog.properties))
    pairs = list(stream)
    reference = build_inputs([snap for snap, _ in pairs], catalog)
    again = CaseStream(project.store, population, property_types=dict(catalog.properties))
    cases = list(again.cases())
    assert [c for _, c in pairs] == cases
    assert dict(again.excluded) == dict(stream.excluded)
    return reference, build_inputs_sql(project.store, cases, catalog)


@pytest.mark.parametrize("cutoff", ["created+14d", "2026-01-01", "before-opportunity"])
def test_the_set_wise_inputs_equal_the_snapshot_inputs(synthetic_project, cutoff):
    reference, set_wise = _both(synthetic_project, cutoff)
    assert set_wise.skipped == reference.skipped
    assert set_wise.declared == reference.declared
    assert set_wise.custom_events == reference.custom_events
    assert [c.key for c in set_wise.characteristics] == \
        [c.key for c in reference.characteristics]
    events = 0
    for mine, theirs in zip(set_wise.characteristics, reference.characteristics, strict=True):
        assert (mine.kind, mine.name, mine.when, mine.property_type) == \
            (theirs.kind, theirs.name, theirs.when, theirs.property_type), mine.key
        if mine.kind == "categorical":
            assert mine.values.tolist() == theirs.values.tolist(), mine.key
        else:
            np.testing.assert_array_equal(mine.values, theirs.values, err_msg=mine.key)
        events += mine.source == "event"
    assert events >= 10  # counts of types, values and site sections, ever and in 30 days
    assert any(":30d" in c.key for c in set_wise.characteristics)
    assert any("url=" in c.key for c in set_wise.characteristics)


@pytest.mark.parametrize("cutoff", ["created+14d", "before-opportunity"])
def test_suggest_writes_the_same_file_and_auc_either_way(synthetic_project, tmp_path, cutoff):
    reports, texts = {}, {}
    for engine in ("python", "duckdb"):
        out = tmp_path / engine / "suggested.yaml"
        reports[engine] = suggest_model(
            synthetic_project.store, synthetic_project.model.catalog,
            Population(Cutoff.parse(cutoff)), out, engine=engine, replicates=50)
        texts[engine] = out.read_text().replace(str(out), "OUT")
    assert texts["duckdb"] == texts["python"]
    assert reports["duckdb"].held_out_auc == reports["python"].held_out_auc
    assert reports["duckdb"].skipped == reports["python"].skipped
    assert [r.to_dict() for r in reports["duckdb"].left_out] == \
        [r.to_dict() for r in reports["python"].left_out]


def test_the_set_wise_path_reads_no_history_per_contact(synthetic_project, tmp_path,
                                                        monkeypatch):
    """Only the held-out backtest at the end may read histories; the inputs may not."""
    calls = []
    original = cases_module.load_histories

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(cases_module, "load_histories", counting)
    report = suggest_model(synthetic_project.store, synthetic_project.model.catalog,
                           Population(Cutoff.parse("created+14d")),
                           tmp_path / "suggested.yaml", replicates=50)
    assert report.held_out_auc > 0.5
    assert len(calls) <= 1  # the backtest of the written file


def test_an_unknown_engine_is_refused(synthetic_project, tmp_path):
    with pytest.raises(ValueError, match="engine"):
        suggest_model(synthetic_project.store, synthetic_project.model.catalog,
                      Population(Cutoff.parse("created+14d")), tmp_path / "s.yaml",
                      engine="spark")
