"""Request and response bodies of the API (pydantic): what the OpenAPI document shows.

Batch items are JSON objects checked by the import rules (`ingestion.items`), not by these
models, so that a bad item is named by its index and field exactly as a file's bad row is."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ROW_ID_MAX = 2**63 - 1  # the largest row id a store can hold
RowId = Annotated[int, Field(ge=1, le=ROW_ID_MAX)]

EXAMPLE_EVENT = {"event_id": "e-1001", "contact_id": "c0000042", "type": "page_view",
                 "occurred_at": "2026-03-01T09:30:00Z", "attributes": {"url": "/pricing"}}


class Place(BaseModel):
    index: int | None = Field(None, description="The item's 0-based index in the batch.")
    field: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None


class Problem(BaseModel):
    code: str = Field(description="Stable code, listed in docs/errors.md.")
    severity: str
    message: str
    place: Place
    text: str | None = Field(None, description="The offending text, as sent.")
    hint: str | None = None


class ErrorBody(BaseModel):
    errors: list[Problem]


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text} for code, text in (
        (401, "No API key, or an unknown or revoked one"),
        (403, "The key's scopes do not allow this route"),
        (404, "No such contact, list, task or route"),
        (413, "The body is larger than the limit (32 KB, a batch 500 KB — a message in it "
              "32 KB —, a draft model 1 MB)"),
        (422, "A mistake in the request (every one named, with its place)"),
        (429, "The key's rate limit is used up: wait Retry-After seconds"))}
ERRORS[429]["headers"] = {"Retry-After": {
    "description": "Whole seconds until the key may send again.",
    "schema": {"type": "integer", "minimum": 1}}}


# -- ingestion -------------------------------------------------------------------------------

class ContactsIn(BaseModel):
    contacts: list[dict[str, Any]] = Field(
        description="Contacts as in a JSONL import: contact_id, email, created_at, "
                    "updated_at (when the values became true; default now), properties.",
        examples=[[{"contact_id": "c0000042", "email": "ann@example.com",
                    "properties": {"job_title": "VP Marketing", "employees": 250}}]])


class EventsIn(BaseModel):
    events: list[dict[str, Any]] = Field(
        description="Events as in a JSONL import: event_id (derived from the content when "
                    "missing), contact_id, type, occurred_at, attributes.",
        examples=[[EXAMPLE_EVENT]])
    create_contacts: bool = Field(
        False, description="Create contacts the store does not have (else each such event "
                           "is a mistake, LS219).")


class OutcomesIn(BaseModel):
    outcomes: list[dict[str, Any]] = Field(
        description="contact_id, opportunity_at, won_at, lost_at.",
        examples=[[{"contact_id": "c0000042", "opportunity_at": "2026-03-20"}]])


class IngestOut(BaseModel):
    received: int
    inserted: int
    updated: int
    unchanged: int = Field(description="Already stored (a resent item).")
    repeated: int = Field(description="Repeated within the batch.")
    contacts_created: int = 0


# -- Segment spec ----------------------------------------------------------------------------

class SegmentMessage(BaseModel):
    """The fields every Segment message may carry; other fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    type: Any = Field(None, description="identify, track, page, screen, group or alias "
                                        "(in a batch: required).")
    userId: Any = Field(None, description="The contact's id (a text).")
    anonymousId: Any = Field(None, description="A visitor's id before it is identified.")
    messageId: Any = Field(None, description="Unique per message: a resent message is a "
                                             "no-op (derived from the content when missing).")
    timestamp: Any = Field(None, description="When it happened (ISO 8601), by the sender's "
                                             "clock.")
    originalTimestamp: Any = Field(None, description="Used when there is no timestamp.")
    sentAt: Any = Field(None, description="When the sender sent it: with it the time is "
                                          "timestamp + (receivedAt − sentAt).")
    receivedAt: Any = Field(None, description="When it was received (default: now).")
    context: Any = Field(None, description="An object; `context.page` fills a page's url, "
                                           "path, title, referrer and search.")


