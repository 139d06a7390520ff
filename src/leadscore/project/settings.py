"""`leadscore.toml` read through a schema, like the model file.

The classes below name every key leadscore reads, with its type, default and meaning
(docs/config.md lists the same keys; a test keeps the two in step). An unknown or misspelt key
and a value of the wrong type are diagnostics with file:line:col and a "did you mean" hint,
all reported at once. What a value means beyond its type (a URL that is not http, a duration
that cannot be read, a webhook without a secret) is checked where it is used:
`leadscore.delivery.load_channels` for `[delivery]`.
"""

from __future__ import annotations

import json
import re
import tomllib
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadscore.diagnostics import Diagnostic, DiagnosticList, LeadscoreError, Location, did_you_mean
from leadscore.project.files import CONFIG_FILE, DEFAULT_MODEL, DEFAULT_STORE

MAX_CONFIG_BYTES = 1_000_000

Seconds = float | str  # a number of seconds or a duration such as "30s", "5m", "250ms"


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


def _key(default: Any, meaning: str, **extra: Any) -> Any:
    """A key's default and meaning (docs/config.md says the same)."""
    return Field(default=default, description=meaning, **extra)


class StoreSettings(_Table):
    url: str = _key(DEFAULT_STORE, "The store: a SQLite URL (a relative path is relative to the "
                    "project folder) or a PostgreSQL URL; the environment variable "
                    "LEADSCORE_STORE_URL overrides it")


class ModelSettings(_Table):
    path: str = _key(DEFAULT_MODEL, "The live model file, relative to the project folder")


class AutomationSettings(_Table):
    lists: str | None = _key(None, "The active lists file (none: no lists)")
    workflows: str | None = _key(None, "The workflows file (none: no workflows)")


class WebhookSettings(_Table):
    url: str | None = _key(None, "Required: the http:// or https:// address that receives "
                           "signed JSON POSTs")
    secret: str | None = _key(None, "The signing secret, written here …")
    secret_env: str | None = _key(None, "… or the environment variable that holds it (one of "
                                  "the two)")
    timeout: Seconds = _key(5.0, "Seconds to wait for the receiver (or a duration)")


class EmailSettings(_Table):
    host: str | None = _key(None, "Required: the SMTP server")
    port: int | None = _key(None, "SMTP port (default 587 with starttls, else 25)")
    from_: str | None = _key(None, "Required: the sender address", alias="from")
    to: str | list[str] | None = _key(None, "Default recipient(s); a notification's own `to` "
                                       "wins")
    username: str | None = _key(None, "Log in with this user …")
    password_env: str | None = _key(None, "… and the password in this environment variable")
    starttls: bool = _key(False, "Upgrade the connection with STARTTLS (verified)")
    timeout: Seconds = _key(10.0, "Seconds to wait for the server (or a duration)")


class DeliverySettings(_Table):
    max_attempts: int = _key(8, "Attempts before a notification becomes a dead letter")
    backoff_base: Seconds = _key("2s", "Wait after the first failure; doubles after each")
    backoff_max: Seconds = _key("1h", "The longest wait between attempts")
    lease: Seconds = _key("60s", "How long a dispatcher holds a row it is sending")
    webhooks: dict[str, WebhookSettings] = _key({}, "Webhook channels: "
                                                "[delivery.webhooks.NAME]")
    email: dict[str, EmailSettings] = _key({}, "E-mail channels: [delivery.email.NAME]")


class ImportSettings(_Table):
    future_tolerance: str = _key("1d", "How far into the future an event's occurred_at or a "
                                 "contact's updated_at/created_at may lie (a clock running "
                                 "ahead); later is a row error (LS223)")


class RetentionSettings(_Table):
    events_days: int | None = _key(None, "Events older than this many days are removed by "
                                   "`leadscore retention apply` (none: kept for ever)")


class ApiSettings(_Table):
    rate_limit: str = _key("600/min", "Requests one API key may make to `leadscore serve`: "
                           "N/s, N/min, N/h or N/DURATION (a token bucket per key, per "
                           "process; beyond it 429 with Retry-After); \"off\": no limit")


class WebSettings(_Table):
    sales_leads: typing.Literal["all", "own"] = _key(
        "all", "Which leads a user of the sales role sees in the web app: \"all\", or \"own\" "
        "— only contacts whose `owner` property is the user's e-mail")


