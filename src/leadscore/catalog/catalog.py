from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class PropertyType(enum.StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOL = "bool"
    DATE = "date"
    ENUM = "enum"


@dataclass(frozen=True)
class PropertyDef:
    name: str
    type: PropertyType
    description: str = ""
    options: tuple[str, ...] = ()  # allowed values of an enumeration


@dataclass(frozen=True)
class EventTypeDef:
    name: str
    description: str = ""
    attributes: Mapping[str, PropertyType] = field(default_factory=dict)
    open_attributes: bool = False  # custom types accept any attribute name


S, N, B, D, E = (PropertyType.STRING, PropertyType.NUMBER, PropertyType.BOOL,
                 PropertyType.DATE, PropertyType.ENUM)

LIFECYCLE_STAGE_VALUES = ("subscriber", "lead", "mql", "sql", "opportunity", "customer",
                          "evangelist", "other")
SALES_FEEDBACK_VALUES = ("true_sql", "not_ready", "unqualified")

STANDARD_PROPERTIES: dict[str, PropertyDef] = {
    p.name: p
    for p in [
        PropertyDef("email", S, "Email address"),
        PropertyDef("first_name", S, "First name"),
        PropertyDef("last_name", S, "Last name"),
        PropertyDef("company", S, "Company name"),
        PropertyDef("company_id", S, "The id of the contact's company (account); without "
                                     "it, the e-mail domain groups contacts"),
        PropertyDef("job_title", S, "Job title"),
        PropertyDef("seniority", S, "Seniority level (e.g. executive, manager, individual)"),
        PropertyDef("industry", S, "Industry of the contact's company"),
        PropertyDef("employees", N, "Number of employees of the company"),
        PropertyDef("annual_revenue", N, "Annual revenue of the company"),
        PropertyDef("country", S, "Country or region"),
        PropertyDef("city", S, "City"),
        PropertyDef("original_source", S, "Original source (e.g. organic_search, direct)"),
        PropertyDef("referrer_url", S, "First referring URL"),
        PropertyDef("owner", S, "Owner (a salesperson's id or email)"),
        PropertyDef("lifecycle_stage", E, "Lifecycle stage", LIFECYCLE_STAGE_VALUES),
        PropertyDef("email_opt_out", B, "Opted out of all email"),
        PropertyDef("is_employee", B, "Works for our own company"),
        PropertyDef("is_partner", B, "Works for a partner"),
        PropertyDef("is_competitor", B, "Works for a competitor"),
        PropertyDef("is_vendor", B, "Works for a vendor selling to us"),
        PropertyDef("sales_feedback", E, "Sales feedback on the lead", SALES_FEEDBACK_VALUES),
        PropertyDef("score_adjustment", N, "Points added by hand or by a workflow (feedback)"),
        PropertyDef("created_at", D, "When the contact was created"),
    ]
}

STANDARD_EVENT_TYPES: dict[str, EventTypeDef] = {
    e.name: e
    for e in [
        EventTypeDef("page_view", "A page was viewed", {"url": S, "title": S, "referrer": S}),
        EventTypeDef("visit", "A visit (session) started",
                     {"source": S, "referrer": S, "url": S, "utm_campaign": S, "utm_medium": S}),
        EventTypeDef("form_submission", "A form was submitted", {"form_id": S, "url": S}),
        EventTypeDef("email_open", "A marketing email was opened", {"campaign": S, "email_id": S}),
        EventTypeDef("email_click", "A link in a marketing email was clicked",
                     {"campaign": S, "email_id": S, "url": S}),
        EventTypeDef("email_bounce", "A marketing email bounced",
                     {"campaign": S, "email_id": S, "bounce_type": S}),
        EventTypeDef("email_unsubscribe", "Unsubscribed from a marketing email",
                     {"campaign": S, "email_id": S}),
        EventTypeDef("cta_click", "A call-to-action was clicked", {"cta_id": S, "url": S}),
        EventTypeDef("blog_comment", "A comment on a blog post", {"url": S}),
        EventTypeDef("social_interaction", "A like, share or mention on a social network",
                     {"network": S, "action": S, "url": S}),
        EventTypeDef("meeting_booked", "A meeting was booked", {"meeting_type": S, "owner": S}),
        EventTypeDef("webinar_attended", "Attended a webinar", {"webinar_id": S, "minutes": N}),
        EventTypeDef("trial_started", "Started a product trial", {"plan": S}),
        EventTypeDef("opportunity_created", "A sales opportunity was opened",
                     {"opportunity_id": S, "amount": N}),
        EventTypeDef("deal_won", "A deal was won: the contact is a customer",
                     {"opportunity_id": S, "amount": N}),
        EventTypeDef("deal_lost", "A deal was lost", {"opportunity_id": S, "reason": S}),
    ]
}


class Catalog:
    """The standard catalog plus a model's own declarations."""

    def __init__(self, properties: Mapping[str, PropertyDef] | None = None,
                 event_types: Mapping[str, EventTypeDef] | None = None) -> None:
        self.properties: dict[str, PropertyDef] = {**STANDARD_PROPERTIES, **(properties or {})}
        self.event_types: dict[str, EventTypeDef] = {**STANDARD_EVENT_TYPES,
                                                     **(event_types or {})}

    def property(self, name: str) -> PropertyDef | None:
        return self.properties.get(name)

    def property_type(self, name: str) -> PropertyType:
        """Undeclared properties (from imports) are strings."""
        found = self.properties.get(name)
        return found.type if found else PropertyType.STRING

    def event_type(self, name: str) -> EventTypeDef | None:
        return self.event_types.get(name)
