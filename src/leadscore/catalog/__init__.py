"""What a contact can have: typed properties, event types and their attributes.

The standard catalog follows SPEC.md section 1; a model file may declare custom properties and
event types on top. Value coercion (text from a CSV or JSON to a typed value) lives here so that
import, the model file and evaluation agree on what `"1,200"` or `"2026-01-05"` means.
"""

from leadscore.catalog.catalog import (
    STANDARD_EVENT_TYPES,
    STANDARD_PROPERTIES,
    Catalog,
    EventTypeDef,
    PropertyDef,
    PropertyType,
)
from leadscore.catalog.forms import (
    TypedForms,
    attribute_forms,
    duration_micros,
    from_micros,
    read_attribute,
    read_forms,
    read_value,
    to_micros,
    typed_forms,
)
from leadscore.catalog.values import (
    CoercionError,
    coerce_value,
    enum_option,
    format_duration,
    parse_datetime,
    parse_duration,
    to_utc,
)

__all__ = [
    "STANDARD_EVENT_TYPES",
    "STANDARD_PROPERTIES",
    "Catalog",
    "CoercionError",
    "TypedForms",
    "attribute_forms",
    "duration_micros",
    "enum_option",
    "from_micros",
    "read_attribute",
    "read_forms",
    "read_value",
    "to_micros",
    "typed_forms",
    "EventTypeDef",
    "PropertyDef",
    "PropertyType",
    "coerce_value",
    "format_duration",
    "parse_datetime",
    "parse_duration",
    "to_utc",
]
