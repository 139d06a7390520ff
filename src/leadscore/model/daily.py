"""`max_per_day` on a per-event rule: at most N points from the events of one UTC day. What
it means is in `evaluation.scoring` and `sql.rules` (each day's points, after decay, are added
as whole millionths and capped at N, then the days are added); here, how it is written. Light
to import: the evaluator reads `day_of`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadscore.model.compile import CriteriaCompiler
    from leadscore.model.source import Path
    from leadscore.model.spec import RuleSpec

DAY_US = 86_400_000_000


def check_daily_limit(compiler: CriteriaCompiler, spec: RuleSpec, path: Path) -> None:
    from leadscore.model.limits import MAX_POINTS

    limit = spec.max_per_day
    assert limit is not None
    if not spec.per_event:
        compiler.error("LS192", "'max_per_day' limits the points of a per-event rule",
                       path + ("max_per_day",), key=True,
                       hint="add per_event: true, or cap the rule with 'max'")
    elif not (math.isfinite(limit) and 0 < limit <= MAX_POINTS):
        compiler.error("LS193", f"'max_per_day' is a number of points above 0, at most "
                       f"{MAX_POINTS:,.0f}", path + ("max_per_day",),
                       hint="e.g. max_per_day: 10")


def day_of(micros: int) -> int:
    """The UTC day of a moment in microseconds since the epoch (floor division)."""
    return micros // DAY_US
