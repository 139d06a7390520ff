"""A leadscore project: config, `init`, and the Python library that the CLI is a shell over."""

from leadscore.evaluation import score_contacts
from leadscore.model import load_model
from leadscore.project.project import (
    Lead,
    Project,
    ScoreRun,
    explain_contact,
    list_leads,
    open_store,
    parse_moment,
    score_store,
    store_stats,
)
from leadscore.project.scaffold import init_project

__all__ = [
    "Lead", "Project", "ScoreRun", "explain_contact", "init_project", "list_leads",
    "load_model", "open_store", "parse_moment", "score_contacts", "score_store", "store_stats",
]
