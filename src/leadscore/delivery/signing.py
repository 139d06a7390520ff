"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>", sent as `v1=<hex>`.

A receiver recomputes the signature over the exact bytes it received with the shared secret,
compares in constant time and rejects timestamps too far from its clock (replays). See
docs/delivery.md for a receiver's snippet.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime

SCHEME = "v1"
TIMESTAMP_HEADER = "X-Leadscore-Timestamp"
SIGNATURE_HEADER = "X-Leadscore-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(secret: str | bytes, timestamp: int | str, body: bytes | str) -> str:
    """`v1=<hex>`: HMAC-SHA256 with `secret` over f"{timestamp}.{body}"."""
    message = str(timestamp).encode("ascii") + b"." + _as_bytes(body)
    digest = hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def verify(secret: str | bytes, timestamp: int | str | None, body: bytes | str,
           signature: str | None, *, tolerance_seconds: float = 300,
           now: datetime | float | None = None) -> bool:
    """Whether `signature` (one or more comma-separated `v1=<hex>`, as during a secret
    rotation) signs `body` at `timestamp` with `secret`, and `timestamp` is within
    `tolerance_seconds` of `now` (default: the clock). Never raises on malformed input."""
    if timestamp is None or signature is None:
        return False
    text = str(timestamp).strip()
    if not text.isascii() or not text.lstrip("-").isdigit():
        return False
    stamp = int(text)
    if isinstance(now, datetime):
        current = now.timestamp()
    elif now is None:
        current = time.time()
    else:
        current = float(now)
    if abs(current - stamp) > tolerance_seconds:
        return False
    try:
        expected = sign(secret, text, body).encode("ascii")
    except (UnicodeEncodeError, ValueError):
        return False
    matched = False
    for candidate in signature.split(","):
        try:
            given = candidate.strip().encode("ascii")
        except UnicodeEncodeError:
            continue
        # compare every candidate, so the time taken does not tell which one matched
        matched = hmac.compare_digest(given, expected) or matched
    return matched


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)
