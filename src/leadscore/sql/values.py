"""Contact properties in the compiled query: which `ls_values` columns the model needs, and
each property read as its declared type (an enumeration's text matched to its options)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from leadscore.catalog import PropertyType
from leadscore.sql import expr as x
from leadscore.sql.relations import changed_column

CREATED_AT = "created_at"


@dataclass
class PropertyValues:
    """Required properties and their columns in the base layer (`p<i>`, `c<i>`)."""

    types: dict[str, PropertyType] = field(default_factory=dict)
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    _names: dict[str, str] = field(default_factory=dict)

    def value(self, name: str, kind: PropertyType, options: tuple[str, ...] = ()
              ) -> exp.Expression:
        """The property's typed value (NULL when unknown), as a base-layer column."""
        known = self.types.get(name)
        if known is not None and known is not kind:
            raise ValueError(f"property {name!r} is read as {known} and as {kind}")
        self.types[name] = kind
        self.options[name] = options
        if name not in self._names:
            self._names[name] = f"p{len(self._names) + 1}"
        return x.column(self._names[name])

    def changed_at(self, name: str, kind: PropertyType) -> exp.Expression:
        """The time of the property's latest recorded change (NULL: never), a base column."""
        self.value(name, kind, self.options.get(name, ()))
        self.changed.add(name)
        return x.column(self._names[name] + "c")

    def required(self) -> dict[str, tuple[PropertyType, bool]]:
        return {name: (kind, name in self.changed) for name, kind in self.types.items()}

    def base_columns(self, values: str, contacts: str) -> list[exp.Expression]:
        """The base layer's property columns, from the `ls_values` and `ls_contacts` aliases."""
        out = []
        for name, column_name in self._names.items():
            kind = self.types[name]
            raw: exp.Expression = x.column(name, values)
            if kind is PropertyType.ENUM and self.options[name]:
                # the text names an option ignoring case (str.lower): the option, else unknown
                lowered = x.func("LOWER", raw)
                raw = x.case([(x.eq(lowered, x.string(option.lower())), x.string(option))
                              for option in self.options[name]])
            if name == CREATED_AT and kind is PropertyType.DATE:
                raw = x.func("COALESCE", raw, x.column("created_us", contacts))
            out.append(x.alias(raw, column_name))
            if name in self.changed:
                out.append(x.alias(x.column(changed_column(name), values), column_name + "c"))
        return out
