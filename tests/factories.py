"""Builders for tests: small models from YAML text and contacts from plain lists."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from typing import Any

from leadscore.evaluation import ContactSnapshot, EventRecord, PropertyChange, Scorer
from leadscore.model import Model, parse_model

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def model_from(scores_yaml: str, extra: str = "") -> Model:
    """A model whose `scores:` section is `scores_yaml` (indented freely)."""
    body = textwrap.indent(textwrap.dedent(scores_yaml).strip("\n"), "  ")
    text = f"version: 1\nname: test\n{textwrap.dedent(extra)}\nscores:\n{body}\n"
    return parse_model(text, "test.yaml")


def contact(properties: dict[str, Any] | None = None,
            events: list[tuple[str, float, dict[str, Any]]] | None = None, *,
            as_of: datetime = NOW, contact_id: str = "c1",
            created_days_ago: float = 400) -> ContactSnapshot:
    """events: (type, days ago, attributes)."""
    changes = [PropertyChange(k, v, days_ago(created_days_ago)) for k, v in
               (properties or {}).items()]
    records = [EventRecord(t, days_ago(d), a) for t, d, a in (events or [])]
    return ContactSnapshot.build(contact_id, as_of, created_at=days_ago(created_days_ago),
                                 property_changes=changes, events=records)


def score_of(model: Model, snap: ContactSnapshot, name: str | None = None) -> float:
    result = Scorer(model).score(snap)
    return result.scores[name or next(iter(model.scores))].value


def one_rule(when: str, points: float = 10, extra_rule: str = "") -> Model:
    return model_from(f"""
        s:
          rules:
            - name: r
              when: {when}
              points: {points}
              {extra_rule}
    """)
