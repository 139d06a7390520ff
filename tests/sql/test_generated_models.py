"""Hypothesis: generated models, lists and histories — every engine gives the evaluator's
points for every rule and group, scores, labels, grades, stages, stage targets, list
memberships and next change times, exactly.

Example counts are sized for CI; LEADSCORE_HYPOTHESIS=thorough runs ten times as many."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.lists import parse_lists
from leadscore.model import parse_model
from tests.sql import harness
from tests.sql.generators import AS_OF, histories, list_texts, model_texts

SCALE = 10 if os.environ.get("LEADSCORE_HYPOTHESIS") == "thorough" else 1


def examples(n: int) -> settings:
    return settings(max_examples=n * SCALE, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


@examples(120)
@given(text=model_texts(), history=histories(), lists=st.one_of(st.none(), list_texts()))
def test_duckdb_agrees_with_the_evaluator(text, history, lists):
    model = parse_model(text, "generated.yaml")
    list_set = parse_lists(lists, "lists.yaml", model) if lists else None
    harness.check("duckdb", model, history, AS_OF, lists=list_set)


@pytest.mark.postgres
@examples(40)
@given(text=model_texts(), history=histories(), lists=st.one_of(st.none(), list_texts()))
def test_postgres_agrees_with_the_evaluator(pg, text, history, lists):
    model = parse_model(text, "generated.yaml")
    list_set = parse_lists(lists, "lists.yaml", model) if lists else None
    harness.check("postgres", model, history, AS_OF, lists=list_set, pg=pg)


@pytest.mark.slow
@pytest.mark.spark
@examples(8)
@given(text=model_texts(), history=histories(), lists=st.one_of(st.none(), list_texts()))
def test_spark_agrees_with_the_evaluator(spark, text, history, lists):
    model = parse_model(text, "generated.yaml")
    list_set = parse_lists(lists, "lists.yaml", model) if lists else None
    harness.check("spark", model, history, AS_OF, lists=list_set, spark=spark)
