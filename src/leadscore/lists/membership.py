from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leadscore.evaluation.matchers import Reason


@dataclass
class ListTest:
    """`leadscore list test LIST CONTACT`: which filters hold and which do not."""

    list_name: str
    contact_id: str
    groups: list[list[Reason]]
    exclusions: list[Reason]

    @property
    def excluded(self) -> bool:
        return any(r.matched for r in self.exclusions)

    @property
    def member(self) -> bool:
        return not self.excluded and any(all(r.matched for r in g) for g in self.groups)

    def render_text(self) -> str:
        verdict = "IS a member" if self.member else "is NOT a member"
        lines = [f"Contact {self.contact_id} {verdict} of list {self.list_name}"]
        for i, group in enumerate(self.groups, 1):
            holds = all(r.matched for r in group)
            lines.append(f"  group {i} ({'holds' if holds else 'does not hold'}; every filter "
                         "must hold):")
            lines.extend(f"    {'✓' if r.matched else '✗'} {r.text}" for r in group)
        if self.exclusions:
            lines.append(f"  exclusions ({'excluded' if self.excluded else 'none applies'}):")
            lines.extend(f"    {'✓' if r.matched else '✗'} {r.text}" for r in self.exclusions)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"list": self.list_name, "contact_id": self.contact_id, "member": self.member,
                "excluded": self.excluded,
                "groups": [[r.to_dict() for r in g] for g in self.groups],
                "exclusions": [r.to_dict() for r in self.exclusions]}
