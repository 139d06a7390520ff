"""The per-key rate limit (`[api] rate_limit`, default 600/min): a token bucket per API key,
in this server process. A bucket holds up to `requests` tokens and refills at `requests` per
`seconds`; each request of the key takes one. With none left the answer is 429 (LS606) with
`Retry-After`, the whole seconds until a token is back. Only authenticated requests count (an
unknown key is a 401 before); with `serve --workers N` each process keeps its own buckets."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from leadscore.diagnostics import Diagnostic, LeadscoreError, Location
from leadscore.project.config import RateLimit


class RateLimited(LeadscoreError):
    """LS606: this key has used its requests; `retry_after` whole seconds until the next."""

    def __init__(self, limit: RateLimit, retry_after: int) -> None:
        super().__init__(Diagnostic(
            "LS606", f"this API key has made more than {limit.requests:,} requests in "
                     f"{limit.seconds:g} s", Location(field="Authorization"),
            hint=f"wait {retry_after} s (Retry-After) and send it again; the limit is "
                 "[api] rate_limit in leadscore.toml"))
        self.retry_after = retry_after


class RateLimiter:
    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.rate = limit.requests / limit.seconds  # tokens per second
        self.clock = clock
        self.buckets: dict[int, tuple[float, float]] = {}  # key id → (tokens, at)
        self.lock = threading.Lock()

    def take(self, key_id: int) -> None:
        """Take a token of the key's bucket, or raise RateLimited."""
        with self.lock:
            now = self.clock()
            tokens, at = self.buckets.get(key_id, (float(self.limit.requests), now))
            tokens = min(float(self.limit.requests), tokens + (now - at) * self.rate)
            if tokens < 1.0:
                self.buckets[key_id] = (tokens, now)
                raise RateLimited(self.limit, max(1, math.ceil((1.0 - tokens) / self.rate)))
            self.buckets[key_id] = (tokens - 1.0, now)


__all__ = ["RateLimited", "RateLimiter"]
