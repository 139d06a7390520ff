"""The marketer's pages beyond the model: the funnel, the lists (definition, members, joins and
leaves, a contact tested) and the workflows (enrollments, steps, dead letters retried)."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from leadscore.project import Project
from tests.web.conftest import csrf_of


def test_the_funnel_counts_stages_now_and_their_moves(web):
    marketer = web.browser("marketing")
    page = marketer.get("/funnel")
    assert page.status_code == 200
    found = web.project.funnel()
    now = web.project.stats()["stages"]
    for stage, count in now.items():
        if count:
            assert f"{stage}</text>" in page.text and f">{count:,}</text>" in page.text
    for _before, _after, base, went_on in found.conversion:
        if base:
            assert f"{100 * went_on / base:.1f}%" in page.text
    assert found.reached[found.stages[0]] >= found.reached[found.stages[1]]
    moved = sum(n for _, _, _, n in found.moves)
    assert moved == len([c for lead in web.project.leads(limit=None)
                         for c in web.project.stage_history(lead.contact_id)
                         if c.changed_at >= found.since])
    assert marketer.get("/funnel?weeks=0").status_code == 422


def test_a_list_shows_its_definition_members_activity_and_tests_a_contact(web):
    marketer = web.browser("marketing")
    index = marketer.get("/lists")
    for name, members, _ in web.project.list_counts():
        assert f'href="/lists/{name}"' in index.text and f">{members:,}</td>" in index.text
    page = marketer.get("/lists/sql")
    assert page.status_code == 200
    assert "score: total" in page.text and "label: SQL" in page.text  # as written
    member = web.project.list_members("sql", limit=1).items[0].contact_id
    assert f'href="/contacts/{member}"' in page.text
    joins = sum(j for _, j, _ in web.project.list_page("sql").activity)
    assert joins >= web.project.list_members("sql", limit=None).total
    tested = marketer.get(f"/lists/sql?contact={member}")
    assert "is a member" in tested.text and "✓" in tested.text
    other = web.project.leads(label="Lead", limit=1)[0].contact_id
    assert "is not a member" in marketer.get(f"/lists/sql?contact={other}").text
    missing = marketer.get("/lists/sql?contact=nobody")
    assert missing.status_code == 422 and "LS310" in missing.text
    assert marketer.get("/lists/nope").status_code == 404


def test_company_lists_show_their_member_companies(web):
    marketer = web.browser("marketing")
    index = marketer.get("/lists")
    counts = web.project.company_list_counts()
    assert counts and counts[0][1] > 0, "the example's company list has members"
    for name, members, _ in counts:
        assert f'href="/company-lists/{name}"' in index.text
        assert f">{members:,}</td>" in index.text
        page = marketer.get(f"/company-lists/{name}")
        assert page.status_code == 200 and f"{members:,} companies" in page.text
        for member in web.project.company_list_members(name, limit=200).members:
            assert f'href="/companies/{member.company.company_id}"' in page.text
    assert marketer.get("/company-lists/nope").status_code == 404
    assert web.browser("sales").get(f"/company-lists/{counts[0][0]}").status_code == 403


class Refusing(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(400)
        self.end_headers()
        self.wfile.write(b'{"ok": false}')

    def log_message(self, *args: object) -> None:
        pass


def test_dead_letters_are_listed_and_retried(tmp_path):
    from tests.web.conftest import make_web

    made = make_web(tmp_path)
    receiver = HTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    config = tmp_path / "leadscore.toml"
    config.write_text(re.sub(r'url = "http://127\.0\.0\.1:\d+/',
                             f'url = "http://127.0.0.1:{receiver.server_address[1]}/',
                             config.read_text()))
    try:
        sender = Project.open(tmp_path)
        sender.process()  # the receiver refuses: each notification is a dead letter at once
        sender.close()
        dead = made.project.outbox(status="dead", limit=None)
        assert dead, "no notification went dead"
        marketer = made.browser("marketing")
        page = marketer.get("/workflows")
        for item in dead:
            assert f'name="ids" value="{item.id}"' in page.text
        for name, _counts in made.project.workflow_summary().workflows:
            assert f"<td>{name}</td>" in page.text
        chosen = dead[0].id
        done = marketer.post("/workflows/retry", {"ids": [chosen]}, token=csrf_of(page.text))
        assert done.headers["location"] == "/workflows?retried=1"
        assert "1 dead letter moved back to pending" in marketer.get(done.headers["location"]).text
        assert [i.id for i in made.project.outbox(status="pending", limit=None)
                if i.id == chosen] == [chosen]
        assert len(made.project.outbox(status="dead", limit=None)) == len(dead) - 1
    finally:
        receiver.shutdown()
        made.app.state.served.close()
        made.project.close()