class IdentifyIn(SegmentMessage):
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "userId": "c0000042", "anonymousId": "a-7f3e", "messageId": "m-1",
        "timestamp": "2026-11-30T10:00:00Z",
        "traits": {"email": "ann@example.com", "title": "VP Marketing", "employees": 250}}]})

    traits: Any = Field(None, description="Become contact properties (snake_case names; "
                                          "title → job_title; email the contact's e-mail).")


class TrackIn(SegmentMessage):
    event: Any = Field(None, description="The event's name; its snake_case is the event "
                                         "type (\"Demo Requested\" → demo_requested).")
    properties: Any = Field(None, description="The event's attributes.")


class PageIn(SegmentMessage):
    name: Any = Field(None, description="The page's name.")
    category: Any = None
    properties: Any = Field(None, description="The page_view's attributes (url, path, title, "
                                              "referrer, search, …).")


class ScreenIn(SegmentMessage):
    name: Any = Field(None, description="The screen's name.")
    category: Any = None
    properties: Any = Field(None, description="The screen_view's attributes.")


class GroupIn(SegmentMessage):
    groupId: Any = Field(None, description="The company's id (→ company_id).")
    traits: Any = Field(None, description="The company's traits (name → company, industry, "
                                          "employees, annual_revenue, others company_<name>).")


class AliasIn(SegmentMessage):
    previousId: Any = Field(None, description="The old id: an anonymousId or a userId.")


class SegmentBatchIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    batch: list[Any] | None = Field(None, description="Messages of any type, each with its "
                                    "`type` (or, without `batch`, the body is one message "
                                    "with its `type`).",
                             examples=[[{"type": "page", "anonymousId": "a-7f3e",
                                         "messageId": "m-2", "name": "Pricing",
                                         "properties": {"url": "https://example.com/pricing"}},
                                        {"type": "identify", "userId": "c0000042",
                                         "anonymousId": "a-7f3e", "messageId": "m-3",
                                         "traits": {"email": "ann@example.com"}}]])
    sentAt: Any = Field(None, description="For the messages without their own sentAt.")
    context: Any = Field(None, description="Merged into each message's context.")


class SegmentOut(BaseModel):
    success: bool = Field(description="Always true on a 200: everything was stored.")
    received: int = Field(description="Messages in the request.")
    accepted: int = Field(description="New messages, acted on.")
    repeated: int = Field(description="Message ids already accepted or repeated: no-ops.")
    events: int = Field(description="Events stored (held activity now a contact's included).")
    contacts_created: int
    held: int = Field(description="Messages of visitors not yet identified, held until an "
                                  "identify or alias names their contact.")
    attributed: int = Field(description="Held messages written as an identified contact's.")
    merged: int = Field(description="Contacts merged into another by alias.")


# -- contacts --------------------------------------------------------------------------------

class ContactOut(BaseModel):
    contact_id: str
    email: str | None
    created_at: datetime | None
    as_of: datetime
    properties: dict[str, Any]


class ScoreValue(BaseModel):
    value: float | None
    label: str | None
    scored: bool = Field(True, description="false: unscored — no rule of the score applied "
                                           "and no ledger entry applies (a sum: none of its "
                                           "parts is scored); `value` is then 0, as before.")


class ScoresOut(BaseModel):
    contact_id: str
    model: str
    as_of: datetime
    scores: dict[str, ScoreValue]
    grade: str | None
    grade_label: str | None
    stage: str | None = Field(description="The stage the scores qualify the contact for.")
    version: int | None = Field(None, description="The published model version live at "
                                                  "`as_of` that computed them (null: the "
                                                  "model file, nothing published then).")


class ScoreChangeOut(BaseModel):
    model: str | None
    score: str = Field(description="The score's name, or `grade`.")
    value: float | None
    label: str | None
    computed_at: datetime = Field(description="When the run that recorded it ran.")
    as_of: datetime | None = Field(description="The moment that run scored as of.")
    version: int | None = Field(None, description="The published model version that "
                                                  "computed it (null: the model file).")


