"""The command line, the HTTP API and the web app are thin shells: they parse, call the Python API
(`leadscore.project` and what it hands out) and render. They never import SQLAlchemy or the
store, and never reach into a project's store for SQL."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src/leadscore"
SHELLS = [SRC / "cli", SRC / "api", SRC / "api/routes", SRC / "web", SRC / "web/pages"]
FORBIDDEN = ("sqlalchemy", "leadscore.storage", "psycopg", "sqlite3", "duckdb")


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
    return found


def test_the_shells_never_import_the_store_or_a_database_driver():
    wrong = [f"{path.name}:{line} imports {module}"
             for folder in SHELLS for path in sorted(folder.glob("*.py"))
             for line, module in _imports(path)
             if module.startswith(FORBIDDEN)]
    assert wrong == []


def test_the_shells_run_no_sql():
    pattern = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\s+\w", re.IGNORECASE)
    wrong = [f"{path.name}:{n}: {line.strip()}"
             for folder in SHELLS for path in sorted(folder.glob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if pattern.search(line) or ".store." in line or ".execute(" in line]
    assert wrong == []


def test_the_check_covers_every_module_of_the_shells():
    covered = {path for folder in SHELLS for path in folder.glob("*.py")}
    assert covered == set((SRC / "cli").rglob("*.py")) | set((SRC / "api").rglob("*.py")) \
        | set((SRC / "web").rglob("*.py"))
    assert SRC / "api/routes/contacts.py" in covered


def test_automation_orchestrates_and_writes_no_sql_of_its_own():
    """Issue 12, item 7: list diffing lives in `lists`, trigger semantics in `workflows`,
    schedule and due-row SQL in `storage`, e-mail bodies in `delivery`. Only `bulk.py` writes
    SQL in `automation/`: its selection over the compiled query's results, in DuckDB."""
    pattern = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\s+\w|\bselect\(|\.execute\(|"
                         r"automation_schema", re.IGNORECASE)
    wrong = [f"{path.name}:{n}: {line.strip()}"
             for path in sorted((SRC / "automation").glob("*.py")) if path.name != "bulk.py"
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if pattern.search(line)]
    assert wrong == []
