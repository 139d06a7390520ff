"""Workflows: when a contact meets a trigger, run steps for it — set or clear a property or the
lifecycle stage, notify by webhook or e-mail, create a follow-up task for the owner, delay,
branch, hand off to a nurture sequence, or take points away after sales feedback.

Definitions live in a file beside the model (`definition.py`); `runner.py` runs an
enrollment's steps through an `Effects` object that the automation package implements inside
one transaction, so a step and its effect are kept together or not at all.
"""

from leadscore.workflows.definition import (
    Step,
    Trigger,
    Workflow,
    load_workflows,
    parse_workflows,
    render_template,
)
from leadscore.workflows.runner import Effects, RunResult, run_steps

__all__ = ["Effects", "RunResult", "Step", "Trigger", "Workflow", "load_workflows",
           "parse_workflows", "render_template", "run_steps"]
