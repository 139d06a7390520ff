"""Acting on scores as data arrives and as time passes. `Automation` orchestrates: for each
due contact, in one transaction per batch, it scores (`evaluation`), moves the stage
(`lifecycle`), diffs list memberships (`lists.changes`), decides workflow triggers
(`workflows.triggers`) and runs steps (`workflows.runner`, acting through `effects`), queues
what leaves (`delivery`), and writes it all with the schedule (`storage.automation_writes`,
`storage.schedule`). `bulk` settles many due contacts set-wise; `worker` loops."""

from leadscore.automation.processor import Automation, ProcessReport

__all__ = ["Automation", "ProcessReport"]
