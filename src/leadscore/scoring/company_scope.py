"""Which contacts an incremental company run starts from — or None: score every company.

A company's scores are a function of its properties as of the moment and of its members'
current values and stored scores (`sql.company`). Since the last run stored under the same
model (digest and published version), they can have changed only for the companies of
contacts whose stored scores changed (score history: a row is appended wherever a value or
label changes), whose properties changed, or that are new — the companies they belonged to
(stored membership) and those they belong to now (`CompanyInputs` finds both). Everything
else is the same, unless:

- a company property was recorded, or one recorded earlier came into force (a change dated
  between the two runs' moments), or a company was created in between: a domain can move
  any contact, so every company is scored;
- a contact was erased (its membership row went with it; its company counted it);
- the company query itself depends on the moment (a date test relative to it): compiled at
  the two moments, its SQL differs.

The run remembers the marks it saw, with the model's digest and version and the company
property mark, in its state (`scoring.companies.STATE_PREFIX` + model) for the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from leadscore.storage.changes import contacts_with_rows_since, table_mark
from leadscore.storage.segments import SegmentKind

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from leadscore.model.model import Model
    from leadscore.storage.store import Store

ERASED_LIKE = "erased:%"


@dataclass(frozen=True)
class ScopeMarks:
    """What a company run saw: the highest score-history and property-change numbers, the
    contacts' revision, and how many erasures the store had recorded."""

    history: int
    properties: int
    contacts: int
    erasures: int

    def to_dict(self) -> dict[str, int]:
        return {"history": self.history, "properties": self.properties,
                "contacts": self.contacts, "erasures": self.erasures}

    @classmethod
    def from_state(cls, detail: dict[str, Any]) -> ScopeMarks | None:
        try:
            return cls(int(detail["history"]), int(detail["properties"]),
                       int(detail["contacts"]), int(detail["erasures"]))
        except (KeyError, TypeError, ValueError):
            return None  # a run before incremental company runs: score everyone


def scope_marks(connection: Connection) -> ScopeMarks:
    return ScopeMarks(
        table_mark(connection, "score_history", SegmentKind.HISTORY),
        table_mark(connection, "property_changes", SegmentKind.PROPS),
        int(connection.exec_driver_sql("SELECT coalesce(max(rev), 0) FROM contacts")
            .scalar() or 0),
        _erasures(connection))


def _erasures(connection: Connection) -> int:
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    return int(connection.exec_driver_sql(
        f"SELECT count(*) FROM store_state WHERE name LIKE {mark}", (ERASED_LIKE,)).scalar()
        or 0)


def changed_contacts(store: Store, model: Model, detail: dict[str, Any] | None,
                     as_of_us: int, company_mark: int) -> set[str] | None:
    """The contacts an incremental run starts from (see the module), or None when every
    company must be scored. `detail`: what the model's last company run remembered."""
    from leadscore.sql.company import compile_companies

    if not detail or detail.get("digest") != model.digest \
            or detail.get("version") != model.published \
            or detail.get("mark") != company_mark:
        return None
    before = ScopeMarks.from_state(detail)
    then_us = detail.get("as_of_us")
    if before is None or not isinstance(then_us, int) or then_us > as_of_us:
        return None
    if compile_companies(model, as_of_us=then_us).sql != \
            compile_companies(model, as_of_us=as_of_us).sql:
        return None  # the query reads the moment itself
    with store.read() as connection:
        if _erasures(connection) != before.erasures \
                or _companies_changed_between(connection, then_us, as_of_us):
            return None
        found = contacts_with_rows_since(connection, "score_history", SegmentKind.HISTORY,
                                         before.history, model=model.name)
        found |= contacts_with_rows_since(connection, "property_changes", SegmentKind.PROPS,
                                          before.properties)
        mark = "?" if connection.dialect.name == "sqlite" else "%s"
        found.update(row[0] for row in connection.exec_driver_sql(
            f"SELECT contact_id FROM contacts WHERE rev > {mark}", (before.contacts,)))
    return found


def _companies_changed_between(connection: Connection, then_us: int, now_us: int) -> bool:
    """A company created, or a company property change coming into force, after `then_us`
    and by `now_us` (recorded earlier, dated in between)."""
    if now_us <= then_us:
        return False
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    for table, column in (("company_property_changes", "changed_us"),
                          ("companies", "created_us")):
        if connection.exec_driver_sql(
                f"SELECT 1 FROM {table} WHERE {column} > {mark} AND {column} <= {mark} "
                "LIMIT 1", (then_us, now_us)).first() is not None:
            return True
    return False


__all__ = ["ScopeMarks", "changed_contacts", "scope_marks"]
