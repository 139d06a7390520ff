"""List-membership diffing: what a batch of contacts' new memberships change.

A contact's memberships before and after processing give its joins and leaves, each recorded
with its moment and cause. Over one batch the changes net out per (list, contact): a contact
that leaves and rejoins within the batch comes to no membership change (both moves are still
recorded), so the membership rows written at the end are exactly the difference between the
stored memberships and the final ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JOIN_CAUSE = "now meets the list's filters"
LEAVE_CAUSE = "no longer meets the list's filters"


@dataclass
class ListChanges:
    """The membership changes of one batch, ready to write."""

    # (list, contact) → (a member before the batch, joined at — or None: not a member now)
    memberships: dict[tuple[str, str], tuple[bool, datetime | None]] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)  # every join and leave, in order

    def record(self, contact_id: str, before: set[str], after: set[str], at: datetime
               ) -> tuple[list[str], list[str]]:
        """A contact's memberships went from `before` to `after` at `at`; returns (joined,
        left), each sorted by list name."""
        joined, left = sorted(after - before), sorted(before - after)
        for name in joined:
            was = self.memberships.get((name, contact_id), (False, None))[0]
            self.memberships[(name, contact_id)] = (was, at)
            self.log.append({"list": name, "contact_id": contact_id, "change": "join",
                             "at": at, "cause": JOIN_CAUSE})
        for name in left:
            was = self.memberships.get((name, contact_id), (True, None))[0]
            self.memberships[(name, contact_id)] = (was, None)
            self.log.append({"list": name, "contact_id": contact_id, "change": "leave",
                             "at": at, "cause": LEAVE_CAUSE})
        return joined, left

    def joins(self) -> list[dict[str, Any]]:
        """Membership rows to add: members now that were not before the batch."""
        return [{"list": name, "contact_id": cid, "joined_at": at}
                for (name, cid), (before, at) in self.memberships.items()
                if at is not None and not before]

    def leaves(self) -> list[tuple[str, str]]:
        """(list, contact) memberships to remove: members before the batch that are not now."""
        return [(name, cid) for (name, cid), (before, at) in self.memberships.items()
                if at is None and before]


__all__ = ["JOIN_CAUSE", "LEAVE_CAUSE", "ListChanges"]