class StoredScoresAt(BaseModel):
    contact_id: str
    at: datetime
    model: str
    version: int | None = Field(description="The version live at `at` (null: the model "
                                            "file, nothing published then).")
    scores: list[ScoreChangeOut] = Field(description="Each score as the store held it at `at`.")


class ScoreHistoryPage(BaseModel):
    contact_id: str
    total: int = Field(description="Every recorded change (of `model`, if given).")
    changes: list[ScoreChangeOut] = Field(description="Newest first.")
    cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class LogEntry(BaseModel):
    at: datetime
    what: str
    change: str
    detail: str | None


class LogOut(BaseModel):
    contact_id: str
    entries: list[LogEntry]


class StageChangeOut(BaseModel):
    stage: str
    previous: str | None
    changed_at: datetime
    cause: str


class StagesOut(BaseModel):
    contact_id: str
    changes: list[StageChangeOut]


class FeedbackIn(BaseModel):
    verdict: str = Field(description="true_sql, not_ready or unqualified.")
    by: str = "sales"


class FeedbackOut(BaseModel):
    contact_id: str
    verdict: str
    steps: int = Field(description="Workflow steps that ran at once.")


class StageIn(BaseModel):
    stage: str = Field(description="Any stage of the model (a person may move backward).")
    by: str = "a person"


class StageOut(BaseModel):
    contact_id: str
    stage: str


# -- companies -------------------------------------------------------------------------------

class CompanyScoreOut(BaseModel):
    value: float
    label: str | None


class CompanyOut(BaseModel):
    company_id: str
    name: str | None
    domain: str | None
    contacts: int = Field(description="Contacts grouped into the company when it was scored")
    scores: dict[str, CompanyScoreOut]
    model_version: int | None = Field(description="The published model version that scored "
                                                  "it (null: the model file)")
    computed_at: str | None


class CompaniesOut(BaseModel):
    companies: list[CompanyOut]


# -- leads and lists -------------------------------------------------------------------------

class LeadOut(BaseModel):
    contact_id: str
    email: str | None
    scores: dict[str, float | None]
    scored: dict[str, bool] = Field(
        default_factory=dict, description="Per score, false when it is unscored (no rule "
                                          "applied, no ledger entry; its value in `scores` "
                                          "is then 0).")
    labels: dict[str, str | None]
    grade: str | None
    stage: str | None
    probability: float | None = Field(
        None, description="The primary score's calibrated probability of converting, when the "
                          "model carries one (`probability:` of the score)")


class LeadsPage(BaseModel):
    leads: list[LeadOut]
    cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class ListOut(BaseModel):
    name: str
    members: int
    description: str
    of: Literal["contacts", "companies"] = Field(
        "contacts", description="What the list holds (`of: companies`: a company list)")


class CompanyMemberOut(BaseModel):
    company_id: str
    name: str | None
    domain: str | None
    contacts: int
    scores: dict[str, CompanyScoreOut]
    joined_at: datetime


class CompanyMembersPage(BaseModel):
    name: str
    total: int
    members: list[CompanyMemberOut]
    cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page")


class ListsOut(BaseModel):
    lists: list[ListOut]


class MemberOut(BaseModel):
    contact_id: str
    email: str | None
    joined_at: datetime


class MembersPage(BaseModel):
    name: str
    total: int
    members: list[MemberOut]
    cursor: str | None


# -- tasks and outbox ------------------------------------------------------------------------

class TaskOut(BaseModel):
    id: int
    contact_id: str
    owner: str | None
    title: str
    due_at: datetime | None
    status: str
    detail: dict[str, Any]


class TasksPage(BaseModel):
    total: int
    tasks: list[TaskOut]
    cursor: str | None


class TaskDoneOut(BaseModel):
    id: int
    status: str
    changed: bool = Field(description="False when the task was already done.")


class OutboxItemOut(BaseModel):
    id: int
    key: str
    kind: str
    channel: str
    contact_id: str | None
    workflow: str | None
    payload: Any
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class OutboxPage(BaseModel):
    items: list[OutboxItemOut]
    cursor: str | None


class RetryIn(BaseModel):
    ids: list[RowId] | None = Field(None, description="Dead letters to send again (all: null).")


