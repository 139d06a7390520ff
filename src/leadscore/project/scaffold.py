"""`leadscore init`: a new project folder with a realistic example model."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from leadscore.diagnostics import LeadscoreError, Location
from leadscore.lists.definition import ListsFileSpec
from leadscore.model import model_json_schema
from leadscore.project.config import CONFIG_FILE, DEFAULT_MODEL, DEFAULT_STORE
from leadscore.workflows.definition import WorkflowsFileSpec

CONFIG_TEXT = f"""# leadscore project: where the store is and which model is live.
[store]
# SQLite file by default (relative to this folder); for production use PostgreSQL:
# url = "postgresql+psycopg://user@host:5432/leadscore"
# The environment variable LEADSCORE_STORE_URL overrides this.
url = "{DEFAULT_STORE}"

[model]
path = "{DEFAULT_MODEL}"

[automation]
# Active lists and workflows, run by `leadscore worker` (or once by `leadscore process`).
lists = "models/lists.yaml"
workflows = "models/workflows.yaml"

# Where workflow notifications go. Webhooks are signed (HMAC-SHA256 over timestamp and body)
# and carry an Idempotency-Key; see docs/delivery.md. E-mail: [delivery.email.NAME].
[delivery.webhooks.sales]
url = "http://127.0.0.1:8765/leadscore"
secret = "example-secret-change-me"   # in production: secret_env = "LEADSCORE_WEBHOOK_SECRET"

# The HTTP API (`leadscore serve`): requests per API key, beyond them 429 (docs/api.md).
# [api]
# rate_limit = "600/min"
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
    templates = resources.files("leadscore.project").joinpath("templates")
    written = {
        root / CONFIG_FILE: CONFIG_TEXT,
        root / DEFAULT_MODEL: template,
        root / "models" / "lists.yaml": templates.joinpath("lists.yaml").read_text("utf-8"),
        root / "models" / "workflows.yaml": templates.joinpath("workflows.yaml").read_text(
            "utf-8"),
        root / "models" / "model.schema.json": json.dumps(model_json_schema(), indent=2) + "\n",
        root / "models" / "lists.schema.json": json.dumps(
            ListsFileSpec.model_json_schema(by_alias=True), indent=2) + "\n",
        root / "models" / "workflows.schema.json": json.dumps(
            WorkflowsFileSpec.model_json_schema(by_alias=True), indent=2) + "\n",
        root / ".gitignore": GITIGNORE,
    }
    for file, text in written.items():
        file.write_text(text, encoding="utf-8")
    return list(written)
