"""The [delivery] part of leadscore.toml: typed channels, and diagnostics naming the key."""

from __future__ import annotations

import tomllib
from datetime import timedelta

import pytest

from leadscore.delivery import (
    EmailChannel,
    RetryPolicy,
    WebhookChannel,
    load_channels,
    parse_seconds,
)
from leadscore.diagnostics import LeadscoreError

EXAMPLE = """
[store]
url = "sqlite:///.leadscore/store.db"

[delivery]
max_attempts = 5
backoff_base = "30s"
backoff_max = "2h"

[delivery.webhooks.sales]
url = "https://hooks.example.com/leadscore"
secret_env = "SALES_HOOK_SECRET"
timeout = 5

[delivery.webhooks.nurture]
url = "http://127.0.0.1:9/nurture"
secret = "inline"
timeout = "1500ms"

[delivery.email.owners]
host = "smtp.example.com"
port = 587
from = "Leadscore <leadscore@example.com>"
to = ["sales@example.com", "ops@example.com"]
username = "leadscore"
password_env = "SMTP_PASSWORD"
starttls = true
"""


def problems(data: dict) -> list[tuple[str, str | None, str]]:
    with pytest.raises(LeadscoreError) as caught:
        load_channels(data, source="leadscore.toml")
    return [(d.code, d.location.field, d.message) for d in caught.value.diagnostics]


def test_the_example_loads_as_typed_channels():
    channels = load_channels(tomllib.loads(EXAMPLE), source="leadscore.toml")
    assert channels.retry == RetryPolicy(max_attempts=5, backoff_base=timedelta(seconds=30),
                                         backoff_max=timedelta(hours=2),
                                         lease=timedelta(seconds=60))
    sales = channels.webhooks["sales"]
    assert sales == WebhookChannel(name="sales", url="https://hooks.example.com/leadscore",
                                   secret_env="SALES_HOOK_SECRET", timeout=5.0,
                                   source="leadscore.toml")
    assert channels.webhooks["nurture"].timeout == 1.5
    owners = channels.email["owners"]
    assert isinstance(owners, EmailChannel)
    assert (owners.host, owners.port, owners.sender, owners.starttls) == (
        "smtp.example.com", 587, "Leadscore <leadscore@example.com>", True)
    assert owners.to == ("sales@example.com", "ops@example.com")
    assert channels.find("webhook", "sales") is sales
    assert channels.find("email", "owners") is owners


def test_no_delivery_section_means_no_channels_and_the_default_policy():
    channels = load_channels({}, source="leadscore.toml")
    assert not channels.webhooks and not channels.email
    assert channels.retry.max_attempts == 8
    assert channels.retry.backoff_base == timedelta(seconds=2)
    assert channels.retry.backoff_max == timedelta(hours=1)


def test_durations():
    assert parse_seconds("30s") == timedelta(seconds=30)
    assert parse_seconds("5m") == timedelta(minutes=5)
    assert parse_seconds("2h") == timedelta(hours=2)
    assert parse_seconds("1d") == timedelta(days=1)
    assert parse_seconds("250ms") == timedelta(milliseconds=250)
    assert parse_seconds(90) == timedelta(seconds=90)
    for wrong in ("5 minutes", "", "-3s", True, "3mo"):
        with pytest.raises(ValueError):
            parse_seconds(wrong)


