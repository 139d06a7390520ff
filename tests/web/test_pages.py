"""What the pages show and do, through the web app as a user uses it: the leads ranked and
filtered, a contact's breakdown, history and timeline, sales feedback acting at once, tasks
done, users and API keys made by an admin."""

from __future__ import annotations

import re

from tests.web.conftest import csrf_of


def _contacts(html: str) -> list[str]:
    return re.findall(r'<td><a href="/contacts/([^"]+)">', html)


def test_leads_are_ranked_by_the_chosen_score_and_paged(web):
    sales = web.browser("sales")
    first = sales.get("/leads?size=25")
    assert first.status_code == 200
    shown = _contacts(first.text)
    assert shown == [lead.contact_id for lead in web.project.leads(limit=25)]
    after = re.search(r'href="(/leads\?[^"]*after=[^"]+)"', first.text)
    assert after is not None
    second = sales.get(after.group(1).replace("&amp;", "&"))
    assert _contacts(second.text) == [lead.contact_id for lead in
                                      web.project.leads(limit=50)][25:50]
    assert "Page 2" in second.text
    other = [s for s in web.project.lead_choices().scores
             if s != web.project.lead_choices().primary][0]
    ranked = sales.get(f"/leads?sort={other}")
    assert _contacts(ranked.text) == [lead.contact_id for lead in
                                      web.project.leads(limit=25, sort=other)]
    sql = sales.get("/leads?label=SQL")
    assert _contacts(sql.text) == [lead.contact_id for lead in
                                   web.project.leads(limit=25, label="SQL")]


def test_a_contact_page_shows_every_rule_its_history_and_timeline(web):
    lead = web.project.leads(limit=1)[0]
    sales = web.browser("sales")
    page = sales.get(f"/contacts/{lead.contact_id}")
    assert page.status_code == 200
    explained = web.project.explain(lead.contact_id).to_dict()
    for name, score in explained["scores"].items():
        assert f'id="score-{name}"' in page.text
        for rule in score["rules"]:
            assert rule["rule"] in page.text
    assert page.text.count("<svg") >= 1 and 'class="line"' in page.text
    timeline = web.project.contact_timeline(lead.contact_id, limit=100)
    assert timeline and page.text.count('<span class="kind kind-') == len(timeline)
    kinds = {item.kind for item in timeline}
    assert {"event", "property"} <= kinds
    earlier = sales.get(f"/contacts/{lead.contact_id}?at=now-60d")
    assert earlier.status_code in (200, 422)


def test_the_timeline_shows_activity_or_changes_and_grows_on_request(web):
    lead = web.project.leads(limit=1)[0]
    sales = web.browser("sales")
    everything = web.project.contact_timeline(lead.contact_id, limit=10_000)
    events = [item for item in everything if item.kind == "event"]
    assert events and len(events) < len(everything)

    def kinds(html: str) -> list[str]:
        return re.findall(r'<span class="kind kind-([a-z]+)">', html)

    activity = sales.get(f"/contacts/{lead.contact_id}?show=activity&lines=5000")
    assert kinds(activity.text) == ["event"] * len(events)
    changes = sales.get(f"/contacts/{lead.contact_id}?show=changes&lines=5000")
    assert "event" not in kinds(changes.text)
    assert len(kinds(changes.text)) == len(everything) - len(events)
    few = sales.get(f"/contacts/{lead.contact_id}?lines=3")
    assert len(kinds(few.text)) == 3
    assert "lines=15" in few.text  # the link to five times as many
    assert sales.get(f"/contacts/{lead.contact_id}?show=nonsense").status_code == 200
    one = sales.get(f"/contacts/{lead.contact_id}?lines=0")  # edited by hand: at least one
    assert one.status_code == 200 and len(kinds(one.text)) == 1


def test_not_ready_drops_a_lead_to_mql_and_off_the_sql_list_at_once(web):
    sql = web.project.leads(label="SQL", stage="sql", limit=1)
    assert sql, "the synthetic project has an SQL lead"
    lead = sql[0].contact_id
    sales = web.browser("sales")
    assert lead in _contacts(sales.get("/leads?stage=sql&size=100").text)
    page = sales.get(f"/contacts/{lead}")
    done = sales.post(f"/contacts/{lead}/feedback", {"verdict": "not_ready"},
                      token=csrf_of(page.text))
    assert done.status_code == 303
    shown = sales.get(done.headers["location"])
    said = re.search(r'id="feedback-result">(.*?)</p>', shown.text)
    assert said is not None
    assert re.sub(r"<[^>]+>", "", said.group(1)) == "You said Not ready yet. Stage: sql → mql."
    assert lead not in _contacts(sales.get("/leads?stage=sql&size=100").text)
    assert web.project.contact_stage(lead) == "mql"


def test_a_task_is_marked_done(web):
    open_tasks = [t for t in web.project.tasks(limit=None).items if t.status != "done"]
    assert open_tasks
    task = open_tasks[0]
    sales = web.browser("sales")
    page = sales.get("/tasks")
    assert f"/tasks/{task.id}/done" in page.text
    done = sales.post(f"/tasks/{task.id}/done", token=csrf_of(page.text))
    assert done.headers["location"] == f"/tasks?done={task.id}"
    assert f"Task {task.id} is done." in sales.get(done.headers["location"]).text
    assert web.project.task(task.id).status == "done"


