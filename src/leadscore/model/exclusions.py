"""`exclude_events`: the model's rules for events that count nowhere (bots, crawlers, internal
traffic), checked and built into `criteria.EventExclusion`s. Every event criterion the model
(and its lists and workflows files) compiles carries the exclusions of its type, so each engine
leaves those events out wherever it reads events of that type — the evaluator's event matcher,
the SQL scan's filter — from the one tree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadscore.catalog import PropertyType
from leadscore.diagnostics import did_you_mean
from leadscore.model import criteria as c
from leadscore.model.operators import OPERATORS
from leadscore.model.spec import EventExclusionSpec

if TYPE_CHECKING:
    from leadscore.model.compile import CriteriaCompiler
    from leadscore.model.source import Path

NUMERIC = frozenset({PropertyType.NUMBER, PropertyType.DATE})


def compile_exclusions(compiler: CriteriaCompiler, specs: list[EventExclusionSpec]
                       ) -> tuple[c.EventExclusion, ...]:
    """Every exclusion of the file, each mistake reported at its place."""
    built: list[c.EventExclusion] = []
    names: set[str] = set()
    for i, spec in enumerate(specs):
        path: Path = ("exclude_events", i)
        if spec.name in names:
            compiler.error("LS191", f"event exclusion name '{spec.name}' is used twice",
                           path + ("name",), hint="explain names the exclusion that left each "
                           "event out; make the names unique")
        names.add(spec.name)
        found = _exclusion(compiler, spec, path)
        if found is not None:
            built.append(found)
    return tuple(built)


def _exclusion(compiler: CriteriaCompiler, spec: EventExclusionSpec, path: Path
               ) -> c.EventExclusion | None:
    catalog = compiler.catalog
    written = [] if spec.event is None else (
        [spec.event] if isinstance(spec.event, str) else list(spec.event))
    types: list[str] = []
    for j, name in enumerate(written):
        if catalog.event_type(name) is None:
            compiler.error("LS121", f"unknown event type '{name}'",
                           path + ("event",) + ((j,) if isinstance(spec.event, list) else ()),
                           hint=did_you_mean(name, catalog.event_types)
                           or "declare it under 'event_types:'")
            return None
        types.append(name)
    if not spec.where:
        compiler.error("LS190", f"event exclusion '{spec.name}' has no filters: it would leave "
                       "out every event" + (" of its types" if types else ""),
                       path + ("where",), key=True,
                       hint="e.g. where: {user_agent: {regex: 'bot|crawler|spider'}}")
        return None
    scope = types or list(catalog.event_types)
    filters: list[c.AttributeFilter] = []
    for attribute, test in spec.where.items():
        found = _filter(compiler, str(attribute), test, scope, path + ("where", attribute))
        if found is None:
            return None
        filters.append(found)
    return c.EventExclusion(spec.name, tuple(types), tuple(filters))


def _filter(compiler: CriteriaCompiler, attribute: str, test: object, scope: list[str],
            path: Path) -> c.AttributeFilter | None:
    """One attribute filter: compared as the type the event types in scope declare for the
    attribute when they agree, else as text (as a number for a comparison), as for an event
    type that declares no attributes."""
    if not isinstance(test, dict):
        test = {"any_of" if isinstance(test, list) else "equals": test}
    if len(test) != 1 or next(iter(test)) not in OPERATORS:
        key = str(next(iter(test), ""))
        compiler.error("LS111", f"a filter on '{attribute}' takes one operator",
                       path + ((key,) if key else ()), key=bool(key),
                       hint=did_you_mean(key, OPERATORS) or "e.g. {regex: 'bot|crawler'}")
        return None
    op_name, written = next(iter(test.items()))
    if op_name == "changed_within":
        compiler.error("LS113", "'changed_within' applies to properties, not event attributes",
                       path + (op_name,), key=True)
        return None
    declared = {definition.attributes[attribute] for name in scope
                if (definition := compiler.catalog.event_type(name)) is not None
                and attribute in definition.attributes}
    if len(declared) == 1:
        kind = next(iter(declared))
    else:
        kind = (PropertyType.NUMBER if OPERATORS[op_name].types == NUMERIC
                else PropertyType.STRING)
    value = compiler.value_test(op_name, written, kind, (), path + (op_name,),
                                subject=f"attribute '{attribute}'")
    if kind is PropertyType.ENUM:
        kind = PropertyType.STRING
    return c.AttributeFilter(attribute, value, kind) if value else None
