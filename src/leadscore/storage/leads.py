"""Leads and score statistics, answered in the store: filtered, sorted and paged there.

A page of leads is the current scores of one model (`storage.scores.current_wide_sql`) with
each contact's current stage (its lifecycle_stage value), filtered by label, stage, grade and
minimum scores, sorted by one score (best first, then by contact id) and cut after `limit`
rows. The next page starts after a *cursor* — the sort value and contact id of the page's last
row — so paging never re-reads what came before. Statistics (counts per label and grade, the
spread of every score) are aggregates of the same relation.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from leadscore.storage.duck import quote_name, quote_text
from leadscore.storage.scores import current_wide_sql
from leadscore.storage.values import column as value_column
from leadscore.storage.values import values_sql
from leadscore.storage.views import DataView

LIFECYCLE = "lifecycle_stage"
LOWEST = -1.7976931348623157e308  # an unscored contact sorts after every score


@dataclass
class LeadQuery:
    model: str
    scores: Sequence[str]  # the model's scores, in order
    sort: str  # the score to rank by
    primary: str  # the score whose label `label` filters
    label: str | None = None
    stage: str | None = None
    grade: str | None = None
    min_scores: dict[str, float] = field(default_factory=dict)
    limit: int | None = 25
    after: str | None = None  # a cursor from the previous page
    owner: str | None = None  # the owner property, ignoring case
    in_list: str | None = None  # members of this list now
    search: str | None = None  # a part of the e-mail or the name, or the whole contact id


@dataclass
class Lead:
    """A scored contact as `leads` shows it."""

    contact_id: str
    email: str | None
    scores: dict[str, float | None]
    labels: dict[str, str | None]
    grade: str | None
    stage: str | None
    probability: float | None = None  # the primary score's calibration, when the model has one

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "contact_id": self.contact_id, "email": self.email, "scores": self.scores,
            "labels": self.labels, "grade": self.grade, "stage": self.stage}
        if self.probability is not None:
            data["probability"] = self.probability
        return data


@dataclass
class LeadPage:
    """A page of leads and the cursor of the next page (pass it as `after`)."""

    leads: list[Lead]
    cursor: str | None  # where the next page starts; None on the last page

    def __iter__(self) -> Iterator[Lead]:  # a page reads like the list of its leads
        return iter(self.leads)

    def __len__(self) -> int:
        return len(self.leads)


def encode_cursor(value: float | None, contact_id: str) -> str:
    raw = json.dumps([LOWEST if value is None else value, contact_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    padded = cursor + "=" * (-len(cursor) % 4)
    value, contact_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    return float(value), str(contact_id)


def stage_relation(view: DataView) -> str:
    """(contact_id, stage) of every contact with a lifecycle stage now."""
    return text_relation(view, LIFECYCLE, "stage")


def text_relation(view: DataView, name: str, alias: str) -> str:
    """(contact_id, `alias`): every contact's text value of property `name` now."""
    if view.embedded:
        return (f"(SELECT contact_id, {value_column(name, 'text')} AS {alias} "
                f"FROM {values_sql(view, [name])})")
    return (f"(SELECT DISTINCT ON (contact_id) contact_id, v_text AS {alias} FROM "
            f"property_changes WHERE name = {quote_text(name)} "
            "ORDER BY contact_id, changed_us DESC, seq DESC)")


def _narrowing(view: DataView, query: LeadQuery) -> tuple[list[str], list[Any]]:
    """The conditions (and their parameters) of the owner, list and search filters: each a
    `contact_id IN (…)` over the few contacts it keeps, so the ranking stays as it is."""
    where: list[str] = []
    params: list[Any] = []
    if query.owner is not None:
        where.append(f"contact_id IN (SELECT contact_id FROM "
                     f"{text_relation(view, 'owner', 'owner')} AS o WHERE lower(owner) = ?)")
        params.append(query.owner.strip().lower())
    if query.in_list is not None:
        members = (view.tail_relation("list_memberships", "WHERE list = ?", [query.in_list])
                   if view.embedded else
                   f"(SELECT contact_id FROM list_memberships WHERE list = "
                   f"{quote_text(query.in_list)})")
        where.append(f"contact_id IN (SELECT contact_id FROM {members} AS m)")
    if query.search is not None and query.search.strip():
        words = query.search.strip().lower()
        escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        contacts = view.relation("contacts")
        first = text_relation(view, "first_name", "first")
        last = text_relation(view, "last_name", "last")
        like = "LIKE ? ESCAPE '\\'"
        where.append(
            f"(contact_id = ? OR contact_id IN (SELECT contact_id FROM {contacts} AS c "
            f"WHERE lower(email) {like}) OR contact_id IN (SELECT f.contact_id FROM {first} "
            f"AS f FULL OUTER JOIN {last} AS n ON n.contact_id = f.contact_id WHERE "
            f"lower(coalesce(f.first, '') || ' ' || coalesce(n.last, '')) {like}) OR "
            f"contact_id IN (SELECT contact_id FROM {last} AS n2 WHERE lower(n2.last) {like}))")
        params += [query.search.strip(), pattern, pattern, pattern]
    return where, params


