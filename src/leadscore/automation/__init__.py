"""Acting on scores as data arrives and as time passes: the processor that runs lifecycle,
lists and workflows for each due contact in one transaction, and the worker loop that also
delivers the outbox."""

from leadscore.automation.processor import Automation, ProcessReport
from leadscore.automation.schedule import mark_changed_due

__all__ = ["Automation", "ProcessReport", "mark_changed_due"]