class RetryOut(BaseModel):
    retried: int


# -- draft models ----------------------------------------------------------------------------

class DryRunIn(BaseModel):
    model: str = Field(description="The draft model as YAML text, as in a model file (at "
                                   "most 1 MB; the model file's rules and limits apply).",
                       examples=["version: 1\nname: draft\nscores:\n  fit: …"])
    as_of: str | None = Field(None, description="Score as of this moment (2026-03-01, "
                                                "2026-03-01T09:30Z, now-30d); default now.")
    limit: int = Field(10, ge=0, le=1000, description="Contact ids listed per change.")


class ChangeOut(BaseModel):
    kind: str = Field(description="`label` (of `score`) or `stage`.")
    score: str | None
    before: str | None = Field(description="The stored label or stage (null: none).")
    after: str | None = Field(description="Under the draft.")
    contacts: int
    contact_ids: list[str] = Field(description="The first `limit` of them, by id.")


class DryRunOut(BaseModel):
    model: str = Field(description="The draft's name.")
    live_model: str = Field(description="The model whose stored labels it is compared with.")
    as_of: datetime
    contacts: int = Field(description="Contacts scored (nothing was written).")
    seconds: float
    labels: dict[str, dict[str, int]] = Field(
        description="Per score of the draft: contacts per label (`—`: no label).")
    stages: dict[str, int] = Field(description="Contacts per lifecycle stage under the draft.")
    label_changes: int = Field(description="Contacts with at least one label changed.")
    stage_changes: int = Field(description="Contacts whose stage would move.")
    changes: list[ChangeOut] = Field(description="Each change, most contacts first.")


class PublishIn(BaseModel):
    model: str = Field(description="The model to publish, as YAML text (a model file's "
                                   "rules and limits apply).")
    message: str = Field(description="Why this version: kept with it in the history.")
    author: str | None = Field(None, description="Who publishes it.")


class RollbackIn(BaseModel):
    version: int | None = Field(None, description="The version to make live again "
                                                  "(default: the one live before).")
    message: str | None = None
    author: str | None = None


class PublishOut(BaseModel):
    id: int = Field(description="The publish: `GET /v1/models/publishes/{id}` follows it.")
    version: int
    previous: int | None = Field(description="The version live when it started.")
    action: str = Field(description="`publish` or `rollback`.")
    state: str = Field(description="`rescoring` (the previous version is live meanwhile) "
                                   "or `live`.")
    phase: str | None
    contacts: int | None = Field(description="Contacts to rescore.")
    attempts: int = Field(description="Runs of the rescore (more than one: resumed).")
    author: str | None
    message: str | None
    started_at: datetime
    updated_at: datetime
    live_at: datetime | None


class VersionOut(BaseModel):
    version: int
    model: str
    digest: str
    author: str | None
    message: str
    source: str | None
    published_at: datetime
    live: bool


class VersionsOut(BaseModel):
    live: int | None = Field(description="The live version (null: nothing published: the "
                                         "project's model file is live).")
    versions: list[VersionOut] = Field(description="Newest first.")
    publishes: list[PublishOut] = Field(description="Newest first.")


class RuleChangeOut(BaseModel):
    score: str
    rule: str = Field(description="`group/rule`, the rule, `thresholds` or empty (the score).")
    change: str = Field(description="added, removed or changed.")
    before: str | None
    after: str | None


class SpreadOut(BaseModel):
    min: float | None
    p50: float | None
    p90: float | None
    max: float | None
    mean: float | None


class DiffOut(BaseModel):
    a: str
    b: str
    model_a: str
    model_b: str
    rules: list[RuleChangeOut]
    contacts: int = Field(description="Stored contacts scored under both (nothing written).")
    labels_a: dict[str, dict[str, int]]
    labels_b: dict[str, dict[str, int]]
    spread_a: dict[str, SpreadOut]
    spread_b: dict[str, SpreadOut]
    label_changes: int = Field(description="Contacts with at least one label changed.")
    stage_changes: int = Field(description="Contacts whose stage B would move.")
    changes: list[ChangeOut]