def test_backoff_doubles_up_to_the_maximum():
    policy = RetryPolicy(backoff_base=timedelta(seconds=2), backoff_max=timedelta(seconds=60))
    assert [policy.backoff(n).total_seconds() for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    assert policy.backoff(3, 0.5) == timedelta(seconds=4)
    assert policy.backoff(10_000) == timedelta(seconds=60)


def test_an_unknown_channel_kind_is_named_with_its_path():
    found = problems({"delivery": {"webhook": {"x": {"url": "https://a.example"}},
                                   "sms": {"x": {}}}})
    assert found[0][:2] == ("LS501", "delivery.webhook")
    assert found[1][:2] == ("LS501", "delivery.sms")
    with pytest.raises(LeadscoreError) as caught:
        load_channels({"delivery": {"webhook": {}}}, source="leadscore.toml")
    assert caught.value.diagnostics[0].hint == "did you mean 'webhooks'?"


def test_webhook_mistakes():
    found = problems({"delivery": {"webhooks": {
        "a": {"secret": "s"},
        "b": {"url": "hooks.example.com", "secret": "s"},
        "c": {"url": "https://x.example"},
        "d": {"url": "https://x.example", "secret": "s", "secret_env": "S"},
        "e": {"url": "https://x.example", "secret": "s", "timeout": 0},
        "f": {"url": "https://x.example", "secret": "s", "timout": 3},
        "g": "https://x.example",
    }}})
    codes = [(code, path) for code, path, _ in found]
    assert ("LS502", "delivery.webhooks.a") in codes
    assert any("no `url`" in message for _, _, message in found)
    assert ("LS502", "delivery.webhooks.b.url") in codes
    assert ("LS503", "delivery.webhooks.c") in codes
    assert ("LS503", "delivery.webhooks.d.secret") in codes
    assert ("LS500", "delivery.webhooks.e.timeout") in codes
    assert ("LS501", "delivery.webhooks.f.timout") in codes
    assert ("LS500", "delivery.webhooks.g") in codes
    assert len(codes) == 7


def test_email_mistakes():
    found = problems({"delivery": {"email": {
        "a": {"from": "x@example.com"},
        "b": {"host": "h", "from": "not an address", "port": 70000},
        "c": {"host": "h", "from": "x@example.com", "password": "hunter2"},
        "d": {"host": "h", "from": "x@example.com", "to": ["ok@example.com", "nope"],
              "password_env": "P", "starttls": "yes"},
    }}})
    codes = [(code, path) for code, path, _ in found]
    assert ("LS504", "delivery.email.a") in codes
    assert ("LS504", "delivery.email.b.from") in codes
    assert ("LS504", "delivery.email.b.port") in codes
    assert ("LS501", "delivery.email.c.password") in codes
    assert ("LS504", "delivery.email.d.to") in codes
    assert ("LS504", "delivery.email.d.password_env") in codes
    assert ("LS500", "delivery.email.d.starttls") in codes


def test_policy_mistakes():
    found = problems({"delivery": {"max_attempts": 0, "backoff_base": "2 hours",
                                   "backoff_max": "1h", "lease": "0s"}})
    assert [(code, path) for code, path, _ in found] == [
        ("LS505", "delivery.max_attempts"), ("LS505", "delivery.backoff_base"),
        ("LS505", "delivery.lease")]
    found = problems({"delivery": {"backoff_base": "2h", "backoff_max": "1h"}})
    assert found[0][:2] == ("LS505", "delivery.backoff_base")


def test_every_mistake_is_reported_at_once():
    found = problems({"delivery": {"max_attempts": -1, "webhooks": {"a": {}}}})
    assert {code for code, _, _ in found} == {"LS505", "LS502", "LS503"}


def test_an_unset_secret_variable_is_an_error_only_when_used(monkeypatch):
    monkeypatch.delenv("SALES_HOOK_SECRET", raising=False)
    channels = load_channels(tomllib.loads(EXAMPLE), source="leadscore.toml")  # loads fine
    with pytest.raises(LeadscoreError) as caught:
        channels.webhooks["sales"].resolve_secret()
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.code == "LS506"
    assert diagnostic.location.field == "delivery.webhooks.sales.secret_env"
    assert "SALES_HOOK_SECRET is not set" in diagnostic.message
    monkeypatch.setenv("SALES_HOOK_SECRET", "from-env")
    assert channels.webhooks["sales"].resolve_secret() == "from-env"
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    with pytest.raises(LeadscoreError, match="LS506"):
        channels.email["owners"].resolve_password()


def test_an_unknown_channel_name_suggests_the_nearest():
    channels = load_channels(tomllib.loads(EXAMPLE), source="leadscore.toml")
    with pytest.raises(LeadscoreError) as caught:
        channels.check("webhook", "sale")
    assert caught.value.diagnostics[0].code == "LS507"
    assert caught.value.diagnostics[0].hint == "did you mean 'sales'?"
    with pytest.raises(LeadscoreError, match="LS507"):
        load_channels({}, source="x").find("email", "owners")


def test_a_project_folder(tmp_path):
    from leadscore.project.config import ProjectConfig

    def channels_of(root):
        return load_channels(ProjectConfig.load(root).data, source=str(root))

    assert not channels_of(tmp_path).webhooks
    (tmp_path / "leadscore.toml").write_text(EXAMPLE)
    assert set(channels_of(tmp_path).webhooks) == {"sales", "nurture"}
    (tmp_path / "leadscore.toml").write_text("[delivery\n")
    with pytest.raises(LeadscoreError, match="LS301"):
        channels_of(tmp_path)