def scored_relation(view: DataView, model: str, scores: Sequence[str]) -> str:
    """(contact_id, scores, labels, grade, stage): every contact scored under `model`."""
    if view.embedded:
        current = current_wide_sql(view, model, scores)
        picks = ", ".join(f"s.{quote_name(n)}, s.{quote_name(n + ':label')}" for n in scores)
        return (f"(SELECT s.contact_id, {picks}, s.grade, v.stage FROM {current} AS s "
                f"LEFT JOIN {stage_relation(view)} AS v ON v.contact_id = s.contact_id)")
    pivot: list[str] = []
    for name in scores:
        pivot.append(f"max(CASE WHEN score = {quote_text(name)} THEN value END) "
                     f"AS {quote_name(name)}")
        pivot.append(f"max(CASE WHEN score = {quote_text(name)} THEN label END) "
                     f"AS {quote_name(name + ':label')}")
    return (f"(SELECT s.*, v.stage FROM (SELECT contact_id, {', '.join(pivot)}, "
            f"max(CASE WHEN score = 'grade' THEN label END) AS grade FROM scores "
            f"WHERE model = {quote_text(model)} GROUP BY contact_id) AS s "
            f"LEFT JOIN {stage_relation(view)} AS v ON v.contact_id = s.contact_id)")


def lead_page(view: DataView, query: LeadQuery) -> LeadPage:
    sort = f"coalesce({quote_name(query.sort)}, {LOWEST})"
    where: list[str] = []
    params: list[Any] = []
    if query.label is not None:
        where.append(f"lower({quote_name(query.primary + ':label')}) = ?")
        params.append(query.label.lower())
    if query.stage is not None:
        where.append("stage = ?")
        params.append(query.stage.lower())
    if query.grade is not None:
        where.append("lower(grade) = ?")
        params.append(query.grade.lower())
    for name, minimum in query.min_scores.items():
        where.append(f"coalesce({quote_name(name)}, 0) >= ?")
        params.append(float(minimum))
    narrowing, narrowing_params = _narrowing(view, query)
    where += narrowing
    params += narrowing_params
    if query.after is not None:
        value, contact_id = decode_cursor(query.after)
        where.append(f"({sort} < ? OR ({sort} = ? AND contact_id > ?))")
        params += [value, value, contact_id]
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    limit = f"LIMIT {int(query.limit) + 1}" if query.limit else ""
    columns = ", ".join(["contact_id", *(f"{quote_name(n)}, {quote_name(n + ':label')}"
                                         for n in query.scores), "grade", "stage"])
    order = f"ORDER BY {sort} DESC, contact_id"
    if query.stage is None and view.embedded:
        # rank the scores alone, then look up the stages of the page: the join of every
        # contact's stage costs more than the ranking (1M contacts: ~0.4 s against ~0.05 s)
        picks = ", ".join(["contact_id", *(f"{quote_name(n)}, {quote_name(n + ':label')}"
                                           for n in query.scores), "grade"])
        ranked = view.query(f"SELECT {picks} FROM "
                            f"{current_wide_sql(view, query.model, query.scores)} AS l "
                            f"{condition} {order} {limit}", params)
        stages = _stages(view, [row[0] for row in ranked])
        rows = [(*row, stages.get(row[0])) for row in ranked]
    else:
        rows = view.query(f"SELECT {columns} FROM "
                          f"{scored_relation(view, query.model, query.scores)} AS l "
                          f"{condition} {order} {limit}", params)
    more = bool(query.limit) and len(rows) > int(query.limit or 0)
    rows = rows[:query.limit] if query.limit else rows
    emails = _emails(view, [row[0] for row in rows])
    leads = []
    for row in rows:
        values, labels = {}, {}
        for i, name in enumerate(query.scores):
            values[name] = row[1 + 2 * i]
            labels[name] = row[2 + 2 * i]
        leads.append(Lead(row[0], emails.get(row[0]), values, labels, row[-2], row[-1]))
    cursor = None
    if more and leads:
        last = leads[-1]
        cursor = encode_cursor(last.scores.get(query.sort), last.contact_id)
    return LeadPage(leads, cursor)


