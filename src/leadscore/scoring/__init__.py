"""Scoring a store's (or files') contacts: the compiled model run set-wise where the data is
(DuckDB for the embedded store and for files, PostgreSQL in the database, Spark beyond one
machine), or every contact through the Python evaluator (the reference)."""

from leadscore.scoring.runs import ENGINES, ScoredContact, ScoreRun, score_store

__all__ = ["ENGINES", "ScoreRun", "ScoredContact", "score_store"]