def test_an_admin_creates_a_user_who_can_log_in_and_an_api_key_shown_once(web):
    admin = web.browser("admin")
    bad = admin.post("/admin/users", {"email": "not an email", "role": "sales",
                                      "password": "short"})
    assert bad.status_code == 422
    assert "LS640" in bad.text and 'value="not an email"' in bad.text
    short = admin.post("/admin/users", {"email": "new.rep@example.com", "role": "sales",
                                        "password": "short"})
    assert "LS642" in short.text and 'value="new.rep@example.com"' in short.text
    made = admin.post("/admin/users", {"email": "New.Rep@example.com", "role": "sales",
                                       "password": "a fine long password"})
    assert made.status_code == 303
    assert "Created the user new.rep@example.com" in admin.get(made.headers["location"]).text
    again = admin.post("/admin/users", {"email": "new.rep@example.com", "role": "admin",
                                        "password": "a fine long password"})
    assert again.status_code == 422 and "LS643" in again.text
    rep = web.browser()
    assert rep.log_in("new.rep@example.com", "a fine long password").status_code == 303
    assert rep.get("/admin/users").status_code == 403
    none = admin.post("/admin/keys", {"name": "website"})
    assert none.status_code == 422 and "LS611" in none.text and 'value="website"' in none.text
    key = admin.post("/admin/keys", {"name": "website", "scopes": ["ingest", "read"]})
    secret = re.search(r'<code id="new-secret">([^<]+)</code>', key.text)
    assert key.status_code == 200 and secret is not None
    made_key = web.project.authenticate(secret.group(1))
    assert made_key is not None and made_key.scopes == ("ingest", "read")
    assert secret.group(1) not in admin.get("/admin/keys").text  # shown once
    revoked = admin.post(f"/admin/keys/{made_key.id}/revoke")
    assert revoked.status_code == 303
    assert web.project.authenticate(secret.group(1)) is None


def test_an_admin_cannot_lock_themselves_out(web):
    admin = web.browser("admin")
    me = web.project.find_user("ada@example.com")
    refused = admin.post(f"/admin/users/{me.id}", {"role": "sales"})
    assert refused.status_code == 422 and "LS648" in refused.text
    assert web.project.find_user("ada@example.com").role == "admin"


def test_a_draft_shows_each_mistake_at_its_line_then_dry_runs(web):
    marketer = web.browser("marketing")
    live = marketer.get("/model")
    assert live.status_code == 200
    table = web.project.model_table()
    for row in table.rules:
        assert row.rule in live.text
    # each rule says what it asks for, in the words `explain` uses
    import html

    shown = html.unescape(live.text)
    assert "page_view events where url matches '*/pricing*' in the last 30d" in shown
    assert "at least 2 page_view events where url matches '*/customers/*'" in shown
    assert all(row.when in shown for row in table.rules)
    text = table.text
    assert "points: 5}" in text
    line = text[:text.index("points: 5}")].count("\n") + 1
    wrong = text.replace("points: 5}", "pionts: 5}", 1)
    token = csrf_of(live.text)
    answer = marketer.client.post("/model/draft", data={"text": wrong, "csrf": token})
    assert answer.status_code == 422
    shown = re.findall(r'<pre class="diagnostic">(.*?)</pre>', answer.text, re.DOTALL)
    assert any(f"model:{line}:" in s and "LS103" in s and "did you mean &#39;points&#39;?" in s
               for s in shown), shown
    assert any(f"{line:>5} | " in s and "^^^^^^" in s for s in shown)  # the line, a caret
    assert "pionts: 5}" in answer.text  # what was sent stays in the editor
    fixed = text.replace("points: 5}", "points: 45}", 1)
    ran = marketer.client.post("/model/draft", data={"csrf": token},
                               files={"upload": ("draft.yaml", fixed.encode(), "text/yaml")})
    assert ran.status_code == 200
    report = web.project.dry_run_draft(fixed, limit=10)
    assert f"<b>{report.label_changes:,}</b> contacts would change label" in ran.text
    for change in report.changes:
        for cid in change.contact_ids:
            assert f'href="/contacts/{cid}"' in ran.text
    binary = marketer.client.post("/model/draft", data={"csrf": token},
                                  files={"upload": ("x.yaml", b"\xff\xfe\x00", "text/yaml")})
    assert binary.status_code == 422 and "is not UTF-8 text" in binary.text


def test_an_unscored_score_reads_unscored_not_0(web):
    """The example's `feedback` score is unscored without sales feedback: the contact page
    says `unscored`, the leads table (narrow) shows `—` where it would show 0."""
    lead = next(x for x in web.project.leads(limit=100) if "feedback" in x.unscored)
    sales = web.browser("sales")
    page = sales.get(f"/contacts/{lead.contact_id}")
    block = page.text[page.text.index('id="score-feedback"'):]
    assert "<h3>feedback: unscored" in block
    leads = sales.get("/leads?size=100").text
    row = leads[leads.index(f'/contacts/{lead.contact_id}"'):]
    row = row[:row.index("</tr>")]
    assert "unscored: no rule applied" in row
