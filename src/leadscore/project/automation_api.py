"""The project's automation as calls: what `leadscore process`, `feedback`, `stage`, `list`,
`tasks`, `log` and `outbox` do, for the command line, the HTTP API and the web app alike.

`Project` takes these methods from `AutomationOperations`; they need its `store`, `model`,
`lists`, `automation` and `channels`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from leadscore.diagnostics import LeadscoreError, Location, did_you_mean

if TYPE_CHECKING:
    from leadscore.automation import Automation
    from leadscore.automation.processor import ProcessReport
    from leadscore.delivery import Channels
    from leadscore.delivery.dispatcher import DeliveryReport
    from leadscore.delivery.outbox import OutboxItem
    from leadscore.lists import ListSet
    from leadscore.lists.membership import ListTest
    from leadscore.model import Model
    from leadscore.storage import StageChange, Store
    from leadscore.storage.automation_reads import Page, TimelineEntry

FEEDBACK = ("true_sql", "not_ready", "unqualified")


MAINTAIN_AFTER = 10_000  # processed contacts from which `process` tidies the store after


@dataclass(frozen=True)
class ProcessResult:
    report: ProcessReport
    delivered: DeliveryReport | None


class AutomationOperations:
    """Mixed into `Project`, which gives these parts."""

    if TYPE_CHECKING:
        @property
        def store(self) -> Store: ...
        @property
        def model(self) -> Model: ...
        @property
        def lists(self) -> ListSet: ...
        @property
        def automation(self) -> Automation: ...
        @property
        def channels(self) -> Channels: ...
        def context_snapshot(self, contact_id: str) -> Any: ...
        def maintain(self) -> None: ...

    def require_contact(self, contact_id: str) -> None:
        """LS310 unless the store has the contact."""
        if not self.store.existing_contact_ids([contact_id]):
            raise LeadscoreError.single("LS310", f"no contact '{contact_id}' in the store",
                                        Location(field="contact"),
                                        hint="`leadscore leads` lists contact ids")

    def process(self, *, now: datetime | None = None, deliver: bool = True,
                bulk: bool = True) -> ProcessResult:
        """Process every due contact once (rescore, stages, lists, workflows), then send the
        due notifications. With many contacts due (a bulk import), those whose lists, stage
        and workflows cannot change are settled set-wise first, unless `bulk` is False."""
        moment = now or datetime.now(UTC)
        automation = self.automation
        automation.activate(now=moment)
        report = automation.process_all(now=moment, bulk=bulk)
        if report.contacts >= MAINTAIN_AFTER and self.store.segments is not None:
            # what processing wrote sits in the tables' tails, which every read loads whole
            # (200,000 contacts: a first `process` left 122,694 property changes there, and
            # `leads` took 1.0 s until the next `score` folded them into segments)
            self.maintain()
        sent = None
        if deliver:
            from leadscore.delivery import deliver_due

            sent = deliver_due(self.store, self.channels, now=moment, limit=10_000)
        return ProcessResult(report, sent)

    def record_feedback(self, contact_id: str, verdict: str, *, by: str = "sales",
                        now: datetime | None = None) -> ProcessReport:
        """Sales's verdict on a lead (true_sql, not_ready, unqualified), acted on at once."""
        from leadscore.storage import ContactInput

        if verdict not in FEEDBACK:
            raise LeadscoreError.single("LS321", f"unknown feedback '{verdict}'",
                                        Location(field="verdict"),
                                        hint=did_you_mean(verdict, FEEDBACK)
                                        or "one of: " + ", ".join(FEEDBACK))
        self.require_contact(contact_id)
        moment = now or datetime.now(UTC)
        automation = self.automation
        automation.update_contacts([ContactInput(contact_id, moment,
                                                 properties={"sales_feedback": verdict})],
                                   source=f"sales {by}", now=moment)
        automation.activate(now=moment)
        return automation.process_all(now=moment)

    def set_stage(self, contact_id: str, stage: str, *, by: str = "a person") -> None:
        """A person's explicit act: clear the contact's stage and set it (any direction)."""
        known = self.model.lifecycle.stages
        if stage not in known:
            raise LeadscoreError.single("LS322", f"unknown lifecycle stage '{stage}'",
                                        Location(field="stage"),
                                        hint=did_you_mean(stage, known) or ", ".join(known))
        self.require_contact(contact_id)
        self.automation.set_stage(contact_id, stage, by=by)

    def stage_history(self, contact_id: str) -> list[StageChange]:
        """Every stage change of the contact, oldest first (LS310 for an unknown contact)."""
        self.require_contact(contact_id)
        return self.store.stage_history(contact_id)

    def test_list(self, name: str, contact_id: str) -> ListTest:
        """Which of the list's filters hold for the contact now, and which do not."""
        self.require_contact(contact_id)
        snapshot = self.context_snapshot(contact_id)
        return self.lists.test(snapshot, name)

    def list_counts(self) -> list[tuple[str, int, str]]:
        """(list, members, description) of every list."""
        counts = self.store.list_member_counts()
        return [(item.name, counts.get(item.name, 0), item.description or "")
                for item in self.lists]

    def list_members(self, name: str, *, limit: int | None = 50,
                     cursor: str | None = None) -> Page:
        """The newest members of a list (and how many it has); `cursor`: the page after the
        one that gave it."""
        from leadscore.project.service_api import (
            bad_cursor,
            decode_page_cursor,
            encode_page_cursor,
        )

        if name not in self.lists:
            raise LeadscoreError.single("LS162", f"no list named '{name}'",
                                        Location(field="list"),
                                        hint=did_you_mean(name, self.lists.lists))
        after = None
        if cursor is not None:
            found = decode_page_cursor(cursor)
            try:
                after = (datetime.fromisoformat(found[0]), str(found[1]))
            except (TypeError, ValueError, IndexError, KeyError):
                raise bad_cursor(cursor) from None
        page = self.store.list_members(name, limit, after)
        if limit and len(page.items) == limit:
            last = page.items[-1]
            page = replace(page, cursor=encode_page_cursor(
                [_utc(last.joined_at).isoformat(), last.contact_id]))
        return page

    def tasks(self, *, owner: str | None = None, limit: int | None = 50,
              cursor: str | None = None) -> Page:
        """Follow-up tasks created by workflows, oldest first (and how many there are)."""
        page = self.store.task_page(owner, limit, _id_cursor(cursor))
        if limit and len(page.items) == limit:
            page = replace(page, cursor=_next_id_cursor(page.items[-1].id))
        return page

    def contact_log(self, contact_id: str) -> list[TimelineEntry]:
        """A contact's timeline: list joins and leaves, stage changes and workflow steps."""
        from leadscore.storage.automation_reads import TimelineEntry

        self.require_contact(contact_id)
        entries = list(self.store.automation_timeline(contact_id))
        for change in self.store.stage_history(contact_id):
            entries.append(TimelineEntry(change.changed_at, "stage",
                                         f"{change.previous} → {change.stage}", change.cause))
        return sorted(entries, key=lambda e: (_utc(e.at), e.what, e.change))

    def outbox(self, *, status: str | None = None, limit: int | None = 50) -> list[OutboxItem]:
        return self.outbox_page(status=status, limit=limit).items

    def outbox_page(self, *, status: str | None = None, limit: int | None = 50,
                    cursor: str | None = None) -> Page:
        """Outbox rows oldest first, a page at a time (`total`: the rows of this page)."""
        from leadscore.delivery import outbox_items
        from leadscore.delivery.outbox import STATUSES
        from leadscore.storage.automation_reads import Page

        if status is not None and status not in STATUSES:
            raise LeadscoreError.single("LS325", f"unknown outbox status '{status}'",
                                        Location(field="status"), text=status,
                                        hint=did_you_mean(status, STATUSES)
                                        or "one of: " + ", ".join(STATUSES))
        items = outbox_items(self.store, status=status, limit=limit, after=_id_cursor(cursor))
        more = _next_id_cursor(items[-1].id) if limit and len(items) == limit else None
        return Page(items, len(items), more)

    def retry_dead_letters(self, ids: list[int] | None = None) -> int:
        """Move dead letters (all, or these) back to pending; returns how many."""
        from leadscore.delivery import retry

        return retry(self.store, ids or None, now=datetime.now(UTC))


def _id_cursor(cursor: str | None) -> int | None:
    from leadscore.project.service_api import bad_cursor, decode_page_cursor

    if cursor is None:
        return None
    found = decode_page_cursor(cursor)
    if not isinstance(found, int) or isinstance(found, bool) or not 0 <= found < 2**63:
        raise bad_cursor(cursor)
    return int(found)


def _next_id_cursor(last_id: int) -> str:
    from leadscore.project.service_api import encode_page_cursor

    return encode_page_cursor(int(last_id))


def _utc(moment: Any) -> datetime:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(moment)).replace(tzinfo=UTC)