class Settings(_Table):
    """Everything leadscore reads from leadscore.toml."""

    store: StoreSettings = _key(StoreSettings(), "Where the data is")
    model: ModelSettings = _key(ModelSettings(), "Which model is live")
    automation: AutomationSettings = _key(AutomationSettings(), "Lists and workflows")
    delivery: DeliverySettings = _key(DeliverySettings(), "Where notifications go, and retries")
    import_: ImportSettings = _key(ImportSettings(), "How imports check times",
                                   alias="import")
    retention: RetentionSettings = _key(RetentionSettings(), "How long events are kept")
    api: ApiSettings = _key(ApiSettings(), "The HTTP API (`leadscore serve`)")
    web: WebSettings = _key(WebSettings(), "The web app (`leadscore serve`, at /)")


@dataclass(frozen=True)
class SettingsFile:
    """A read leadscore.toml: the raw tables (for `load_channels`), the checked settings and
    where each key was written."""

    file: str
    data: dict[str, Any]
    settings: Settings
    positions: dict[tuple[str, ...], tuple[int, int]]

    def location(self, field: str) -> Location:
        """The place of a dotted key path (its nearest written parent when not written)."""
        return _locate(self.file, self.positions, tuple(field.split(".")), field)


def read_settings(path: Path) -> SettingsFile:
    """Read and check leadscore.toml (a missing file means every default)."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return SettingsFile(file, {}, Settings(), {})
    except OSError as error:
        raise LeadscoreError.single("LS301", f"cannot read {CONFIG_FILE}: "
                                    f"{error.strerror or error}", Location(file)) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise LeadscoreError.single("LS301", f"{CONFIG_FILE} is larger than "
                                    f"{MAX_CONFIG_BYTES:,} bytes", Location(file),
                                    hint="it names a store, a model and channels: a few lines")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise LeadscoreError.single("LS301", f"{CONFIG_FILE} is not UTF-8 text",
                                    Location(file, line), hint="save it as UTF-8") from None
    return parse_settings(text, file)


def parse_settings(text: str, file: str = CONFIG_FILE) -> SettingsFile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        where = re.search(r"\(at line (\d+), column (\d+)\)", message)
        raise LeadscoreError.single(
            "LS301", f"invalid {CONFIG_FILE}: {re.sub(r' ?[(]at .*[)]$', '', message)}",
            Location(file, int(where.group(1)), int(where.group(2))) if where
            else Location(file),
            hint="see docs/config.md for the keys and their types") from None
    except RecursionError:  # tomllib reads nested arrays and inline tables recursively
        raise LeadscoreError.single("LS301", f"invalid {CONFIG_FILE}: values nested too deeply",
                                    Location(file), hint="see docs/config.md") from None
    positions = dict(_positions(text))
    try:
        settings = Settings.model_validate(data)
    except ValidationError as error:
        problems = DiagnosticList()
        seen: set[tuple[str, ...]] = set()
        for item in error.errors():
            loc = _key_path(tuple(str(part) for part in item["loc"]),
                            unknown=item["type"] == "extra_forbidden")
            if loc not in seen:  # a union reports once per member type
                seen.add(loc)
                problems.add(_diagnostic(item, loc, file, positions))
        problems.raise_if_errors()
        raise  # pragma: no cover - a ValidationError always has errors
    return SettingsFile(file, data, settings, positions)


VALUE = "<value>"  # positions[key + (VALUE,)]: where the key's value starts


# -- diagnostics -------------------------------------------------------------------------------

def _key_path(loc: tuple[str, ...], *, unknown: bool) -> tuple[str, ...]:
    """The keys of an error's place, without the member types pydantic adds for a union."""
    current: Any = Settings
    for i, part in enumerate(loc):
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if part in (n, f.alias)),
                         None)
            if field is None:
                return loc[:i + 1] if unknown else loc[:i]
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return loc[:i]
    return loc


