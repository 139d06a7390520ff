"""The web app in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium, the
system package `chromium`, which `make` installs when it can) against `leadscore serve` on a
free port. The journeys of issue 11: a salesperson reads why the top SQL lead scores, says
'not ready' and sees it fall to MQL and leave the SQL leads; an admin creates a user and an
API key. Every page visited is saved as a screenshot in build/screenshots/.

Without Playwright or a browser the tests skip, saying why — except under CI=true, where
they must run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from leadscore import synthetic
from tests.api.conftest import make_project
from tests.web.conftest import EMAILS, PASSWORD

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "build" / "screenshots"
CHROMIUM = os.environ.get("LEADSCORE_CHROMIUM", "/usr/bin/chromium")


def _browser_or_skip():  # type: ignore[no-untyped-def]
    why = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        why = "the playwright package is not installed (pip install -e '.[dev]')"
        sync_playwright = None  # noqa: N806
    if why is None and not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        why = f"no Chromium at {CHROMIUM} (apt-get install chromium; make does it as root)"
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"under CI the browser tests must run: {why}")
        pytest.skip(why)
    return sync_playwright


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser")
    project = make_project(root)
    data = synthetic.generate(120, 2400, seed=5, now=datetime.now(UTC), days=120)
    synthetic.write_outcomes_csv(data, root / "outcomes.csv")  # for the Reports page
    project.import_outcomes(root / "outcomes.csv")
    for role, email in EMAILS.items():
        project.create_user(email, role, PASSWORD)
    project.close()
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("LEADSCORE_STORE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "leadscore", "serve", "--port", "0"],
                               cwd=root, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    first = process.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)", first)
    if found is None:
        process.kill()
        raise AssertionError(f"no address in {first!r}: {process.stderr.read()}")  # type: ignore
    try:
        yield f"http://127.0.0.1:{found.group(1)}"
    finally:
        process.terminate()
        process.communicate(timeout=60)


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    sync_playwright = _browser_or_skip()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=["--no-sandbox"])
        yield browser
        browser.close()


class Journey:
    """One person's tab; `shot(name)` saves the page as build/screenshots/NAME.png."""

    def __init__(self, chromium, base: str) -> None:  # type: ignore[no-untyped-def]
        self.context = chromium.new_context(viewport={"width": 1366, "height": 800})
        self.page = self.context.new_page()
        self.base = base
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(m.text)
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))

    def go(self, path: str, status: int = 200) -> None:
        before = len(self.problems)
        answer = self.page.goto(self.base + path)
        assert answer is not None and answer.status == status, (path, answer and answer.status)
        if status >= 400:  # the page itself, as expected: the browser logs it as an error
            self.problems[before:] = [p for p in self.problems[before:]
                                      if f"status of {status}" not in p]

    def answered(self, status: int) -> None:
        """The page just shown answered `status`, as expected (e.g. 422 for a mistake)."""
        self.problems[:] = [p for p in self.problems if f"status of {status}" not in p]

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def log_in(self, email: str, password: str = PASSWORD) -> None:
        self.go("/")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")

    def close(self) -> None:
        assert self.problems == [], self.problems  # no script error, nothing the CSP refused
        self.context.close()


def test_a_salesperson_says_the_top_lead_is_not_ready_and_it_falls_to_mql(server, chromium):
    me = Journey(chromium, server)
    me.go("/")
    me.shot("login")
    me.log_in(EMAILS["sales"])
    me.page.wait_for_url("**/leads")
    me.shot("leads")
    me.page.select_option("select[name=stage]", "sql")
    me.page.click("form.filters button[type=submit]")
    me.page.wait_for_url(re.compile(r".*stage=sql.*"))
    me.shot("leads-sql")
    top = me.page.locator("#leads tbody tr").first
    email = top.locator("td").nth(1).locator("a").inner_text()
    top.locator("td").nth(1).locator("a").click()
    me.page.wait_for_url("**/contacts/*")
    contact = me.page.url.rsplit("/", 1)[1]
    assert me.page.text_content("#stage") == "sql"
    breakdown = me.page.locator("section.breakdown").first
    assert breakdown.locator("tr.matched").count() >= 1  # why it scores: matched rules
    assert me.page.locator("svg.chart").count() >= 1
    me.shot("contact")
    me.page.click("button.fb-not_ready")
    me.page.wait_for_selector("#feedback-result")
    assert "Stage: sql → mql" in me.page.text_content("#feedback-result")
    assert me.page.text_content("#stage") == "mql"
    me.shot("contact-after-not-ready")
    me.go("/leads?stage=sql&size=100")
    assert contact not in me.page.content() and email not in me.page.inner_text("main")
    me.go("/tasks")
    me.shot("tasks")
    me.go("/admin/users", status=403)
    assert "Not allowed" in me.page.inner_text("h1")
    me.shot("forbidden")
    me.close()


