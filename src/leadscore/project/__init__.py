"""A leadscore project: config, `init`, and the Python library that the CLI is a shell over.

Names are imported on first use, so that `import leadscore.project` (and the command line,
which imports what a command needs when it runs) stays fast."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadscore.lazy import lazy_names

_WHERE = {
    "Lead": "leadscore.storage.leads", "Project": "leadscore.project.project",
    "explain_contact": "leadscore.project.project", "list_leads": "leadscore.project.project",
    "open_store": "leadscore.project.project", "store_stats": "leadscore.project.project",
    "ScoreRun": "leadscore.scoring", "score_store": "leadscore.scoring",
    "parse_moment": "leadscore.project.moments", "init_project": "leadscore.project.scaffold",
    "load_model": "leadscore.model", "score_contacts": "leadscore.evaluation",
    "damage_error": "leadscore.storage.checks",
}

__all__ = [
    "Lead", "Project", "ScoreRun", "damage_error", "explain_contact", "init_project", "list_leads",
    "load_model", "open_store", "parse_moment", "score_contacts", "score_store", "store_stats",
]

if TYPE_CHECKING:
    from leadscore.evaluation import score_contacts
    from leadscore.model import load_model
    from leadscore.project.moments import parse_moment
    from leadscore.project.project import (
        Project,
        explain_contact,
        list_leads,
        open_store,
        store_stats,
    )
    from leadscore.project.scaffold import init_project
    from leadscore.scoring import ScoreRun, score_store
    from leadscore.storage.checks import damage_error
    from leadscore.storage.leads import Lead


__getattr__ = lazy_names(__name__, _WHERE)
