"""Webhook signatures: what is signed verifies; any change to body, timestamp or secret fails."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from leadscore.delivery import sign, verify, webhook_headers

STAMP = 1_790_000_000
secrets_ = st.text(min_size=1, max_size=40)
bodies = st.binary(max_size=300)
stamps = st.integers(min_value=1_000_000_000, max_value=4_000_000_000)


def test_sign_is_hmac_sha256_over_timestamp_dot_body():
    expected = hmac.new(b"key", b"1790000000.{\"a\":1}", hashlib.sha256).hexdigest()
    assert sign("key", STAMP, b'{"a":1}') == f"v1={expected}"
    assert sign(b"key", str(STAMP), '{"a":1}') == f"v1={expected}"


@given(secret=secrets_, stamp=stamps, body=bodies)
def test_what_is_signed_verifies(secret, stamp, body):
    assert verify(secret, stamp, body, sign(secret, stamp, body), now=stamp)
    assert verify(secret, str(stamp), body, sign(secret, stamp, body), now=stamp + 299)


@given(secret=secrets_, stamp=stamps, body=bodies, other=bodies)
def test_another_body_fails(secret, stamp, body, other):
    if other != body:
        assert not verify(secret, stamp, other, sign(secret, stamp, body), now=stamp)


@given(secret=secrets_, stamp=stamps, body=bodies, shift=st.integers(-200, 200))
def test_another_timestamp_fails(secret, stamp, body, shift):
    if shift:
        assert not verify(secret, stamp + shift, body, sign(secret, stamp, body), now=stamp)


@given(secret=secrets_, other=secrets_, stamp=stamps, body=bodies)
def test_another_secret_fails(secret, other, stamp, body):
    if other != secret:
        assert not verify(other, stamp, body, sign(secret, stamp, body), now=stamp)


@given(body=bodies, index=st.integers(min_value=0), bit=st.integers(0, 7))
def test_flipping_any_bit_of_the_body_fails(body, index, bit):
    if body:
        position = index % len(body)
        changed = bytearray(body)
        changed[position] ^= 1 << bit
        assert not verify("s", STAMP, bytes(changed), sign("s", STAMP, body), now=STAMP)


def test_stale_and_future_timestamps_are_rejected():
    signature = sign("s", STAMP, b"{}")
    assert verify("s", STAMP, b"{}", signature, now=STAMP + 300)
    assert not verify("s", STAMP, b"{}", signature, now=STAMP + 301)
    assert not verify("s", STAMP, b"{}", signature, now=STAMP - 301)
    assert verify("s", STAMP, b"{}", signature, now=STAMP + 3000, tolerance_seconds=3600)
    moment = datetime.fromtimestamp(STAMP + 10, UTC)
    assert verify("s", STAMP, b"{}", signature, now=moment)


def test_malformed_input_is_rejected_without_raising():
    signature = sign("s", STAMP, b"{}")
    assert not verify("s", None, b"{}", signature, now=STAMP)
    assert not verify("s", STAMP, b"{}", None, now=STAMP)
    assert not verify("s", "yesterday", b"{}", signature, now=STAMP)
    assert not verify("s", STAMP, b"{}", "v1=zz", now=STAMP)
    assert not verify("s", STAMP, b"{}", "v1=é", now=STAMP)
    assert not verify("s", STAMP, b"{}", signature.replace("v1=", "v0="), now=STAMP)


def test_several_signatures_pass_when_one_matches():
    """During a secret rotation a sender may send signatures by the old and the new secret."""
    both = f"{sign('old', STAMP, b'x')}, {sign('new', STAMP, b'x')}"
    assert verify("new", STAMP, b"x", both, now=STAMP)
    assert verify("old", STAMP, b"x", both, now=STAMP)
    assert not verify("other", STAMP, b"x", both, now=STAMP)


def test_headers_carry_signature_key_and_agent():
    headers = webhook_headers("s", "wf:1:step:2", b'{"a":1}', timestamp=STAMP)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Leadscore-Timestamp"] == str(STAMP)
    assert headers["X-Leadscore-Signature"] == sign("s", STAMP, b'{"a":1}')
    assert headers["Idempotency-Key"] == "wf:1:step:2"
    assert headers["User-Agent"].startswith("leadscore/")


def test_the_receiver_snippet_in_the_docs_verifies_what_leadscore_signs():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs/delivery.md").read_text()
    start = text.index("```python\nimport hashlib")
    snippet = text[start + len("```python\n"):text.index("```", start + 3)]
    namespace: dict = {}
    exec(compile(snippet, "docs/delivery.md", "exec"), namespace)  # noqa: S102
    headers = webhook_headers("s3cret", "k", b'{"a":1}')
    stamp, signature = headers["X-Leadscore-Timestamp"], headers["X-Leadscore-Signature"]
    assert namespace["verify"]("s3cret", stamp, b'{"a":1}', signature)
    assert not namespace["verify"]("s3cret", stamp, b'{"a":2}', signature)
    assert not namespace["verify"]("other", stamp, b'{"a":1}', signature)
    assert not namespace["verify"]("s3cret", str(int(stamp) - 3600), b'{"a":1}', signature)