def test_a_marketer_fixes_a_draft_and_sees_which_contacts_would_change(server, chromium,
                                                                       tmp_path):
    me = Journey(chromium, server)
    me.log_in(EMAILS["marketing"])
    me.page.wait_for_url("**/leads")
    me.page.click("nav >> text=Model")
    me.page.wait_for_url("**/model")
    me.shot("model")
    live = me.page.input_value("textarea[name=text]")
    line = live[:live.index("points: 5}")].count("\n") + 1
    draft = tmp_path / "draft.yaml"
    draft.write_text(live.replace("points: 5}", "pionts: 5}", 1))
    me.page.set_input_files("input[name=upload]", str(draft))
    me.page.click("#draft button[type=submit]")
    me.page.wait_for_selector("#problems")
    me.answered(422)
    shown = me.page.inner_text("#problems")
    assert f"model:{line}:" in shown and "LS103" in shown and "did you mean 'points'?" in shown
    assert "^^^^^^" in shown
    me.shot("model-draft-mistake")
    typed = me.page.input_value("textarea[name=text]")
    me.page.fill("textarea[name=text]", typed.replace("pionts: 5}", "points: 45}", 1))
    me.page.click("#draft button[type=submit]")
    me.page.wait_for_selector("#dry-run")
    assert me.page.locator("#problems").count() == 0
    changes = me.page.locator("#changes tbody tr")
    assert changes.count() >= 1
    first = changes.first.locator("td").nth(4).locator("a").first
    contact = first.inner_text()
    me.shot("model-dry-run")
    first.click()
    me.page.wait_for_url(f"**/contacts/{contact}")
    for name, path in (("funnel", "/funnel"), ("lists", "/lists"), ("list", "/lists/sql"),
                       ("workflows", "/workflows")):
        me.go(path)
        me.shot(name)
    me.go("/lists/sql")
    me.page.fill("input[name=contact]", contact)
    me.page.click("form.inline button[type=submit]")
    me.page.wait_for_selector("#list-test")
    me.shot("list-test")
    me.go("/reports")
    me.shot("reports")
    me.page.click("#new-report button[type=submit]")
    me.page.wait_for_selector("#report", timeout=300_000)  # reloading itself until done
    assert me.page.locator("img.report-chart").count() == 4
    me.shot("report")
    me.close()


def test_an_admin_creates_a_user_and_an_api_key(server, chromium):
    me = Journey(chromium, server)
    me.log_in(EMAILS["admin"])
    me.page.wait_for_url("**/leads")
    me.go("/admin/users")
    me.shot("users")
    form = me.page.locator("#new-user")
    form.locator("input[name=email]").fill("lee@example.com")
    form.locator("select[name=role]").select_option("marketing")
    form.locator("input[name=password]").fill("short")
    form.locator("button").click()  # the browser refuses a password under 10 characters
    assert me.page.url.endswith("/admin/users")
    form.locator("input[name=password]").fill("a long password for lee")
    form.locator("button").click()
    me.page.wait_for_selector("text=Created the user lee@example.com")
    assert "lee@example.com" in me.page.inner_text("#users")
    me.shot("users-created")
    me.go("/admin/keys")
    me.page.fill("#new-key input[name=name]", "website")
    me.page.check("#new-key input[value=ingest]")
    me.page.click("#new-key button")
    secret = me.page.inner_text("#new-secret")
    assert secret.startswith("lsk_")
    me.shot("keys-created")
    me.close()
    answer = httpx.post(server + "/v1/contacts", json={"contacts": []},  # the key works
                        headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code != 401, answer.text
    lee = Journey(chromium, server)
    lee.log_in("lee@example.com", "a long password for lee")
    lee.page.wait_for_url("**/leads")
    assert "lee@example.com · marketing" in lee.page.inner_text("header")
    lee.close()
