"""leadscore.toml is read through a schema: every key the code reads is in it and documented,
and every unknown key or wrong type is a placed diagnostic with a hint."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from leadscore.delivery import channels
from leadscore.diagnostics import LeadscoreError
from leadscore.project import init_project
from leadscore.project.config import ProjectConfig
from leadscore.project.settings import (
    DeliverySettings,
    EmailSettings,
    Settings,
    WebhookSettings,
    parse_settings,
    read_settings,
)

REPO = Path(__file__).resolve().parents[2]


def schema_keys(model: type[BaseModel] = Settings, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        annotation = field.annotation
        if typing.get_origin(annotation) is dict:
            keys |= schema_keys(typing.get_args(annotation)[1], key + ".NAME.")
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= schema_keys(annotation, key + ".")
        else:
            keys.add(key)
    return keys


def test_every_key_of_the_schema_is_documented_and_nothing_else():
    documented = set(re.findall(r"^\| `([a-z_.A-Z]+)` \|", (REPO / "docs/config.md").read_text(),
                                re.MULTILINE))
    assert documented == schema_keys()


def test_the_schema_holds_every_key_the_delivery_channels_read():
    def fields(model: type[BaseModel]) -> set[str]:
        return {f.alias or n for n, f in model.model_fields.items()}

    assert fields(WebhookSettings) == set(channels._WEBHOOK_KEYS)
    assert fields(EmailSettings) == set(channels._EMAIL_KEYS)
    assert fields(DeliverySettings) == set(channels._POLICY_KEYS) | set(channels._SECTIONS)


def test_the_file_init_writes_is_valid_and_read_as_written(tmp_path):
    init_project(tmp_path)
    config = ProjectConfig.load(tmp_path)
    assert config.model_path == tmp_path / "models/model.yaml"
    assert config.lists_path == tmp_path / "models/lists.yaml"
    read = read_settings(tmp_path / "leadscore.toml")
    assert read.settings.delivery.webhooks["sales"].url == "http://127.0.0.1:8765/leadscore"


def test_a_missing_file_means_every_default(tmp_path):
    config = ProjectConfig.load(tmp_path)
    assert config.model_path == tmp_path / "models/model.yaml"
    assert config.lists_path is None and config.workflows_path is None


def errors_of(text: str) -> list:
    with pytest.raises(LeadscoreError) as caught:
        parse_settings(text, "leadscore.toml")
    return caught.value.diagnostics


# (case, file, code, line, column, words in message or hint)
CASES = [
    ("wrong type", '[store]\nurl = 5\n', "LS308", 2, 7, "store.url must be a string, not 5"),
    ("misspelt key", '[model]\npaht = "m.yaml"\n', "LS307", 2, 1, "did you mean 'path'"),
    ("misspelt table", '[stor]\nurl = "x"\n', "LS307", 1, 1, "did you mean 'store'"),
    ("table written as a value", 'store = "sqlite:///x.db"\n', "LS308", 1, 9, "a table"),
    ("dotted key", 'store.ulr = "x"\n', "LS307", 1, 1, "did you mean 'url'"),
    ("inline table", 'model = {path = "m.yaml", pth = 1}\n', "LS307", 1, 27,
     "did you mean 'path'"),
    ("delivery type", '[delivery]\nmax_attempts = "8"\n', "LS500", 2, 16, "whole number"),
    ("delivery key", '[delivery.webhooks.sales]\nurl = "http://x"\nsecrett = "s"\n', "LS501", 3,
     1, "did you mean 'secret'"),
    ("channel kind", '[delivery.webhook.sales]\nurl = "http://x"\n', "LS501", 1, 1,
     "did you mean 'webhooks'"),
    ("bool as text", '[delivery.email.m]\nhost = "h"\nfrom = "a@b.c"\nstarttls = "yes"\n',
     "LS500", 4, 12, "true or false"),
    ("toml syntax", '[store]\nurl = \n', "LS301", 2, 7, "invalid leadscore.toml"),
    ("a key twice", '[store]\nurl = "a"\nurl = "b"\n', "LS301", 3, None, "invalid"),
]


@pytest.mark.parametrize("case,text,code,line,column,words", CASES, ids=[c[0] for c in CASES])
def test_each_mistake_has_code_place_and_hint(case, text, code, line, column, words):
    found = errors_of(text)
    assert [d.code for d in found] == [code], [str(d) for d in found]
    diagnostic = found[0]
    assert diagnostic.location.file == "leadscore.toml"
    assert diagnostic.location.line == line
    if column is not None:
        assert diagnostic.location.column == column
    assert words in f"{diagnostic.message} {diagnostic.hint}"


def test_every_mistake_is_reported_at_once():
    found = errors_of('[store]\nurl = 5\n[model]\npaht = "x"\n[automation]\nlists = ["a"]\n')
    assert [(d.code, d.location.line) for d in found] == [
        ("LS308", 2), ("LS307", 4), ("LS308", 6)]


@pytest.mark.parametrize("content", [b"\xff\xfe\x00x", b"x = " + b"[" * 5000 + b"]" * 5000,
                                     b"# " + b"x" * 1_000_001])
def test_unreadable_files_are_diagnostics(tmp_path, content):
    path = tmp_path / "leadscore.toml"
    path.write_bytes(content)
    with pytest.raises(LeadscoreError) as caught:
        read_settings(path)
    assert [d.code for d in caught.value.diagnostics] == ["LS301"]


def test_the_lists_file_is_read_again_only_when_it_changes(tmp_path):
    """A server asks `Project.lists` on every request: the checked lists are kept until the
    file (or the model) changes."""
    import os

    from leadscore.project import Project

    init_project(tmp_path)
    project = Project.open(tmp_path)
    first = project.lists
    assert project.lists is first
    path = project.config.lists_path
    text = path.read_text().replace("name: hot-accounts", "name: warm-accounts")
    path.write_text(text)
    later = os.stat(path).st_mtime_ns + 1_000_000
    os.utime(path, ns=(later, later))
    changed = project.lists
    assert changed is not first
    assert "warm-accounts" in changed and "hot-accounts" not in changed
