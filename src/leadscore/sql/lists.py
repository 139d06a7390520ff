"""Active lists in SQL, as `lists.ListSet.evaluate`: a contact is a member when no exclusion
holds and every filter of some group does. Lists come in dependency order, so a `list:`
condition reads a list computed in an earlier layer."""

from __future__ import annotations

from sqlglot import exp

from leadscore.lists import ActiveList, ListSet
from leadscore.sql import expr as x
from leadscore.sql.criteria import CriteriaSql


def membership(item: ActiveList, criteria: CriteriaSql) -> exp.Expression:
    with criteria.ctx.at(f"list '{item.name}'"):
        groups = [x.and_(*(criteria.holds(f) for f in group)) for group in item.groups]
        member = x.or_(*groups)
        if item.exclude:
            member = x.and_(x.not_(x.or_(*(criteria.holds(f) for f in item.exclude))), member)
    return member


def layers(lists: ListSet) -> list[list[ActiveList]]:
    """The lists by depth: each layer uses only lists of earlier layers."""
    depth: dict[str, int] = {}
    for item in lists:  # ListSet keeps dependency order
        depth[item.name] = 1 + max((depth[u] for u in item.uses if u in depth), default=-1)
    out: list[list[ActiveList]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for item in lists:
        out[depth[item.name]].append(item)
    return out
