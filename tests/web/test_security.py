"""The web app's locks: CSRF tokens on every form, the login limit, the session cookie's
flags, passwords never stored, and a salesperson held to their own leads."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadscore.web.session import COOKIE, LoginLimiter
from tests.web.conftest import EMAILS, PASSWORD, csrf_of, make_web


def test_a_form_without_its_token_does_nothing(web):
    lead = web.project.leads(limit=1, label="MQL")[0]
    before = web.project.contact_stage(lead.contact_id)
    browser = web.browser("sales")
    try:
        for token in ("", "forged"):
            answer = browser.post(f"/contacts/{lead.contact_id}/feedback",
                                  {"verdict": "true_sql"}, token=token)
            assert answer.status_code == 403
            assert "LS647" in answer.text
        assert web.project.contact_stage(lead.contact_id) == before
        users = len(web.project.users())
        admin = web.browser("admin")
        answer = admin.post("/admin/users", {"email": "x@example.com", "role": "sales",
                                             "password": "long enough pw"}, token="forged")
        assert answer.status_code == 403 and len(web.project.users()) == users
        admin.close()
    finally:
        browser.close()


def test_the_session_cookie_is_http_only_lax_and_secure_over_https(web):
    browser = web.browser()
    page = browser.get("/login")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(COOKIE + "=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    proxied = web.browser().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in proxied.headers["set-cookie"]
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_a_tampered_cookie_is_no_session(web):
    browser = web.browser("admin")
    value = browser.client.cookies[COOKIE]
    browser.client.cookies.set(COOKIE, value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert browser.get("/admin/users").headers["location"].startswith("/login")


def test_logging_out_ends_the_session(web):
    browser = web.browser("sales")
    token = csrf_of(browser.get("/leads").text)
    assert browser.post("/logout", token=token).headers["location"] == "/login"
    assert browser.get("/leads").status_code == 303


def test_a_disabled_user_is_out_at_the_next_request(web):
    made = web.project.create_user("gone@example.com", "sales", PASSWORD)
    browser = web.browser()
    assert browser.log_in("gone@example.com").status_code == 303
    assert browser.get("/leads").status_code == 200
    web.project.update_user(made.id, disabled=True)
    assert browser.get("/leads").status_code == 303
    assert browser.log_in("gone@example.com").status_code == 401


def test_logins_are_limited_per_email(web):
    browser = web.browser()
    email = EMAILS["marketing"]
    for _ in range(5):
        assert browser.log_in(email, "wrong password").status_code == 401
    refused = browser.log_in(email)  # the right password, too late
    assert refused.status_code == 429 and "LS646" in refused.text
    assert web.browser().log_in(EMAILS["sales"]).status_code == 303  # others may


def test_the_limiter_counts_a_sliding_window_per_email_and_per_client():
    now = [0.0]
    limiter = LoginLimiter(per_email=3, per_client=5, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.wait("a", "1.2.3.4") == 0
        limiter.failed("a", "1.2.3.4")
    assert limiter.wait("a", "9.9.9.9") == 60
    assert limiter.wait("b", "1.2.3.4") == 0
    limiter.failed("b", "1.2.3.4")
    limiter.failed("c", "1.2.3.4")
    assert limiter.wait("d", "1.2.3.4") == 60  # five from this client
    now[0] = 61
    assert limiter.wait("a", "1.2.3.4") == 0


def test_only_an_argon2_hash_is_stored(web):
    user = web.project.find_user(EMAILS["sales"])
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert web.project.check_login(EMAILS["sales"].upper(), PASSWORD) is not None
    assert web.project.check_login(EMAILS["sales"], PASSWORD + "x") is None


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    made = make_web(tmp_path_factory.mktemp("own"), own=True)
    yield made
    made.app.state.served.close()
    made.project.close()


def test_a_salesperson_held_to_their_own_leads_sees_no_one_elses(own, tmp_path: Path):
    project = own.project
    everyone = project.leads(limit=None)
    mine, theirs = everyone[0].contact_id, everyone[1].contact_id
    project.ingest_contacts([
        {"contact_id": mine, "properties": {"owner": EMAILS["sales"].upper()}},
        {"contact_id": theirs, "properties": {"owner": "someone@example.com"}}])
    sales = own.browser("sales")
    page = sales.get("/leads")
    assert page.status_code == 200
    assert f"/contacts/{mine}" in page.text and f"/contacts/{theirs}" not in page.text
    assert page.text.count('href="/contacts/') == 1
    assert sales.get(f"/contacts/{mine}").status_code == 200
    assert sales.get(f"/contacts/{theirs}").status_code == 404
    refused = sales.post(f"/contacts/{theirs}/feedback", {"verdict": "true_sql"})
    assert refused.status_code == 404
    marketing = own.browser("marketing")  # other roles see everyone
    assert f"/contacts/{theirs}" in marketing.get("/leads?size=100").text
