"""Where effects go: the `[delivery]` part of leadscore.toml, as typed channels.

```toml
[delivery]
max_attempts = 8          # then the row is a dead letter
backoff_base = "2s"       # wait before the 2nd attempt; doubles each time (with jitter)
backoff_max = "1h"        # never wait longer than this between attempts
lease = "60s"             # how long a claimed row is held by one dispatcher

[delivery.webhooks.sales]
url = "https://hooks.example.com/leadscore"
secret_env = "SALES_HOOK_SECRET"   # or: secret = "…"
timeout = 5                        # seconds

[delivery.email.owners]
host = "smtp.example.com"
port = 587
from = "leadscore@example.com"
to = "sales@example.com"           # default recipient (a payload's `to` wins)
username = "leadscore"
password_env = "SMTP_PASSWORD"
starttls = true
```

Mistakes are diagnostics naming the key path. Secrets named by an environment variable are
read when a channel is used, so a project loads without every secret being set; an unset
variable is LS506 at that moment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from leadscore.diagnostics import DiagnosticList, LeadscoreError, Location, did_you_mean

KINDS = ("webhook", "email")
_SECTIONS = {"webhooks": "webhook", "email": "email"}  # [delivery.<section>.NAME] → kind
_POLICY_KEYS = ("max_attempts", "backoff_base", "backoff_max", "lease")
_WEBHOOK_KEYS = ("url", "secret", "secret_env", "timeout")
_EMAIL_KEYS = ("host", "port", "from", "to", "username", "password_env", "starttls", "timeout")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


def parse_seconds(value: Any) -> timedelta:
    """'30s', '5m', '2h', '1d', '250ms' or a number of seconds → timedelta.

    Raises ValueError with a readable message for anything else (booleans, negatives)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30s, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"'{value}' is not a duration (write a number and a unit: "
                             f"250ms, 30s, 5m, 2h, 1d)")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a row is tried before it becomes a dead letter."""

    max_attempts: int = 8
    backoff_base: timedelta = timedelta(seconds=2)
    backoff_max: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(seconds=60)

    def backoff(self, attempts: int, jitter: float = 1.0) -> timedelta:
        """The wait after the `attempts`-th failed attempt: min(base·2^(attempts-1), max),
        times `jitter` (the dispatcher draws it from 0.5–1.0)."""
        exponent = max(attempts - 1, 0)
        base = self.backoff_base.total_seconds()
        ceiling = self.backoff_max.total_seconds()
        wait = ceiling if exponent >= 64 else min(base * (2 ** exponent), ceiling)
        return timedelta(seconds=wait * jitter)


@dataclass(frozen=True)
class WebhookChannel:
    """A URL that receives signed JSON POSTs."""

    name: str
    url: str
    secret: str | None = None
    secret_env: str | None = None
    timeout: float = 5.0
    source: str = "leadscore.toml"
    kind: str = field(default="webhook", init=False)

    def resolve_secret(self) -> str:
        """The signing secret; LS506 when `secret_env` names an unset variable."""
        if self.secret is not None:
            return self.secret
        return _read_env(self.secret_env or "", self.source,
                         f"delivery.webhooks.{self.name}.secret_env")


@dataclass(frozen=True)
class EmailChannel:
    """An SMTP server that plain-text messages are handed to."""

    name: str
    host: str
    sender: str
    port: int = 25
    to: tuple[str, ...] = ()
    username: str | None = None
    password_env: str | None = None
    starttls: bool = False
    timeout: float = 10.0
    source: str = "leadscore.toml"
    kind: str = field(default="email", init=False)

    def resolve_password(self) -> str | None:
        """The SMTP password (None without `password_env`); LS506 when it is unset."""
        if self.password_env is None:
            return None
        return _read_env(self.password_env, self.source,
                         f"delivery.email.{self.name}.password_env")


Channel = WebhookChannel | EmailChannel


@dataclass(frozen=True)
class Channels:
    """Every configured channel, by kind and name, and the retry policy."""

    webhooks: Mapping[str, WebhookChannel] = field(default_factory=dict)
    email: Mapping[str, EmailChannel] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    source: str = "leadscore.toml"

    def find(self, kind: str, name: str, location: Location | None = None) -> Channel:
        """The channel `name` of `kind`; LS507 (with "did you mean") when there is none."""
        table: Mapping[str, Channel]
        if kind == "webhook":
            table = self.webhooks
        elif kind == "email":
            table = self.email
        else:
            raise ValueError(f"unknown channel kind {kind!r} (expected one of {KINDS})")
        found = table.get(name)
        if found is not None:
            return found
        section = "webhooks" if kind == "webhook" else "email"
        hint = did_you_mean(name, table) or (
            f"add [delivery.{section}.{name}] to {self.source}" if table
            else f"no {kind} channel is configured: add [delivery.{section}.{name}] "
                 f"to {self.source}")
        raise LeadscoreError.single(
            "LS507", f"no {kind} channel named '{name}'",
            location or Location(file=self.source, field=f"delivery.{section}"),
            text=name, hint=hint,
        )

    def check(self, kind: str, name: str, location: Location | None = None) -> None:
        """Raise LS507 unless a channel `name` of `kind` is configured (for workflow checks)."""
        self.find(kind, name, location)


def load_channels(data: Mapping[str, Any], *, source: str) -> Channels:
    """The channels of a parsed leadscore.toml document (its `[delivery]` table; none when
    absent). Every mistake is collected and raised together as one LeadscoreError."""
    problems = DiagnosticList()
    reader = _Reader(problems, source)
    delivery = data.get("delivery", {})
    if not isinstance(delivery, Mapping):
        reader.wrong("delivery", delivery, "a table ([delivery])")
        problems.raise_if_errors()
    for key in delivery:
        if key not in _POLICY_KEYS and key not in _SECTIONS:
            hint = did_you_mean(key, (*_POLICY_KEYS, *_SECTIONS))
            if hint is None and isinstance(delivery[key], Mapping):
                hint = "channel kinds are [delivery.webhooks.NAME] and [delivery.email.NAME]"
            problems.error("LS501", f"unknown key '{key}' in [delivery]",
                           reader.at(f"delivery.{key}"), text=key, hint=hint)
    retry = _read_policy(reader, delivery)
    webhooks: dict[str, WebhookChannel] = {}
    for name, table in reader.channel_tables(delivery, "webhooks"):
        channel = _read_webhook(reader, name, table)
        if channel is not None:
            webhooks[name] = channel
    mail: dict[str, EmailChannel] = {}
    for name, table in reader.channel_tables(delivery, "email"):
        email_channel = _read_email(reader, name, table)
        if email_channel is not None:
            mail[name] = email_channel
    problems.raise_if_errors()
    return Channels(webhooks=webhooks, email=mail, retry=retry, source=source)


# -- reading -------------------------------------------------------------------------------

class _Reader:
    """Typed reads of TOML values that record a diagnostic (and return None) on a mistake."""

    def __init__(self, problems: DiagnosticList, source: str) -> None:
        self.problems = problems
        self.source = source

    def at(self, path: str) -> Location:
        return Location(file=self.source, field=path)

    def wrong(self, path: str, value: Any, expected: str) -> None:
        self.problems.error("LS500", f"{path} must be {expected}, not {_shown(value)}",
                            self.at(path), text=_shown(value))

    def unknown_keys(self, table: Mapping[str, Any], path: str, known: tuple[str, ...],
                     hints: Mapping[str, str] | None = None) -> None:
        for key in table:
            if key not in known:
                hint = (hints or {}).get(key) or did_you_mean(key, known)
                self.problems.error("LS501", f"unknown key '{key}' in [{path}]",
                                    self.at(f"{path}.{key}"), text=key, hint=hint)

    def channel_tables(self, delivery: Mapping[str, Any],
                       section: str) -> list[tuple[str, Mapping[str, Any]]]:
        tables = delivery.get(section, {})
        if not isinstance(tables, Mapping):
            self.wrong(f"delivery.{section}", tables,
                       f"a table of named channels ([delivery.{section}.NAME])")
            return []
        found = []
        for name, table in tables.items():
            if isinstance(table, Mapping):
                found.append((name, table))
            else:
                self.wrong(f"delivery.{section}.{name}", table,
                           f"a table ([delivery.{section}.{name}])")
        return found

    def text(self, table: Mapping[str, Any], path: str, key: str, *,
             required: bool = False) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                self.problems.error("LS502" if path.startswith("delivery.webhooks")
                                    else "LS504",
                                    f"[{path}] has no `{key}`", self.at(path),
                                    hint=f"add {key} = \"…\"")
            return None
        if not isinstance(value, str) or not value.strip():
            self.wrong(f"{path}.{key}", value, "a non-empty string")
            return None
        return value.strip()

    def seconds(self, table: Mapping[str, Any], path: str, key: str,
                default: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.wrong(f"{path}.{key}", value, "a number of seconds or a duration such as 10s")
            return default
        try:
            seconds = parse_seconds(value).total_seconds()
        except ValueError as error:
            self.problems.error("LS500", f"{path}.{key}: {error}", self.at(f"{path}.{key}"),
                                text=_shown(value))
            return default
        if seconds <= 0:
            self.wrong(f"{path}.{key}", value, "more than zero seconds")
            return default
        return seconds


def _read_policy(reader: _Reader, delivery: Mapping[str, Any]) -> RetryPolicy:
    defaults = RetryPolicy()
    attempts = delivery.get("max_attempts", defaults.max_attempts)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        reader.problems.error("LS505", f"delivery.max_attempts must be a whole number of at "
                                       f"least 1, not {_shown(attempts)}",
                              reader.at("delivery.max_attempts"), text=_shown(attempts))
        attempts = defaults.max_attempts
    durations: dict[str, timedelta] = {}
    for key in ("backoff_base", "backoff_max", "lease"):
        default: timedelta = getattr(defaults, key)
        value = delivery.get(key, default)
        try:
            durations[key] = parse_seconds(value)
        except ValueError as error:
            reader.problems.error("LS505", f"delivery.{key}: {error}",
                                  reader.at(f"delivery.{key}"), text=_shown(value))
            durations[key] = default
    if durations["lease"] <= timedelta(0):
        reader.problems.error("LS505", "delivery.lease must be longer than zero",
                              reader.at("delivery.lease"))
    if durations["backoff_base"] > durations["backoff_max"]:
        reader.problems.error(
            "LS505", "delivery.backoff_base is longer than delivery.backoff_max",
            reader.at("delivery.backoff_base"),
            hint="the first wait cannot be longer than the longest wait")
    return RetryPolicy(max_attempts=attempts, backoff_base=durations["backoff_base"],
                       backoff_max=durations["backoff_max"], lease=durations["lease"])


def _read_webhook(reader: _Reader, name: str, table: Mapping[str, Any]) -> WebhookChannel | None:
    path = f"delivery.webhooks.{name}"
    before = len(reader.problems.errors)
    reader.unknown_keys(table, path, _WEBHOOK_KEYS)
    url = reader.text(table, path, "url", required=True)
    if url is not None and not re.match(r"^https?://[^/\s]+", url, re.IGNORECASE):
        reader.problems.error("LS502", f"{path}.url is not an http:// or https:// URL",
                              reader.at(f"{path}.url"), text=url,
                              hint="write the full address, e.g. https://hooks.example.com/x")
    secret = reader.text(table, path, "secret")
    secret_env = reader.text(table, path, "secret_env")
    if "secret" not in table and "secret_env" not in table:
        reader.problems.error(
            "LS503", f"[{path}] has no signing secret", reader.at(path),
            hint='add secret_env = "NAME_OF_AN_ENVIRONMENT_VARIABLE" (or secret = "…"); '
                 "receivers check every request's signature with it")
    elif "secret" in table and "secret_env" in table:
        reader.problems.error("LS503", f"[{path}] has both `secret` and `secret_env`",
                              reader.at(f"{path}.secret"), hint="keep one of them")
    timeout = reader.seconds(table, path, "timeout", 5.0)
    if len(reader.problems.errors) > before or url is None:
        return None
    return WebhookChannel(name=name, url=url, secret=secret, secret_env=secret_env,
                          timeout=timeout, source=reader.source)


def _read_email(reader: _Reader, name: str, table: Mapping[str, Any]) -> EmailChannel | None:
    path = f"delivery.email.{name}"
    before = len(reader.problems.errors)
    reader.unknown_keys(table, path, _EMAIL_KEYS,
                        hints={"password": "write the password into an environment variable "
                                           "and name it with password_env = \"…\"",
                               "sender": "the sender is `from`"})
    host = reader.text(table, path, "host", required=True)
    sender = reader.text(table, path, "from", required=True)
    if sender is not None and not _ADDRESS.match(_bare_address(sender)):
        reader.problems.error("LS504", f"{path}.from is not an e-mail address",
                              reader.at(f"{path}.from"), text=sender)
    port = table.get("port", 587 if table.get("starttls") is True else 25)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        reader.problems.error("LS504", f"{path}.port must be a port number (1–65535), "
                                       f"not {_shown(port)}",
                              reader.at(f"{path}.port"), text=_shown(port))
        port = 25
    to = _read_recipients(reader, table.get("to"), f"{path}.to")
    username = reader.text(table, path, "username")
    password_env = reader.text(table, path, "password_env")
    if password_env is not None and username is None:
        reader.problems.error("LS504", f"[{path}] has `password_env` but no `username`",
                              reader.at(f"{path}.password_env"), hint="add username = \"…\"")
    starttls = table.get("starttls", False)
    if not isinstance(starttls, bool):
        reader.wrong(f"{path}.starttls", starttls, "true or false")
        starttls = False
    timeout = reader.seconds(table, path, "timeout", 10.0)
    if len(reader.problems.errors) > before or host is None or sender is None:
        return None
    return EmailChannel(name=name, host=host, sender=sender, port=port, to=to,
                        username=username, password_env=password_env, starttls=starttls,
                        timeout=timeout, source=reader.source)


def _read_recipients(reader: _Reader, value: Any, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        reader.wrong(path, value, "an e-mail address or a list of them")
        return ()
    bad = [item for item in items if not _ADDRESS.match(_bare_address(item))]
    for item in bad:
        reader.problems.error("LS504", f"{path} holds '{item}', which is not an e-mail address",
                              reader.at(path), text=item)
    return tuple(item.strip() for item in items)


def recipients_of(value: Any) -> tuple[str, ...]:
    """A payload's `to` (an address, a comma-separated list or a list) as addresses."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(item).strip() for item in items if str(item).strip())


def _bare_address(text: str) -> str:
    """'Sales <sales@example.com>' → 'sales@example.com'."""
    match = re.search(r"<([^<>]+)>\s*$", text)
    return (match.group(1) if match else text).strip()


def _read_env(variable: str, source: str, path: str) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    raise LeadscoreError.single(
        "LS506", f"the environment variable {variable} is not set "
                 f"({path} names it)" if variable else f"{path} is empty",
        Location(file=source, field=path), text=variable,
        hint=f"export {variable}=… in the environment that runs leadscore",
    )


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)
