"""UCI Online Shoppers through the same pipeline: sessions become contacts by row number,
`Revenue` the outcome; the leakage guard flags PageValues. Skips without ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadscore.calibration import Cutoff, Population, suggest_model
from leadscore.ingestion import load_mapping
from leadscore.ingestion.outcomes import import_outcomes
from leadscore.project import Project

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "online_shoppers_intention.csv"
MAPPING = REPO / "examples" / "online_shoppers" / "mapping.yaml"


def test_page_values_is_flagged_and_the_rest_still_predicts(tmp_path):
    if not DATA.is_file():
        pytest.skip(f"{DATA} is absent (real datasets are not part of the repository)")
    project = Project.at(f"sqlite:///{tmp_path}/store.db",
                         REPO / "examples" / "x_education" / "model.yaml")
    with project:
        imported = project.import_contacts(DATA, mapping=MAPPING)
        outcomes = import_outcomes(project.store, DATA, mapping=load_mapping(MAPPING))
        assert imported.inserted == outcomes.inserted == 12330
        assert outcomes.converted == 1908
        population = Population(Cutoff.parse("2017-01-01"))
        guarded = suggest_model(project.store, project.model.catalog, population,
                                tmp_path / "guarded.yaml", replicates=100)
        report = suggest_model(project.store, project.model.catalog, population,
                               tmp_path / "shoppers.yaml", allow=["page_values"],
                               replicates=100)
        flagged = {w.location.field: w.message for w in guarded.warnings if w.code == "LS420"}
        honest = suggest_model(project.store, project.model.catalog, population,
                               tmp_path / "honest.yaml", exclude=["page_values"],
                               replicates=100)
    print(f"\nOnline shoppers: {'; '.join(flagged.values())}")
    print(f"Online shoppers: held-out ROC AUC {report.held_out_auc:.4f} with PageValues "
          f"(--allow), {guarded.held_out_auc:.4f} guarded, {honest.held_out_auc:.4f} without")
    assert "page_values" in flagged
    # the guard left it out of the model, and said so; --allow put it back
    assert "page_values" in guarded.guarded and "page_values" not in guarded.inputs_used()
    assert any(w.code == "LS422" for w in guarded.warnings)
    assert "page_values" in report.inputs_used() and report.allowed == ["page_values"]
    assert '"property": "page_values"' not in Path(guarded.path).read_text()
    # not worse than before the neutral levels and trends (README: 0.919 and 0.764)
    assert report.held_out_auc >= 0.919
    assert honest.held_out_auc >= 0.764
    assert abs(guarded.held_out_auc - honest.held_out_auc) < 0.01
