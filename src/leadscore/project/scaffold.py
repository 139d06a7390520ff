"""`leadscore init`: a new project folder with a realistic example model."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from leadscore.diagnostics import LeadscoreError, Location
from leadscore.model import model_json_schema
from leadscore.project.config import CONFIG_FILE, DEFAULT_MODEL, DEFAULT_STORE

CONFIG_TEXT = f"""# leadscore project: where the store is and which model is live.
[store]
# SQLite file by default (relative to this folder); for production use PostgreSQL:
# url = "postgresql+psycopg://user@host:5432/leadscore"
# The environment variable LEADSCORE_STORE_URL overrides this.
url = "{DEFAULT_STORE}"

[model]
path = "{DEFAULT_MODEL}"
"""

GITIGNORE = ".leadscore/\ndata/\n"


def init_project(path: str | Path, *, force: bool = False) -> list[Path]:
    """Create the project folder; refuses to overwrite an existing project unless `force`."""
    root = Path(path)
    if (root / CONFIG_FILE).exists() and not force:
        raise LeadscoreError.single(
            "LS302", f"{root} already holds a leadscore project", Location(str(root / CONFIG_FILE)),
            hint="choose another folder, or pass --force to overwrite the example files")
    (root / "models").mkdir(parents=True, exist_ok=True)
    template = resources.files("leadscore.project").joinpath("templates/model.yaml").read_text(
        encoding="utf-8")
    written = {
        root / CONFIG_FILE: CONFIG_TEXT,
        root / DEFAULT_MODEL: template,
        root / "models" / "model.schema.json": json.dumps(model_json_schema(), indent=2) + "\n",
        root / ".gitignore": GITIGNORE,
    }
    for file, text in written.items():
        file.write_text(text, encoding="utf-8")
    return list(written)
