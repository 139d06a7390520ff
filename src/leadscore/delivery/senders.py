"""Sending one outbox row: a signed webhook POST (httpx) or a plain-text e-mail (smtplib).

A sender never raises for a failed delivery; it returns an `Outcome` saying whether the row
was delivered, should be tried again, or failed for good (a permanent failure: retrying the
same request cannot succeed, e.g. HTTP 404 or SMTP 550).
"""

from __future__ import annotations

import functools
import hashlib
import json
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import httpx

from leadscore import __version__
from leadscore.delivery.channels import EmailChannel, WebhookChannel, recipients_of
from leadscore.delivery.outbox import OutboxItem
from leadscore.delivery.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)

USER_AGENT = f"leadscore/{__version__}"
EMAIL_KEY_HEADER = "X-Leadscore-Idempotency-Key"
RETRYABLE_STATUS = frozenset({408, 429})
_SHOWN_BODY = 300  # characters of a failed response kept in last_error


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt: "delivered", "retry" or "permanent" (give up now)."""

    result: str
    error: str | None = None
    retry_after: float | None = None  # seconds the receiver asked us to wait (429, 503)

    @classmethod
    def delivered(cls, note: str | None = None) -> Outcome:
        return cls("delivered", note)

    @classmethod
    def retry(cls, error: str, retry_after: float | None = None) -> Outcome:
        return cls("retry", error, retry_after)

    @classmethod
    def permanent(cls, error: str) -> Outcome:
        return cls("permanent", error)


def encode_body(payload: Any) -> bytes:
    """The exact bytes POSTed for a payload: compact JSON, keys sorted, UTF-8."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def webhook_headers(secret: str, key: str, body: bytes, *,
                    timestamp: int | None = None) -> dict[str, str]:
    """The headers of a webhook request: content type, timestamp, signature, key, agent."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign(secret, stamp, body),
        IDEMPOTENCY_HEADER: key,
        "User-Agent": USER_AGENT,
    }


class WebhookSender:
    """POSTs rows to webhook channels over one pooled HTTP client (opened on first use)."""

    def __init__(self) -> None:
        self._client: httpx.Client | None = None

    def send(self, item: OutboxItem, channel: WebhookChannel, secret: str) -> Outcome:
        body = encode_body(item.payload)
        headers = webhook_headers(secret, item.key, body)
        if self._client is None:
            self._client = httpx.Client(follow_redirects=False, trust_env=False,
                                        verify=_tls_context())
        try:
            response = self._client.post(channel.url, content=body, headers=headers,
                                         timeout=channel.timeout)
        except httpx.TimeoutException:
            return Outcome.retry(f"timed out after {channel.timeout:g}s posting to "
                                 f"{channel.url}")
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            return Outcome.permanent(f"cannot post to {channel.url}: {error}")
        except httpx.HTTPError as error:
            return Outcome.retry(f"{type(error).__name__} posting to {channel.url}: {error}")
        return classify_response(response)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context (httpx's default: certifi's CA bundle) per process: loading
    the certificates takes ~20 ms, too long to pay on every dispatcher run."""
    return httpx.create_ssl_context()


def classify_response(response: httpx.Response) -> Outcome:
    """2xx delivered; 408, 429 and 5xx retry; any other status (3xx, 4xx) is permanent."""
    status = response.status_code
    if 200 <= status < 300:
        return Outcome.delivered()
    shown = f"HTTP {status} {response.reason_phrase}".rstrip()
    text = _response_text(response)
    if text:
        shown += f": {text}"
    if status in RETRYABLE_STATUS or status >= 500:
        return Outcome.retry(shown, _retry_after(response.headers.get("Retry-After")))
    if 300 <= status < 400:
        where = response.headers.get("Location")
        return Outcome.permanent(shown + (f" (redirected to {where}; update the channel's url)"
                                          if where else ""))
    if status < 200:
        return Outcome.retry(shown)
    return Outcome.permanent(shown)


class EmailSender:
    """Hands rows to SMTP servers, one connection per message."""

    def send(self, item: OutboxItem, channel: EmailChannel, password: str | None) -> Outcome:
        try:
            message, recipients = compose_email(item, channel)
        except ValueError as error:
            return Outcome.permanent(str(error))
        try:
            refused = _transmit(channel, password, message, recipients)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            text = "; ".join(f"{address}: {code} {_decode(reply)}"
                             for address, (code, reply) in error.recipients.items())
            if codes and all(code >= 500 for code in codes):
                return Outcome.permanent(f"every recipient refused: {text}")
            return Outcome.retry(f"recipients refused: {text}")
        except smtplib.SMTPResponseException as error:
            shown = f"SMTP {error.smtp_code} {_decode(error.smtp_error)}"
            if 500 <= error.smtp_code < 600:
                return Outcome.permanent(f"{type(error).__name__}: {shown}")
            return Outcome.retry(f"{type(error).__name__}: {shown}")
        except (smtplib.SMTPException, OSError) as error:
            return Outcome.retry(f"{type(error).__name__} talking to "
                                 f"{channel.host}:{channel.port}: {error}")
        if refused:
            text = "; ".join(f"{address}: {code} {_decode(reply)}"
                             for address, (code, reply) in refused.items())
            return Outcome.delivered(f"some recipients refused: {text}")
        return Outcome.delivered()

    def close(self) -> None:
        return None


def compose_email(item: OutboxItem, channel: EmailChannel) -> tuple[EmailMessage, list[str]]:
    """The message of an e-mail row and its recipients; ValueError when it cannot be made."""
    payload = item.payload
    if not isinstance(payload, Mapping):
        raise ValueError("the e-mail payload is not an object with `subject` and `text`")
    subject, text = payload.get("subject"), payload.get("text")
    if not isinstance(subject, str) or not isinstance(text, str):
        raise ValueError("the e-mail payload needs `subject` and `text` (strings)")
    recipients = list(recipients_of(payload.get("to")) or channel.to)
    if not recipients:
        raise ValueError(f"no recipient: the payload has no `to` and "
                         f"[delivery.email.{channel.name}] has no default `to`")
    message = EmailMessage()
    try:
        message["From"] = channel.sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = subject
        message["Date"] = formatdate(item.created_at.timestamp(), usegmt=True)
        message["Message-ID"] = message_id(item.key, channel.sender)
        message[EMAIL_KEY_HEADER] = item.key
        message.set_content(text)
    except (ValueError, TypeError) as error:
        raise ValueError(f"cannot build the e-mail: {error}") from None
    return message, recipients


def message_id(key: str, sender: str) -> str:
    """A Message-ID that depends only on the idempotency key (and the sender's domain), so a
    message sent twice after a crash is recognisably the same message."""
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "leadscore.invalid"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<leadscore.{digest}@{domain}>"


def _transmit(channel: EmailChannel, password: str | None, message: EmailMessage,
              recipients: list[str]) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout) as smtp:
        if channel.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if channel.username is not None:
            smtp.login(channel.username, password or "")
        sender = _bare(channel.sender)
        return smtp.send_message(message, from_addr=sender, to_addrs=recipients)


def _bare(address: str) -> str:
    if "<" in address and address.rstrip().endswith(">"):
        return address[address.rindex("<") + 1:].rstrip(" >")
    return address.strip()


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP date: the usual backoff is good enough
    return seconds if seconds >= 0 else None


def _response_text(response: httpx.Response) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.HTTPError):
        return ""
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN_BODY else text[:_SHOWN_BODY] + "…"


def _decode(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