def _stages(view: DataView, ids: list[str]) -> dict[str, str | None]:
    if not ids:
        return {}
    listed = ", ".join(quote_text(i) for i in ids)
    return {cid: stage for cid, stage in view.query(
        f"SELECT contact_id, stage FROM {stage_relation(view)} WHERE contact_id IN ({listed})")}


def _emails(view: DataView, ids: list[str]) -> dict[str, str | None]:
    if not ids:
        return {}
    mark = "?" if view.connection.dialect.name == "sqlite" else "%s"
    return {cid: email for cid, email in view.connection.exec_driver_sql(
        f"SELECT contact_id, email FROM contacts WHERE contact_id IN "
        f"({', '.join([mark] * len(ids))})", tuple(ids))}


def _mean(value: str) -> str:
    """The mean of scores kept to the cent, summed as whole cents: the same in every run (a
    parallel sum of floats is not) and in every engine."""
    return f"sum(CAST(round({value} * 100) AS BIGINT)) / 100.0 / count({value})"


def score_statistics(view: DataView, model: str, scores: Sequence[str]
                     ) -> dict[str, Any]:
    """Per score: min, median, p90, max, mean and the count of each label; grades."""
    if not view.embedded:
        return _statistics_postgres(view, model, scores)
    current = current_wide_sql(view, model, scores)
    figures = []
    for name in scores:
        value, label = quote_name(name), quote_name(name + ":label")
        figures.append(f"min({value}), [quantile_cont({value}, 0.5), "
                       f"quantile_disc({value}, 0.9)], max({value}), {_mean(value)}, "
                       f"count({value}), histogram(coalesce({label}, '—')) "
                       f"FILTER (WHERE {value} IS NOT NULL)")
    row = view.query(f"SELECT {', '.join(figures)}, histogram(grade) "
                     f"FROM {current} AS l")[0]
    spread: dict[str, Any] = {}
    labels: dict[str, dict[str, int]] = {}
    for i, name in enumerate(scores):
        low, quantiles, high, mean, count, histogram = row[6 * i:6 * i + 6]
        if count:
            spread[name] = {"min": low, "p50": quantiles[0], "p90": quantiles[1], "max": high,
                            "mean": round(float(mean), 2)}
            labels[name] = {k: int(n) for k, n in (histogram or {}).items()}
    grades = {k: int(n) for k, n in (row[-1] or {}).items() if k is not None}
    return {"scores": spread, "labels": labels, "grades": grades}


def _statistics_postgres(view: DataView, model: str, scores: Sequence[str]
                         ) -> dict[str, Any]:
    relation = scored_relation(view, model, scores)
    spread: dict[str, Any] = {}
    labels: dict[str, dict[str, int]] = {}
    for name in scores:
        value = quote_name(name)
        figures = (f"min({value}), percentile_cont(0.5) WITHIN GROUP (ORDER BY {value}), "
                   f"percentile_disc(0.9) WITHIN GROUP (ORDER BY {value}), max({value}), "
                   f"{_mean(value)}, count({value})")
        low, median, p90, high, mean, count = view.query(
            f"SELECT {figures} FROM {relation} AS l")[0]
        if count:
            spread[name] = {"min": low, "p50": median, "p90": p90, "max": high,
                            "mean": round(float(mean), 2)}
            labels[name] = {(label or "—"): int(n) for label, n in view.query(
                f"SELECT {quote_name(name + ':label')}, count(*) FROM {relation} AS l "
                f"WHERE {value} IS NOT NULL GROUP BY 1")}
    grades = {grade: int(n) for grade, n in view.query(
        f"SELECT grade, count(*) FROM {relation} AS l WHERE grade IS NOT NULL GROUP BY 1")}
    return {"scores": spread, "labels": labels, "grades": grades}
