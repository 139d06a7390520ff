"""What a company can have: its standard properties, and the model's own declarations."""

from __future__ import annotations

from collections.abc import Mapping

from leadscore.catalog import Catalog, PropertyDef, PropertyType

S, N, D = PropertyType.STRING, PropertyType.NUMBER, PropertyType.DATE

COMPANY_PROPERTIES: dict[str, PropertyDef] = {
    p.name: p
    for p in [
        PropertyDef("name", S, "Company name"),
        PropertyDef("domain", S, "Web and e-mail domain (example.com): contacts of this e-mail "
                                 "domain belong to the company"),
        PropertyDef("industry", S, "Industry"),
        PropertyDef("employees", N, "Number of employees"),
        PropertyDef("annual_revenue", N, "Annual revenue"),
        PropertyDef("country", S, "Country or region"),
        PropertyDef("city", S, "City"),
        PropertyDef("owner", S, "Account owner (a salesperson's id or e-mail)"),
        PropertyDef("type", S, "Relationship: prospect, customer, partner, competitor, …"),
        PropertyDef("created_at", D, "When the company was created"),
    ]
}

# What an import's column names become for companies, where the contact import's default
# target (HubSpot's contact columns) would name a contact property
COMPANY_COLUMNS: dict[str, str] = {
    "company": "name",
    "company_name": "name",
    "company_domain_name": "domain",
    "website_url": "website",
    "number_of_employees": "employees",
    "company_owner": "owner",
    "contact_id": "company_id",
}


class CompanyCatalog(Catalog):
    """The company properties: the standard ones plus the model's `companies.properties`."""

    def __init__(self, properties: Mapping[str, PropertyDef] | None = None) -> None:
        super().__init__()
        self.properties = {**COMPANY_PROPERTIES, **(properties or {})}
        self.event_types = {}

    def __eq__(self, other: object) -> bool:  # a model loaded from the cache equals its source
        return isinstance(other, CompanyCatalog) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]
