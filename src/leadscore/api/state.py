"""The project an application serves, and the one lock its calls take: a `Project` holds one
store connection set (and the embedded store one DuckDB connection), so requests — each on a
thread of the server's pool — call it one at a time. The worker runs on its own `Project`.
It also keeps the per-key rate limit's buckets (`ratelimit`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from fastapi import Request

from leadscore.api.ratelimit import RateLimiter

if TYPE_CHECKING:
    from leadscore.project import Project

T = TypeVar("T")


class Served:
    def __init__(self, project: Project | None) -> None:
        self.project = project
        self.lock = threading.Lock()
        limit = project.config.rate_limit if project is not None else None
        self.limiter = RateLimiter(limit) if limit is not None else None


def call(request: Request, work: Callable[[Project], T]) -> T:
    """Run `work(project)` under the project's lock (a sync route runs on a pool thread)."""
    served: Served = request.app.state.served
    assert served.project is not None, "an app made without a project serves no requests"
    with served.lock:
        return work(served.project)


__all__ = ["Served", "call"]
