"""Who is asking: the signed session cookie, the CSRF token of every form, and the limit on
login attempts.

- The session is a cookie signed with the store's web secret (`Project.web_secret`, by
  `itsdangerous`): the user's id and the CSRF token of the session, nothing else. HttpOnly,
  SameSite=Lax, Secure when the page came over https (directly or as a proxy says with
  X-Forwarded-Proto), and good for `SESSION_HOURS`. A user disabled or deleted is refused on
  the next request: the user is read from the store on every one.
- Every form carries the session's CSRF token in a hidden field; a POST without the right one
  is refused (403, LS647) before anything is done. A visitor who is not logged in gets a
  session without a user, so the login form has a token too.
- Failed logins are counted per e-mail and per client address in a sliding window
  (`LoginLimiter`): past the limit, a login is refused (429, LS646) without checking the
  password until the window has passed.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "leadscore_session"
SESSION_HOURS = 12
FAILURES_PER_EMAIL = 5  # failed logins of one e-mail within the window …
FAILURES_PER_CLIENT = 20  # … or from one client address
WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class Session:
    user_id: int | None
    csrf: str


class Sessions:
    """Reads and writes the session cookie with the serving store's secret."""

    def __init__(self, secret: str) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="leadscore-web-session")

    def read(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data: Any = self._signer.loads(cookie, max_age=SESSION_HOURS * 3600)
        except BadSignature:  # a forged, altered or expired cookie: no session
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        user = data.get("u")
        return Session(user if isinstance(user, int) else None, data["c"])

    def write(self, session: Session) -> str:
        return self._signer.dumps({"u": session.user_id, "c": session.csrf})


def new_session(user_id: int | None = None) -> Session:
    return Session(user_id, secrets.token_urlsafe(24))


def same_token(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


class LoginLimiter:
    """Failed logins per e-mail and per client within the last `WINDOW_SECONDS`."""

    def __init__(self, per_email: int = FAILURES_PER_EMAIL,
                 per_client: int = FAILURES_PER_CLIENT, window: float = WINDOW_SECONDS,
                 clock: Any = time.monotonic) -> None:
        self.per_email, self.per_client, self.window = per_email, per_client, window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, email: str, client: str) -> int:
        """Seconds until a login of this e-mail from this client may be tried (0: now)."""
        now = self._clock()
        with self._lock:
            waits = [self._wait(f"e:{email}", self.per_email, now),
                     self._wait(f"c:{client}", self.per_client, now)]
        return max(waits)

    def failed(self, email: str, client: str) -> None:
        now = self._clock()
        with self._lock:
            for key in (f"e:{email}", f"c:{client}"):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(f"e:{email}", None)

    def _wait(self, key: str, limit: int, now: float) -> int:
        found = self._failures.get(key)
        if not found:
            return 0
        while found and found[0] <= now - self.window:
            found.popleft()
        if not found:
            del self._failures[key]
            return 0
        if len(found) < limit:
            return 0
        return max(1, int(found[-limit] + self.window - now + 0.999))


__all__ = ["COOKIE", "LoginLimiter", "Session", "Sessions", "new_session", "same_token"]
