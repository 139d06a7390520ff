"""A draft model tried on the stored contacts: `Project.dry_run_draft(text)` reads the model
from YAML text (the model file's rules and limits), scores every stored contact under it
without writing anything (`Project.dry_run`), and compares the answers with what is stored
now — the live model's current labels and each contact's lifecycle stage.

A contact "changes label" when a score of the draft would label it differently from the live
model's stored label of the score of the same name (a score the live model lacks, or a contact
never scored, counts as a change from none). It "changes stage" when scoring under the draft
would move its stored stage (forward only, as a scoring run moves stages).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from leadscore.diagnostics import LeadscoreError, Location

if TYPE_CHECKING:
    from leadscore.model import Model
    from leadscore.scoring import ScoreRun

DRAFT_FILE = "model"  # how a draft's diagnostics name where the mistake is
NO_LABEL = "—"  # a contact whose score has no label, in the label counts


@dataclass(frozen=True)
class Change:
    """One kind of change — a score's label from `before` to `after`, or the stage — with how
    many contacts it affects and the first of them (by id)."""

    kind: str  # "label" or "stage"
    score: str | None  # the score, for a label change
    before: str | None
    after: str | None
    contacts: int
    contact_ids: list[str]


@dataclass(frozen=True)
class DraftReport:
    model: str
    live_model: str
    as_of: datetime
    contacts: int
    seconds: float
    labels: dict[str, dict[str, int]]  # score → label → contacts
    stages: dict[str, int]  # stage under the draft → contacts (none: "—")
    label_changes: int  # contacts with at least one label changed
    stage_changes: int  # contacts whose stage would move
    changes: list[Change] = field(default_factory=list)


def parse_draft(text: str) -> Model:
    """The model in `text`, checked as a model file is (every mistake raised at once)."""
    from leadscore.model.compile import parse_model
    from leadscore.model.limits import MAX_FILE_BYTES

    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise LeadscoreError.single(
            "LS107", f"the draft model is larger than {MAX_FILE_BYTES:,} bytes",
            Location(field="model"), hint="leadscore reads models up to 1 MB (docs/limits.md)")
    return parse_model(text.replace("\r\n", "\n").replace("\r", "\n"), DRAFT_FILE)


def compare(run: ScoreRun, draft: Model, live_labels: dict[tuple[str, str], str | None],
            stages: dict[str, str | None], live_model: str, limit: int) -> DraftReport:
    """The draft's run beside the stored labels ((contact, score) → label) and stages."""
    from leadscore.lifecycle.stage import forward_move

    moved: dict[tuple[str, str | None, str | None, str | None], list[str]] = \
        defaultdict(list)
    labelled: set[str] = set()
    staged: set[str] = set()
    stage_counts: dict[str, int] = defaultdict(int)
    for result in run.results:
        cid = result.contact_id
        for name in draft.scores:
            before, after = live_labels.get((cid, name)), result.labels.get(name)
            if before != after:
                moved[("label", name, before, after)].append(cid)
                labelled.add(cid)
        current = stages.get(cid)
        target = forward_move(current, getattr(result, "stage_target", None),
                              draft.lifecycle.order)
        stage_counts[target or current or NO_LABEL] += 1
        if target is not None:
            moved[("stage", None, current, target)].append(cid)
            staged.add(cid)
    changes = [Change(kind, score, before, after, len(ids), sorted(ids)[:limit])
               for (kind, score, before, after), ids in moved.items()]
    changes.sort(key=lambda c: (-c.contacts, c.kind, c.score or "", c.before or "",
                                c.after or ""))
    labels = {name: dict(sorted(counts.items())) for name, counts in run.labels.items()}
    return DraftReport(draft.name, live_model, run.as_of, run.contacts, run.seconds, labels,
                       dict(sorted(stage_counts.items())), len(labelled), len(staged),
                       changes)


def live_labels(stored: list[Any], scores: set[str]) -> dict[tuple[str, str], str | None]:
    """(contact, score) → the stored label, for the scores the draft has."""
    return {(s.contact_id, s.score): s.label for s in stored if s.score in scores}


__all__ = ["Change", "DraftReport", "compare", "live_labels", "parse_draft"]
