"""A leadscore project folder: `leadscore.toml` naming the store and the model."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from leadscore.diagnostics import LeadscoreError, Location
from leadscore.project.files import CACHE_FOLDER, CONFIG_FILE, DEFAULT_MODEL, DEFAULT_STORE

if TYPE_CHECKING:
    from leadscore.project.settings import SettingsFile

__all__ = ["CONFIG_FILE", "DEFAULT_MODEL", "DEFAULT_STORE", "STORE_ENV", "ProjectConfig",
           "RateLimit", "find_project_root", "parse_rate_limit", "resolve_input", "sqlite_file",
           "resolve_store_url"]

STORE_ENV = "LEADSCORE_STORE_URL"
RATE_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "min": 60.0, "minute": 60.0, "h": 3600.0,
              "hour": 3600.0, "d": 86400.0, "day": 86400.0}


@dataclass(frozen=True)
class RateLimit:
    """`requests` per `seconds` for each API key."""

    requests: int
    seconds: float


@dataclass(frozen=True)
class ProjectConfig:
    root: Path
    store_url: str
    model_path: Path
    lists_path: Path | None = None
    workflows_path: Path | None = None
    data: dict = field(default_factory=dict, compare=False)  # the whole parsed file
    future_tolerance: timedelta = timedelta(days=1)  # [import] future_tolerance
    retention_events_days: int | None = None  # [retention] events_days
    rate_limit: RateLimit | None = RateLimit(600, 60.0)  # [api] rate_limit (None: off)
    sales_leads: str = "all"  # [web] sales_leads: all, or own (the owner property)

    @classmethod
    def load(cls, root: Path) -> ProjectConfig:
        """The project's `leadscore.toml`, read through its schema — or, when the same bytes
        (and the same leadscore and store override) were read before, as kept then in the
        project's cache folder: reading commands then do not load the schema (pydantic)."""
        from leadscore.model.cache import cached, code_digest

        try:
            raw = (root / CONFIG_FILE).read_bytes()
        except OSError:
            return cls.read(root)  # the schema's own read reports it, with its place
        source = f"{code_digest()}|{root.resolve()}|{os.environ.get(STORE_ENV)}|".encode() + raw
        return cached(root / CACHE_FOLDER, "config", source, lambda: cls.read(root), cls)

    @classmethod
    def read(cls, root: Path) -> ProjectConfig:
        """The project's `leadscore.toml`, read through its schema (`settings`)."""
        from leadscore.project.settings import read_settings

        read = read_settings(root / CONFIG_FILE)  # keys and types checked: docs/config.md
        settings = read.settings
        store = os.environ.get(STORE_ENV, settings.store.url)
        lists, workflows = settings.automation.lists, settings.automation.workflows
        return cls(root, resolve_store_url(store, root), root / settings.model.path,
                   root / lists if lists else None, root / workflows if workflows else None,
                   read.data, _duration(read, "import.future_tolerance",
                                        settings.import_.future_tolerance),
                   _days(read, "retention.events_days", settings.retention.events_days),
                   parse_rate_limit(read, "api.rate_limit", settings.api.rate_limit),
                   settings.web.sales_leads)


def _duration(read: SettingsFile, key: str, value: str) -> timedelta:
    from leadscore.catalog import CoercionError, parse_duration

    try:
        return parse_duration(value)
    except CoercionError as error:
        raise LeadscoreError.single("LS308", f"{key} must be a duration: {error}",
                                    read.location(key), text=value,
                                    hint="e.g. \"1d\", \"12h\", \"30min\"") from None


def _days(read: SettingsFile, key: str, value: int | None) -> int | None:
    if value is not None and value < 1:
        raise LeadscoreError.single("LS308", f"{key} must be a whole number of days, at "
                                    f"least 1, not {value}", read.location(key),
                                    text=str(value), hint="leave it out to keep events")
    return value


def parse_rate_limit(read: SettingsFile | None, key: str, value: str) -> RateLimit | None:
    """"600/min", "10/s", "5000/h", "100/30s" or "off" (None)."""
    from leadscore.catalog import CoercionError, parse_duration

    text = value.strip().lower()
    if text == "off":
        return None
    count, slash, per = text.partition("/")
    seconds: float | None = RATE_UNITS.get(per.strip())
    if seconds is None and per.strip():
        try:
            seconds = parse_duration(per.strip()).total_seconds()
        except CoercionError:
            seconds = None
    if not slash or not count.strip().isdigit() or int(count) < 1 or not seconds \
            or seconds <= 0:
        raise LeadscoreError.single(
            "LS308", f"{key} must be requests per time, like \"600/min\", not {value!r}",
            read.location(key) if read is not None else Location(field=key), text=value,
            hint="N/s, N/min, N/h, N/d or N/DURATION (e.g. \"100/30s\"), N at least 1; "
                 "or \"off\"")
    return RateLimit(int(count), seconds)


def resolve_input(path: str | Path, root: Path) -> Path:
    """A data file named to the Python API: as given when it exists (from the current folder) or
    is absolute; otherwise, when it exists there, the same relative path in the project folder
    `root` — so `Project.open("my-project").import_contacts("data/contacts.csv")` works from the
    folder above. Neither existing, the path as given (and its error names it so)."""
    given = Path(path)
    if given.is_absolute() or given.exists():
        return given
    inside = root / given
    return inside if inside.exists() else given


def resolve_store_url(url: str, root: Path) -> str:
    """Relative SQLite paths are relative to the project folder, not the working directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((root / url[len(prefix):]).resolve())
    return url


def sqlite_file(url: str) -> str | None:
    """The database file of an embedded store's URL; None for a server's."""
    prefix = "sqlite:///"
    return url[len(prefix):] or None if url.startswith(prefix) else None


def find_project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` that holds a leadscore.toml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    return None
