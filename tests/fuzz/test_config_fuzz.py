"""Fuzzing leadscore.toml (`leadscore validate` in a project): arbitrary bytes and the file
`leadscore init` writes with mistakes — unknown and misspelt keys, wrong types, huge numbers,
NaN, deep nesting, odd encodings — exit 0 or a coded diagnostic, in bounded time and memory."""

from __future__ import annotations

import json
import math
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from leadscore.project.scaffold import CONFIG_TEXT
from tests.fuzz.harness import ENCODINGS, FUZZ, assert_clean, encode, leadscore
from tests.fuzz.strategies import mutate

BASE = tomllib.loads(CONFIG_TEXT)
BASE["delivery"].update({"max_attempts": 3, "backoff_base": "1s",
                         "email": {"owners": {"host": "smtp.example.com", "port": 587,
                                              "from": "a@example.com", "to": ["b@example.com"],
                                              "starttls": True}}})
KEYS = ["store", "url", "model", "path", "automation", "lists", "workflows", "delivery",
        "webhooks", "email", "secret", "secret_env", "timeout", "host", "port", "from", "to",
        "username", "password_env", "starttls", "max_attempts", "backoff_base", "backoff_max",
        "lease", "sales", "owners"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project():
    with tempfile.TemporaryDirectory(prefix="leadscore-fuzz-config-") as folder:
        root = Path(folder)
        assert_clean(leadscore("init", ".", cwd=root))
        yield root


def check(root: Path, content: bytes) -> None:
    (root / "leadscore.toml").write_bytes(content)
    run = leadscore("validate", cwd=root)
    assert_clean(run, content[:400].decode("utf-8", "replace"))
    assert not (root / ".leadscore").exists()  # checking settings never creates a store


@FUZZ
@given(st.binary(max_size=2000))
@example(b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n")
@example(b"[store]\nurl = 5\n")
def test_arbitrary_bytes(project, content):
    check(project, content)


@FUZZ
@given(st.data(), st.sampled_from(ENCODINGS))
def test_the_init_file_with_mistakes(project, data, encoding):
    document = mutate(BASE, data.draw, known_keys=KEYS)
    check(project, encode(to_toml(document), encoding))


def test_the_init_file_is_valid(project):
    check(project, to_toml(BASE).encode())
    assert leadscore("validate", cwd=project).code == 0


# --- a small TOML writer for generated documents ---------------------------------------------

def to_toml(document: Any) -> str:
    if not isinstance(document, dict):
        return f"value = {_value(document)}\n"
    lines: list[str] = []
    _table(document, (), lines)
    return "\n".join(lines) + "\n"


def _table(table: dict, path: tuple[str, ...], lines: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict) and v is not None}
    tables = {k: v for k, v in table.items() if isinstance(v, dict)}
    if path and (scalars or not tables):
        lines.append("[" + ".".join(_key(p) for p in path) + "]")
    lines.extend(f"{_key(k)} = {_value(v)}" for k, v in scalars.items())
    for key, value in tables.items():
        _table(value, (*path, str(key)), lines)


def _key(key: Any) -> str:
    text = str(key)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()
                               if v is not None) + "}"
    return json.dumps("" if value is None else str(value), ensure_ascii=False)
