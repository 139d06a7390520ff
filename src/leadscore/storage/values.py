"""Every contact's current property values, wide: a cache of the property history.

Scoring as of now, the current stage of every contact and the leads list all need each
contact's latest value of a few properties. Reading them from the history means finding the
latest of millions of changes per contact and property every time; so the embedded store
keeps a *values segment*: one row per contact, for every property its latest value in each
typed form (`"<name>:text"`, `:num`, `:bool`, `:time`) with the time and sequence number of
that change (`:changed`, `:seq`). It reflects the property segments and tail rows it was
built from (its meta says which); rows recorded since — the *delta* — are laid over it by
(time, sequence), so readers always see the history's latest values.

The cache answers "as of t" only when no value it holds changed after t; otherwise, and on
PostgreSQL, values are pivoted from the history (`pivot_sql`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from leadscore.catalog import PropertyType
from leadscore.storage.duck import parquet_source, quote_name, quote_text
from leadscore.storage.segments import Segment, SegmentKind
from leadscore.storage.views import DataView

log = logging.getLogger("leadscore.values")
FORMS = ("text", "num", "bool", "time")
FORM_OF = {PropertyType.STRING: "text", PropertyType.ENUM: "text", PropertyType.NUMBER: "num",
           PropertyType.BOOL: "bool", PropertyType.DATE: "time"}
REBUILD_SHARE = 0.1  # rebuild when the delta exceeds this share of the cache's contacts
REBUILD_MIN = 100_000


def column(name: str, form: str) -> str:
    return quote_name(f"{name}:{form}")


# -- the history, pivoted -----------------------------------------------------------------------

def pivot_sql(changes: str, names: Sequence[str], *, until_us: int | None = None,
              within: str | None = None) -> str:
    """SQL of (contact_id, and per name its forms, :changed and :seq): the latest change of
    each property (at or before `until_us`) per contact, from the long `changes` relation
    (only the contacts of the relation `within`, when given)."""
    when = f" AND changed_us <= {int(until_us)}" if until_us is not None else ""
    when += _within(within)
    listed = ", ".join(quote_text(n) for n in names) or "NULL"
    latest = ", ".join(
        f"arg_max(struct_pack(v_text, v_num, v_bool, v_time, changed_us, seq), "
        f"(changed_us, seq)) FILTER (WHERE name = {quote_text(name)}) AS {quote_name(name)}"
        for name in names)
    picks = []
    for name in names:
        struct = quote_name(name)
        for form, field in (("text", "v_text"), ("num", "v_num"), ("bool", "v_bool"),
                            ("time", "v_time"), ("changed", "changed_us"), ("seq", "seq")):
            picks.append(f"{struct}.{field} AS {column(name, form)}")
    if not names:
        return f"(SELECT DISTINCT contact_id FROM {changes} WHERE true{_within(within)})"
    return (f"(SELECT contact_id, {', '.join(picks)} FROM (SELECT contact_id, {latest} "
            f"FROM {changes} WHERE name IN ({listed}){when} GROUP BY contact_id))")


def _within(relation: str | None) -> str:
    """The condition that keeps the contacts of `relation` (a relation with contact_id)."""
    return "" if relation is None else \
        f" AND contact_id IN (SELECT contact_id FROM {relation})"


# -- the cache ----------------------------------------------------------------------------------

def cache_of(view: DataView) -> Segment | None:
    if not view.embedded or view.segments is None:
        return None
    found = view.segments.live(view.connection, SegmentKind.VALUES)
    return found[-1] if found else None


def delta_sql(view: DataView, cache: Segment) -> str:
    """SQL of the property changes recorded after `cache` was built (long form)."""
    assert view.segments is not None
    included = set(cache.meta.get("segments", []))
    newer = [s for s in view.segments.live(view.connection, SegmentKind.PROPS)
             if s.id not in included]
    columns = "seq, contact_id, name, changed_us, v_text, v_num, v_bool, v_time"
    tail = view.tail_relation("property_changes", "WHERE seq > ?",
                              [int(cache.meta.get("tail_seq", 0))])
    parts = [f"SELECT {columns} FROM {tail}"]
    source = parquet_source([str(s.path) for s in newer], columns)
    if source is not None:
        parts.append(f"SELECT {columns} FROM {source}")
    return "(" + " UNION ALL ".join(parts) + ")"


def values_sql(view: DataView, names: Sequence[str], *, as_of_us: int | None = None,
               within: str | None = None, cached_rows: str | None = None) -> str:
    """SQL of every contact's latest values of `names` (all forms, :changed, :seq), as of
    `as_of_us` (None: now) — from the cache with the delta laid over it where the cache can
    answer, else pivoted from the history. `within`: only the contacts of this relation (a
    relation with contact_id), filtered before the cache and the delta are joined — a filter
    above the join is not pushed through it, and the cache's every row was read (200,000
    contacts: 0.54 s of an incremental run that scored 2). `cached_rows`: the cache's rows of
    those contacts already read (a relation with their columns of `names`), used instead of
    the cache."""
    cache = cache_of(view)
    if cache is None or (as_of_us is not None
                         and as_of_us < int(cache.meta.get("max_changed_us", 0))):
        return pivot_sql(view.relation("property_changes"), names, until_us=as_of_us,
                         within=within)
    cached = set(cache.meta.get("names", []))
    delta = pivot_sql(delta_sql(view, cache), names, until_us=as_of_us, within=within)
    base = parquet_source([str(cache.path)])
    if cached_rows is not None:
        base = cached_rows
    elif within is not None:
        base = f"(SELECT * FROM {base} WHERE true{_within(within)})"
    picks = []
    for name in names:
        if name not in cached:
            for form in (*FORMS, "changed", "seq"):
                picks.append(f"d.{column(name, form)} AS {column(name, form)}")
            continue
        newer = (f"(d.{column(name, 'changed')} IS NOT NULL AND "
                 f"(b.{column(name, 'changed')} IS NULL OR "
                 f"(d.{column(name, 'changed')}, d.{column(name, 'seq')}) > "
                 f"(b.{column(name, 'changed')}, b.{column(name, 'seq')})))")
        for form in (*FORMS, "changed", "seq"):
            picks.append(f"CASE WHEN {newer} THEN d.{column(name, form)} "
                         f"ELSE b.{column(name, form)} END AS {column(name, form)}")
    return (f"(SELECT coalesce(b.contact_id, d.contact_id) AS contact_id, {', '.join(picks)} "
            f"FROM {base} AS b FULL OUTER JOIN {delta} AS d ON d.contact_id = b.contact_id)")


def value_counts_sql(view: DataView, name: str, form: str = "text") -> str:
    """SQL of (value, contacts): how many contacts have each current value of property `name`
    (in `form`; contacts without one are not counted). From the cache, the counts are its own
    with the contacts the delta changed counted again: the cache's counts, less theirs there,
    plus theirs now — one column of the cache is grouped and the FULL JOIN of `values_sql`
    is made for those few contacts only (1,000,000 contacts: lifecycle stages 0.11 → 0.05 s
    of CPU; ARCHITECTURE.md, "`stats` from counts"). The changed contacts are found once, as
    a temporary table of the view: the delta is read from the tail and the files once."""
    value = column(name, form)
    cache = cache_of(view)
    if cache is None or name not in set(cache.meta.get("names", [])):
        return (f"(SELECT {value} AS value, count(*) AS contacts FROM {values_sql(view, [name])}"
                f" WHERE {value} IS NOT NULL GROUP BY 1)")
    base = parquet_source([str(cache.path)])
    changed = view.temporary(f"(SELECT DISTINCT contact_id FROM {delta_sql(view, cache)} "
                             f"WHERE name = {quote_text(name)})")
    # those contacts' rows of the cache, read once: what they counted there, and what the
    # delta is laid over (each filtered scan of the cache's ids cost ~45 ms at 1,000,000)
    kept = ", ".join(column(name, f) for f in (*FORMS, "changed", "seq"))
    before = view.temporary(f"(SELECT contact_id, {kept} FROM {base} "
                            f"WHERE contact_id IN (SELECT contact_id FROM {changed}))")
    now = values_sql(view, [name], within=changed, cached_rows=before)
    return (f"(SELECT value, CAST(sum(n) AS BIGINT) AS contacts FROM ("
            f"SELECT {value} AS value, count(*) AS n FROM {base} GROUP BY 1 "
            f"UNION ALL SELECT {value}, -count(*) FROM {before} GROUP BY 1 "
            f"UNION ALL SELECT {value}, count(*) FROM {now} GROUP BY 1) "
            f"WHERE value IS NOT NULL GROUP BY value HAVING sum(n) <> 0)")


def needs_rebuild(view: DataView) -> bool:
    """Whether the cache is missing (and there is history) or its delta has grown large."""
    if not view.embedded or view.segments is None:
        return False
    cache = cache_of(view)
    props = view.segments.live(view.connection, SegmentKind.PROPS)
    tail_rows = int(view.connection.exec_driver_sql(
        "SELECT count(*) FROM property_changes").scalar() or 0)
    if cache is None:
        return bool(props) or tail_rows >= REBUILD_MIN
    included = set(cache.meta.get("segments", []))
    newer = sum(s.rows for s in props if s.id not in included)
    tail_newer = int(view.connection.exec_driver_sql(
        "SELECT count(*) FROM property_changes WHERE seq > ?",
        (int(cache.meta.get("tail_seq", 0)),)).scalar() or 0)
    # every read lays the delta over the cache's contacts: measured against them, not against
    # the history's rows (a first score that moved 319,000 of 1,000,000 contacts' stages left
    # a delta under 10 % of 17.9 million changes, and each `stats` pivoted it again)
    contacts = cache.meta.get("contacts")
    if contacts is None:  # a cache written before its contacts were counted
        contacts = view.query(f"SELECT count(*) FROM {parquet_source([str(cache.path)])}")[0][0]
    return newer + tail_newer > max(REBUILD_MIN, REBUILD_SHARE * int(contacts))


def rebuild(store: Any) -> Segment | None:
    """Write a new values cache from the whole history and retire the old one."""
    segments = store.segments
    if segments is None:
        return None
    started = time.perf_counter()
    with store.read() as connection, DataView(connection) as view:
        props = segments.live(connection, SegmentKind.PROPS)
        tail_seq = int(connection.exec_driver_sql(
            "SELECT coalesce(max(seq), 0) FROM property_changes").scalar() or 0)
        history = view.relation("property_changes")
        duck = view.duck
        names = [row[0] for row in duck.execute(
            f"SELECT DISTINCT name FROM {history} ORDER BY name").fetchall()]
        target = segments.new_file(SegmentKind.VALUES)
        # from the old cache with the changes since laid over it, when there is one: what
        # every reader sees, for a fraction of pivoting the whole history again
        source = (values_sql(view, names) if cache_of(view) is not None
                  else pivot_sql(history, names))
        duck.execute(f"COPY (SELECT * FROM {source} ORDER BY contact_id) "
                     f"TO {quote_text(str(target))} (FORMAT parquet, COMPRESSION zstd, "
                     f"ROW_GROUP_SIZE 16384)")
        rows, top = duck.execute(
            f"SELECT count(*), coalesce(max(changed_us), 0) FROM {history}").fetchall()[0]
        contacts = duck.execute(f"SELECT count(*) FROM "
                                f"{parquet_source([str(target)])}").fetchall()[0][0]
    with store.write() as writer:
        old = segments.live(writer.connection, SegmentKind.VALUES)
        made = segments.publish(writer.connection, SegmentKind.VALUES, target,
                                rows=int(rows), meta={
                                    "segments": [s.id for s in props], "tail_seq": tail_seq,
                                    "max_changed_us": int(top), "names": names,
                                    "contacts": int(contacts)})
        segments.retire(writer.connection, old)
    log.debug("rebuilt the values cache (%d properties) in %.2fs", len(names),
              time.perf_counter() - started)
    return made


def typed_values_sql(view: DataView, required: Mapping[str, tuple[PropertyType, bool]], *,
                     as_of_us: int | None, within: str | None = None) -> str:
    """`ls_values` for a compiled query: per required property its declared type's form as
    `"<name>"` and, where asked, `"<name>:changed"`."""
    names = sorted(required)
    if not names:
        return "(SELECT CAST(NULL AS VARCHAR) AS contact_id WHERE false)"
    source = values_sql(view, names, as_of_us=as_of_us, within=within)
    picks = []
    for name, (kind, changed) in required.items():
        picks.append(f"{column(name, FORM_OF[kind])} AS {quote_name(name)}")
        if changed:
            picks.append(f"{column(name, 'changed')} AS {quote_name(name + ':changed')}")
    return f"(SELECT contact_id, {', '.join(picks)} FROM {source})"

