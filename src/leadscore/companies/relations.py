"""The company query's canonical relations (`sql.company`) as Arrow tables, from the same
`CompanyInput`s the Python evaluator reads: each value read as its declared type once
(`catalog.read_value`), so that every engine sees the same typed values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from leadscore.catalog import PropertyType
from leadscore.catalog.forms import read_value, to_micros

if TYPE_CHECKING:
    import pyarrow as pa

    from leadscore.evaluation.company import CompanyInput
    from leadscore.sql.company import CompiledCompanies


def typed(raw: Any, kind: PropertyType, options: tuple[str, ...]) -> Any:
    """A value as the query's relations hold it: its declared type, dates in µs."""
    value = read_value(raw, kind, options)
    if isinstance(value, datetime):
        return to_micros(value)
    return value


def sql_type(kind: PropertyType) -> str:
    """The DuckDB type of a property's values in the query's relations (`typed`)."""
    return {PropertyType.NUMBER: "DOUBLE", PropertyType.BOOL: "BOOLEAN",
            PropertyType.DATE: "BIGINT"}.get(kind, "VARCHAR")


def arrow_type(kind: PropertyType) -> pa.DataType:
    import pyarrow as pa

    return {PropertyType.NUMBER: pa.float64(), PropertyType.BOOL: pa.bool_(),
            PropertyType.DATE: pa.int64()}.get(kind, pa.string())


def relations(compiled: CompiledCompanies, inputs: Sequence[CompanyInput]
              ) -> tuple[pa.Table, pa.Table]:
    """(ls_companies, ls_members) holding `inputs`."""
    import pyarrow as pa

    companies: dict[str, list[Any]] = {"company_id": [c.company_id for c in inputs]}
    types: dict[str, pa.DataType] = {"company_id": pa.string()}
    for name, (kind, options) in compiled.company_properties.items():
        companies["p:" + name] = [typed(c.properties.get(name), kind, options) for c in inputs]
        types["p:" + name] = arrow_type(kind)
    members: dict[str, list[Any]] = {"company_id": [], "contact_id": []}
    member_types: dict[str, pa.DataType] = {"company_id": pa.string(),
                                            "contact_id": pa.string()}
    for name, (kind, _) in compiled.contact_properties.items():
        members["p:" + name] = []
        member_types["p:" + name] = arrow_type(kind)
    for score in compiled.contact_scores:
        members["s:" + score], members["l:" + score] = [], []
        member_types["s:" + score], member_types["l:" + score] = pa.float64(), pa.string()
    for company in inputs:
        for member in company.members:
            members["company_id"].append(company.company_id)
            members["contact_id"].append(member.contact_id)
            for name, (kind, options) in compiled.contact_properties.items():
                members["p:" + name].append(typed(member.properties.get(name), kind, options))
            for score in compiled.contact_scores:
                value, label = member.scores.get(score, (None, None))
                members["s:" + score].append(value)
                members["l:" + score].append(label)
    return (pa.table({k: pa.array(v, type=types[k]) for k, v in companies.items()}),
            pa.table({k: pa.array(v, type=member_types[k]) for k, v in members.items()}))
