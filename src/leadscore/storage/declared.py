"""Property types declared by the imports' mapping files (`types:` and derived columns), kept
in `store_state` so that what reads the store later — `leadscore suggest` — reads a column the
mapping declared as text as text (a month "01".."12" is a category, not a number)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from leadscore.catalog import PropertyType
from leadscore.storage.state import read_state, write_state

if TYPE_CHECKING:
    from leadscore.storage.store import Store

STATE_NAME = "declared_property_types"


def load_declared_types(store: Store) -> dict[str, PropertyType]:
    """name → type of every property a mapping declared (the latest import wins)."""
    with store.read() as connection:
        found = read_state(connection, STATE_NAME)
    if found is None or not isinstance(found[1], dict):
        return {}
    known = {kind.value for kind in PropertyType}
    return {str(name): PropertyType(kind) for name, kind in found[1].items() if kind in known}


def record_declared_types(store: Store, types: Mapping[str, PropertyType]) -> None:
    """Add `types` to the declared ones (one small write transaction)."""
    if not types:
        return
    with store.write() as writer:
        found = read_state(writer.connection, STATE_NAME)
        merged = dict(found[1]) if found is not None and isinstance(found[1], dict) else {}
        merged.update({name: kind.value for name, kind in types.items()})
        write_state(writer.connection, STATE_NAME, len(merged), merged)
