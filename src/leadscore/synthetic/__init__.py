"""Synthetic data: a seeded generator of realistic B2B contacts, events and outcomes.

`generate(contacts, events, seed=…, now=…)` returns `SyntheticData` (compact numpy columns);
`write_contacts_csv`, `write_events_jsonl`, `write_feedback_csv` (sales's verdicts, each at
the moment it was given) and `write_outcomes_csv` write the files that `leadscore import` and
backtests read; `iter_snapshots(data, as_of)` yields `ContactSnapshot`s
straight from memory, for benchmarks and tests. Each contact has a latent fit and buying
intent; outcomes (opportunity, won, lost) are drawn from them, so a sensible scoring model
predicts them well but not perfectly.
"""

from leadscore.synthetic.dataset import (
    PROPERTY_COLUMNS,
    SyntheticData,
    contact_history,
    event_id,
    iter_snapshots,
)
from leadscore.synthetic.files import (
    CONTACT_COLUMNS,
    FEEDBACK_FILE_COLUMNS,
    OUTCOME_COLUMNS,
    write_companies_csv,
    write_contacts_csv,
    write_events_jsonl,
    write_feedback_csv,
    write_outcomes_csv,
)
from leadscore.synthetic.generator import generate

__all__ = [
    "CONTACT_COLUMNS", "FEEDBACK_FILE_COLUMNS", "OUTCOME_COLUMNS", "PROPERTY_COLUMNS",
    "SyntheticData", "contact_history", "event_id", "generate", "iter_snapshots",
    "write_companies_csv", "write_contacts_csv", "write_events_jsonl", "write_feedback_csv",
    "write_outcomes_csv",
]
