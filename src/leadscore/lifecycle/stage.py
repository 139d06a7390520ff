from __future__ import annotations

STAGES: tuple[str, ...] = ("subscriber", "lead", "mql", "sql", "opportunity", "customer",
                           "evangelist")
OTHER = "other"

_ALIASES = {
    "marketingqualifiedlead": "mql",
    "marketing qualified lead": "mql",
    "salesqualifiedlead": "sql",
    "sales qualified lead": "sql",
    "marketing_qualified_lead": "mql",
    "sales_qualified_lead": "sql",
}


def normalize_stage(value: str | None) -> str | None:
    """'Marketing Qualified Lead', 'marketingqualifiedlead' (HubSpot) and 'MQL' → 'mql'."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    return _ALIASES.get(text, text)


def stage_rank(stage: str | None, order: tuple[str, ...] = STAGES) -> int | None:
    """Position in the order (a model may configure its own); None for no stage, 'other' or
    a stage not in the order."""
    if stage is None:
        return None
    try:
        return order.index(stage)
    except ValueError:
        return None


def forward_move(current: str | None, target: str | None,
                 order: tuple[str, ...] = STAGES) -> str | None:
    """The stage an automatic assignment sets, or None when it must leave the contact alone:
    never backward, never sideways, never out of 'other'."""
    if target is None or target == current:
        return None
    if current == OTHER:
        return None
    target_rank = stage_rank(target, order)
    if target_rank is None:
        return None
    current_rank = stage_rank(current, order)
    if current_rank is not None and target_rank <= current_rank:
        return None
    return target
