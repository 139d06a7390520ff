"""E-mail channels against a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import email
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from leadscore.delivery import deliver_due, enqueue, load_channels, outbox_item, outbox_items
from leadscore.delivery.senders import message_id
from tests.delivery.conftest import NOW


class Mailbox:
    """An aiosmtpd handler that keeps every message and can refuse the next ones."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []
        self.replies: list[str] = []  # answers to the next DATA commands, instead of 250
        self.refused_recipients: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:  # noqa: N802 - aiosmtpd's name
        if address in self.refused_recipients:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any,
                          envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        if self.replies:
            return self.replies.pop(0)
        parsed = email.message_from_bytes(envelope.content)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accept_leadscore(server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"leadscore" \
        and auth_data.password == b"hunter2"
    return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 or 535 itself


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port,
                            authenticator=accept_leadscore, auth_require_tls=False)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def mail_channels(port: int, **extra: Any):
    table = {"host": "127.0.0.1", "port": port, "from": "Leadscore <leadscore@example.com>",
             "to": "sales@example.com", "timeout": 5, **extra}
    return load_channels({"delivery": {"backoff_base": "2s", "email": {"owners": table}}},
                         source="test.toml")


def add_mail(store, key: str = "mail:1", **payload: Any) -> None:
    body = {"subject": "New SQL: Ada (score 91)", "text": "Ada Lovelace is an SQL now.\n"}
    body.update(payload)
    with store.write() as writer:
        enqueue(writer, key=key, kind="email", channel="owners", payload=body,
                contact_id="c1", workflow="sql-alert", now=NOW)


def test_a_message_is_sent_with_headers_from_the_key(store, mailbox):
    box, port = mailbox
    add_mail(store)
    add_mail(store, key="mail:2", to=["ada@example.com", "bob@example.com"])
    report = deliver_due(store, mail_channels(port), now=NOW)
    assert report.delivered == 2 and report.errors == []
    (sender, recipients, message), (_, others, _) = box.messages
    assert sender == "leadscore@example.com" and recipients == ["sales@example.com"]
    assert others == ["ada@example.com", "bob@example.com"]
    assert message["Subject"] == "New SQL: Ada (score 91)"
    assert message["From"] == "Leadscore <leadscore@example.com>"
    assert message["X-Leadscore-Idempotency-Key"] == "mail:1"
    assert message["Message-ID"] == message_id("mail:1", "leadscore@example.com")
    assert message["Message-ID"].endswith("@example.com>")
    assert message.get_content_type() == "text/plain"
    text = message.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert text == "Ada Lovelace is an SQL now.\n"
    assert {item.status for item in outbox_items(store)} == {"delivered"}


def test_login_with_a_password_from_the_environment(store, mailbox, monkeypatch):
    box, port = mailbox
    add_mail(store)
    channels = mail_channels(port, username="leadscore", password_env="LS_TEST_SMTP_PASSWORD")
    monkeypatch.delenv("LS_TEST_SMTP_PASSWORD", raising=False)
    report = deliver_due(store, channels, now=NOW)
    assert report.retried == 1 and "LS506" in report.errors[0].error
    monkeypatch.setenv("LS_TEST_SMTP_PASSWORD", "wrong")
    report = deliver_due(store, channels, now=NOW + timedelta(minutes=1))
    assert report.dead == 1 and "535" in report.errors[0].error  # a refused login is final
    assert box.messages == []


def test_a_good_login_sends(store, mailbox, monkeypatch):
    box, port = mailbox
    add_mail(store)
    monkeypatch.setenv("LS_TEST_SMTP_PASSWORD", "hunter2")
    channels = mail_channels(port, username="leadscore", password_env="LS_TEST_SMTP_PASSWORD")
    assert deliver_due(store, channels, now=NOW).delivered == 1
    assert len(box.messages) == 1


def test_smtp_replies_decide_retry_or_dead(store, mailbox):
    box, port = mailbox
    channels = mail_channels(port)
    add_mail(store, key="busy")
    add_mail(store, key="rejected")
    box.replies = ["451 4.3.0 try again later", "554 5.7.1 message refused"]
    report = deliver_due(store, channels, now=NOW)
    assert (report.retried, report.dead) == (1, 1)
    assert "451" in (outbox_item(store, "busy").last_error or "")
    assert "554" in (outbox_item(store, "rejected").last_error or "")
    assert deliver_due(store, channels, now=NOW + timedelta(seconds=5)).delivered == 1
    assert [message["X-Leadscore-Idempotency-Key"] for _, _, message in box.messages] == [
        "busy"]


def test_refused_recipients(store, mailbox):
    box, port = mailbox
    box.refused_recipients = {"gone@example.com"}
    add_mail(store, key="all-gone", to="gone@example.com")
    add_mail(store, key="one-gone", to="gone@example.com, ada@example.com")
    report = deliver_due(store, mail_channels(port), now=NOW)
    assert (report.delivered, report.dead) == (1, 1)
    assert "every recipient refused" in (outbox_item(store, "all-gone").last_error or "")
    partly = outbox_item(store, "one-gone")
    assert partly is not None and partly.status == "delivered"
    assert "gone@example.com" in (partly.last_error or "")
    assert box.messages[0][1] == ["ada@example.com"]


def test_messages_that_cannot_be_made_are_dead_at_once(store, mailbox):
    _, port = mailbox
    channels = load_channels({"delivery": {"email": {"owners": {
        "host": "127.0.0.1", "port": port, "from": "leadscore@example.com"}}}}, source="t")
    add_mail(store, key="nobody")
    add_mail(store, key="injected", subject="Hi\nBcc: everyone@example.com",
             to="ada@example.com")
    report = deliver_due(store, channels, now=NOW)
    assert report.dead == 2
    assert "no recipient" in (outbox_item(store, "nobody").last_error or "")
    assert "cannot build the e-mail" in (outbox_item(store, "injected").last_error or "")


def test_an_unreachable_server_is_retried(store):
    add_mail(store)
    report = deliver_due(store, mail_channels(free_port()), now=NOW)
    assert report.retried == 1 and "ConnectionRefusedError" in report.errors[0].error


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_starttls(store, tmp_path, monkeypatch):
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Mailbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True)
    controller.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test certificate
        add_mail(store)
        assert deliver_due(store, mail_channels(port, starttls=True), now=NOW).delivered == 1
    finally:
        controller.stop()
    assert len(handler.messages) == 1


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    return cert, key
