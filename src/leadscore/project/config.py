"""A leadscore project folder: `leadscore.toml` naming the store and the model."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from leadscore.diagnostics import LeadscoreError, Location

CONFIG_FILE = "leadscore.toml"
DEFAULT_STORE = "sqlite:///.leadscore/store.db"
DEFAULT_MODEL = "models/model.yaml"
STORE_ENV = "LEADSCORE_STORE_URL"


@dataclass(frozen=True)
class ProjectConfig:
    root: Path
    store_url: str
    model_path: Path
    lists_path: Path | None = None
    workflows_path: Path | None = None
    data: dict = field(default_factory=dict, compare=False)  # the whole parsed file

    @classmethod
    def load(cls, root: Path) -> ProjectConfig:
        file = root / CONFIG_FILE
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except tomllib.TOMLDecodeError as exc:
            raise LeadscoreError.single("LS301", f"invalid {CONFIG_FILE}: {exc}",
                                        Location(str(file))) from None
        store = data.get("store", {}).get("url", DEFAULT_STORE)
        store = os.environ.get(STORE_ENV, store)
        model = data.get("model", {}).get("path", DEFAULT_MODEL)
        automation = data.get("automation", {})
        lists = automation.get("lists")
        workflows = automation.get("workflows")
        return cls(root, resolve_store_url(store, root), root / model,
                   root / lists if lists else None, root / workflows if workflows else None,
                   data)


def resolve_store_url(url: str, root: Path) -> str:
    """Relative SQLite paths are relative to the project folder, not the working directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((root / url[len(prefix):]).resolve())
    return url


def find_project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` that holds a leadscore.toml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    return None