def _diagnostic(error: Any, loc: tuple[str, ...], file: str,
                positions: dict[tuple[str, ...], tuple[int, int]]) -> Diagnostic:
    delivery = loc[:1] == ("delivery",)
    dotted = ".".join(loc)
    if error["type"] == "extra_forbidden":
        allowed = _keys_at(loc[:-1])
        hint = did_you_mean(loc[-1], allowed) or (
            f"keys here: {', '.join(allowed)}" if allowed else None)
        if delivery and len(loc) == 2 and hint is None:
            hint = "channel kinds are [delivery.webhooks.NAME] and [delivery.email.NAME]"
        return Diagnostic("LS501" if delivery else "LS307",
                          f"unknown key '{loc[-1]}' in {_table(loc[:-1])}",
                          _locate(file, positions, loc, dotted), text=loc[-1], hint=hint)
    expected = _expected(loc)
    value = error.get("input")
    where = loc + (VALUE,) if loc + (VALUE,) in positions else loc
    return Diagnostic("LS500" if delivery else "LS308",
                      f"{dotted} must be {expected}, not {_shown(value)}",
                      _locate(file, positions, where, dotted), text=_shown(value),
                      hint=f"see docs/config.md: {dotted}")


def _table(loc: tuple[str, ...]) -> str:
    return f"[{'.'.join(loc)}]" if loc else CONFIG_FILE


def _locate(file: str, positions: dict[tuple[str, ...], tuple[int, int]],
            loc: tuple[str, ...], field: str) -> Location:
    probe = loc
    while probe:
        if probe in positions:
            line, column = positions[probe]
            return Location(file, line, column, field)
        probe = probe[:-1]
    return Location(file, field=field)


def _shown(value: Any) -> str:
    """A value as TOML writes it."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _keys_at(loc: tuple[str, ...]) -> list[str]:
    """The keys allowed in the table at `loc`."""
    current: Any = _table_class(loc)
    if current is None:
        return []
    return [field.alias or name for name, field in current.model_fields.items()]


def _table_class(loc: tuple[str, ...]) -> type[BaseModel] | None:
    current: Any = Settings
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if part in (n, f.alias)),
                         None)
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _expected(loc: tuple[str, ...]) -> str:
    parent = _table_class(loc[:-1])
    if parent is None:
        return "a table"
    field = next((f for n, f in parent.model_fields.items() if loc[-1] in (n, f.alias)), None)
    annotation = field.annotation if field is not None else None
    if typing.get_origin(annotation) is dict or (
            isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return f"a table ([{'.'.join(loc)}])"
    words = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}
    kinds = []
    for arg in typing.get_args(annotation) or (annotation,):
        if arg is type(None):
            continue
        kinds.append("a list of strings" if typing.get_origin(arg) is list
                     else words.get(arg, str(arg)))
    return " or ".join(kinds) or "a value"


# -- where each key is written -----------------------------------------------------------------

_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_HEADER = re.compile(rf"^\s*\[\[?\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*\]\]?")
_ASSIGN = re.compile(rf"^(\s*)({_KEY}(?:\s*\.\s*{_KEY})*)\s*=")
_INLINE_KEY = re.compile(rf"[{{,]\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*=")


def _parts(dotted: str) -> tuple[str, ...]:
    parts = re.findall(_KEY, dotted)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


def _positions(text: str) -> Iterator[tuple[tuple[str, ...], tuple[int, int]]]:
    """(key path, (line, column)) for each table header and key written, by a light scan of
    the lines: enough to place a diagnostic, not a TOML parser (the file parsed already)."""
    table: tuple[str, ...] = ()
    depth = 0  # open brackets of a multi-line array
    in_string: str | None = None  # the delimiter of an open multi-line string
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string is not None:
            if in_string in line:
                in_string = None
            continue
        if depth == 0:
            header = _HEADER.match(line)
            if header:
                table = _parts(header.group(1))
                for i in range(1, len(table) + 1):
                    yield table[:i], (number, line.index("[") + 1)
                continue
            assign = _ASSIGN.match(line)
            if assign:
                key = table + _parts(assign.group(2))
                rest = line[assign.end():]
                value = assign.end() + len(rest) - len(rest.lstrip()) + 1
                yield key, (number, len(assign.group(1)) + 1)
                yield key + (VALUE,), (number, value)
                for inline in _INLINE_KEY.finditer(rest):
                    yield key + _parts(inline.group(1)), (number, assign.end() + inline.start(1)
                                                          + 1)
                for quote in ('"""', "'''"):
                    if rest.count(quote) % 2 == 1:
                        in_string = quote
                depth += _brackets(rest)
                continue
        else:
            depth += _brackets(line)
        depth = max(depth, 0)


def _brackets(text: str) -> int:
    """Open minus closed square brackets outside strings and comments."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'', "", text).split("#", 1)[0]
    return text.count("[") - text.count("]")
