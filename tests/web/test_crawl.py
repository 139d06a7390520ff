"""A crawl of every link the web app shows, as each role, plus the forms' mistakes: no page
ever answers 5xx (issue 11, item 4)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest

from tests.web.conftest import ROLES

LINK = re.compile(r'href="([^"]+)"')
MOST = 250  # pages per role: every kind of page many times over
BAD_INPUT = ["/leads?label=nope", "/leads?stage=%00", "/leads?grade=Z9", "/leads?sort=nope",
             "/leads?after=garbage", "/leads?list=nope", "/leads?q=%25_%5C", "/leads?size=0",
             "/leads?page=-1", "/contacts/nobody", "/contacts/%2e%2e", "/contacts/x?at=garbage",
             "/contacts/x?at=1800-01-01", "/tasks?after=garbage", "/tasks?owner=%27",
             "/nothing", "/static/nothing.css", "/admin/users/1"]


def crawl(browser, start: str = "/leads") -> dict[str, int]:
    seen: dict[str, int] = {}
    queue = [start]
    while queue and len(seen) < MOST:
        path = queue.pop(0)
        if path in seen:
            continue
        answer = browser.get(path)
        seen[path] = answer.status_code
        if answer.status_code == 303:
            queue.append(answer.headers["location"])
            continue
        if "text/html" not in answer.headers.get("content-type", ""):
            continue
        for href in LINK.findall(answer.text):
            target = unescape(href)
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not target.startswith("/"):
                continue
            if target not in seen and not target.startswith("/logout"):
                queue.append(target)
    return seen


@pytest.mark.parametrize("role", [*ROLES, None])
def test_no_link_and_no_bad_input_answers_5xx(web, role):
    browser = web.browser(role)
    try:
        seen = crawl(browser)
        contact = next((p for p in seen if p.startswith("/contacts/")), "/contacts/x")
        for path in BAD_INPUT + [contact + "?at=2999-01-01", contact + "?at=now-10000d"]:
            seen[path] = browser.get(path).status_code
        broken = {path: status for path, status in seen.items() if status >= 500}
        assert broken == {}
        if role is not None:
            assert any(p.startswith("/contacts/") for p in seen), "the crawl found no contact"
            assert len(seen) > 20
    finally:
        browser.close()


def test_bad_filters_are_shown_beside_their_field_and_kept(web):
    browser = web.browser("sales")
    try:
        answer = browser.get("/leads?label=SQX&stage=sqll")
        assert answer.status_code == 422
        assert "did you mean &#39;SQL&#39;?" in answer.text or "did you mean 'SQL'?" in answer.text
        assert "unknown lifecycle stage &#39;sqll&#39;" in answer.text
        assert "<option selected>SQX</option>" in answer.text  # what was typed stays
        answer = browser.get("/contacts/" + web.project.leads(limit=1)[0].contact_id
                             + "?at=garbage")
        assert answer.status_code == 422
        assert 'value="garbage"' in answer.text and 'class="error"' in answer.text
    finally:
        browser.close()
