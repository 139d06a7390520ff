"""The Reports page: a backtest and a comparison run from the page on a thread of their own,
their progress, then the text report beside the four charts; a bad draft's mistakes shown."""

from __future__ import annotations

import re
import time

import pytest

from leadscore import synthetic
from tests.web.conftest import csrf_of, make_web

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def web_with_outcomes(tmp_path_factory):
    from datetime import UTC, datetime

    root = tmp_path_factory.mktemp("reports")
    made = make_web(root)
    data = synthetic.generate(120, 2400, seed=5, now=datetime.now(UTC), days=120)
    synthetic.write_outcomes_csv(data, root / "outcomes.csv")
    made.project.import_outcomes(root / "outcomes.csv")
    yield made
    made.app.state.served.close()
    made.project.close()


def _finished(browser, location: str) -> str:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        page = browser.get(location)
        assert page.status_code == 200
        if 'id="progress"' not in page.text:
            return page.text
        assert 'http-equiv="refresh"' in page.text
        time.sleep(0.5)
    raise AssertionError("the report did not finish in 5 minutes")


def test_a_backtest_and_a_comparison_from_the_page(web_with_outcomes):
    web = web_with_outcomes
    marketer = web.browser("marketing")
    form = marketer.get("/reports")
    token = csrf_of(form.text)
    started = marketer.client.post("/reports", data={"kind": "backtest", "target":
                                                     "opportunity-or-won", "csrf": token})
    assert started.status_code == 303
    shown = _finished(marketer, started.headers["location"])
    assert "ROC AUC" in shown and 'id="report"' in shown
    assert len(re.findall(r'<img class="report-chart" alt="(\w+) chart"', shown)) == 4
    expected = web.project.report("backtest").text.splitlines()[0]
    assert expected.replace("'", "&#39;") in shown
    live = web.project.model_table().text
    wrong = live.replace("points: 5}", "pionts: 5}", 1)
    bad = marketer.client.post("/reports", data={"kind": "compare", "target": "won",
                                                 "draft": wrong, "csrf": token})
    failed = _finished(marketer, bad.headers["location"])
    assert "LS103" in failed and "did you mean &#39;points&#39;?" in failed
    good = marketer.client.post("/reports", data={
        "kind": "compare", "target": "opportunity-or-won", "csrf": token,
        "draft": live.replace("points: 5}", "points: 45}", 1)})
    compared = _finished(marketer, good.headers["location"])
    assert 'id="report"' in compared and len(re.findall(r'class="report-chart"', compared)) == 4
    listed = marketer.get("/reports").text
    assert listed.count('href="/reports/') == 3
    assert marketer.client.post("/reports", data={"kind": "x", "target": "y", "csrf": token}
                                ).status_code == 422
