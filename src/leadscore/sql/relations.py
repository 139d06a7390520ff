"""The canonical relations: the only names the compiled SQL reads, and their columns.

- `ls_contacts(contact_id VARCHAR, created_us BIGINT)` — every contact; those created after
  the moment of scoring are left out.
- `ls_values(contact_id VARCHAR, …)` — one row per contact (a missing contact has every value
  unknown): per property the model needs, `"<property>"` typed by its declared type (VARCHAR
  for string and enum — the raw text form, the compiler applies an enum's options; DOUBLE for
  number; BOOLEAN for bool; BIGINT microseconds for date) as of the moment of scoring, and
  `"<property>:changed"` BIGINT (its latest recorded change, a clear included) where
  `changed_within` needs it. `created_at` falls back to `ls_contacts.created_us`.
- `ls_events(contact_id VARCHAR, type VARCHAR, occurred_us BIGINT, …)` — every event; an
  attribute compared as kind K is the column `"<attribute>:<K>"` (K = string, number, bool,
  date), NULL when the stored JSON value does not fit K (`catalog.attribute_forms`).
- `ls_targets(contact_id VARCHAR)` — optional: score only these contacts.
- `ls_ledger(contact_id VARCHAR, score VARCHAR, op VARCHAR, cents BIGINT, effective_us
  BIGINT, expires_us BIGINT, entry_id BIGINT)` — optional: the score ledger's entries that
  are not voided (`evaluation.ledger`; op is 'set' or 'change', the amount in hundredths).
- `ls_company_scores(contact_id VARCHAR, score VARCHAR, value DOUBLE, label VARCHAR)` — read
  only when a list, stage rule or probe has a `company_score:` condition
  (`CompiledQuery.reads_company_scores`): each contact's company's stored scores, one row per
  (contact, company score) — `company_members` joined with `company_scores`; a contact
  without a company has no row (its company scores are unknown), a NULL value is unknown.

The caller binds each name to a view, table, Arrow table or Parquet file; `compile_model`
takes a mapping canonical name → actual relation name. Contacts and values bound to the same
relation (one row per contact: created_us and the typed properties) are read once.
"""

from __future__ import annotations

from collections.abc import Mapping

from leadscore.catalog import PropertyType

CONTACTS = "ls_contacts"
VALUES = "ls_values"
EVENTS = "ls_events"
TARGETS = "ls_targets"
LEDGER = "ls_ledger"
HISTORY = "ls_history"  # the long property history the pivot reads
COMPANY_SCORES = "ls_company_scores"
CANONICAL = (CONTACTS, VALUES, EVENTS, TARGETS, HISTORY, LEDGER, COMPANY_SCORES)

# attribute kinds: how an event attribute is compared, and the SQL type of its column
ATTRIBUTE_KINDS = {PropertyType.STRING: "string", PropertyType.ENUM: "string",
                   PropertyType.NUMBER: "number", PropertyType.BOOL: "bool",
                   PropertyType.DATE: "date"}
KIND_SQL_TYPES = {"string": "VARCHAR", "number": "DOUBLE", "bool": "BOOLEAN", "date": "BIGINT"}
PROPERTY_SQL_TYPES = {PropertyType.STRING: "VARCHAR", PropertyType.ENUM: "VARCHAR",
                      PropertyType.NUMBER: "DOUBLE", PropertyType.BOOL: "BOOLEAN",
                      PropertyType.DATE: "BIGINT"}


def attribute_kind(kind: PropertyType) -> str:
    return ATTRIBUTE_KINDS[kind]


def attribute_column(attribute: str, kind: PropertyType | str) -> str:
    """The `ls_events` column of an attribute compared as `kind`."""
    name = kind if isinstance(kind, str) else ATTRIBUTE_KINDS[kind]
    return f"{attribute}:{name}"


def changed_column(prop: str) -> str:
    """The `ls_values` column with the time of a property's latest recorded change."""
    return f"{prop}:changed"


def relation_names(mapping: Mapping[str, str] | None) -> dict[str, str]:
    """Canonical name → actual relation name (a name not mapped is itself)."""
    names = {name: name for name in CANONICAL}
    for key, value in (mapping or {}).items():
        if key not in names:
            raise ValueError(f"unknown canonical relation {key!r}; they are "
                             + ", ".join(CANONICAL))
        names[key] = value
    return names
