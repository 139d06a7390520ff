"""Every page and every action of the web app, as each role and as nobody: what the role may
do answers (a page, or a redirect that is not to the login page), the rest is 403 or a
redirect to the login page — and never shows the data behind it (issue 11, item 2)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import EMAILS, ROLES

# (method, path, what it needs) — written out here, not read from the app, so that a page
# whose permission is changed by mistake fails; a route missing from here fails the next test
SALES = {"leads", "contacts", "companies", "feedback", "tasks"}
MARKETING = SALES | {"models", "funnel", "lists", "workflows", "reports"}
GRANTS = {"sales": SALES, "marketing": MARKETING, "admin": MARKETING | {"users", "keys"}}
ROUTES = [
    ("GET", "/leads", "leads"),
    ("GET", "/contacts/{contact}", "contacts"),
    ("POST", "/contacts/{contact}/feedback", "feedback"),
    ("GET", "/companies", "companies"),
    ("GET", "/companies/{company}", "companies"),
    ("GET", "/tasks", "tasks"),
    ("POST", "/tasks/{task}/done", "tasks"),
    ("GET", "/model", "models"),
    ("POST", "/model/draft", "models"),
    ("GET", "/funnel", "funnel"),
    ("GET", "/lists", "lists"),
    ("GET", "/lists/{list}", "lists"),
    ("GET", "/company-lists/{clist}", "lists"),
    ("GET", "/workflows", "workflows"),
    ("POST", "/workflows/retry", "workflows"),
    ("GET", "/reports", "reports"),
    ("POST", "/reports", "reports"),
    ("GET", "/reports/{job}", "reports"),
    ("GET", "/admin/users", "users"),
    ("POST", "/admin/users", "users"),
    ("POST", "/admin/users/{user}", "users"),
    ("GET", "/admin/keys", "keys"),
    ("POST", "/admin/keys", "keys"),
    ("POST", "/admin/keys/{key}/revoke", "keys"),
]
PUBLIC = {("GET", "/"), ("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}


def test_every_route_of_the_app_is_in_the_matrix(web):
    found = set()
    mounted = next(r for r in web.app.routes if getattr(r, "name", None) == "web")
    for path, methods in mounted.app.openapi()["paths"].items():  # the web app, at /
        found |= {(method.upper(), path) for method in methods}
    listed = {(method, path.replace("{contact}", "{contact_id}").replace("{task}", "{task_id}")
               .replace("{user}", "{user_id}").replace("{key}", "{key_id}")
               .replace("{list}", "{name}").replace("{clist}", "{name}")
               .replace("{job}", "{job_id}")
               .replace("{company}", "{company_id}"))
              for method, path, _ in ROUTES}
    assert found - PUBLIC == listed


@pytest.fixture(scope="module")
def ids(web):
    lead = web.project.leads(limit=1)[0]
    task = web.project.tasks(limit=1).items
    spare = web.project.create_user("spare@example.com", "sales", "a long password 1")
    key = web.project.create_api_key(["read"], name="spare")
    return {"contact": lead.contact_id, "task": task[0].id if task else 1,
            "user": spare.id, "key": key.key.id, "email": lead.email or lead.contact_id,
            "list": "sql", "clist": web.project.company_list_counts()[0][0], "job": "none",
            "company": web.project.companies(limit=1)[0].company_id}


def _body(method: str, path: str, n: int, web: Any) -> dict[str, object]:
    if path == "/reports":
        return {"kind": "backtest", "target": "no-such-target"}  # refused at once: 422
    if path == "/model/draft":
        return {"text": web.project.model_table().text}
    if path == "/contacts/{contact}/feedback":
        return {"verdict": "true_sql"}
    if path == "/admin/users":
        return {"email": f"new{n}@example.com", "role": "sales", "password": "long enough pw"}
    if path == "/admin/users/{user}":
        return {"role": "sales"}
    if path == "/admin/keys":
        return {"scopes": ["read"], "name": f"matrix {n}"}
    return {}


@pytest.mark.parametrize("role", [*ROLES, None])
def test_each_role_gets_what_it_may_and_nothing_else(web, ids, role):
    browser = web.browser(role)
    try:
        secrets_shown = {"contacts": ids["email"], "users": EMAILS["admin"],
                         "keys": "spare", "leads": ids["email"], "models": "Target country",
                         "lists": "Sales qualified leads", "workflows": "mql-stage",
                         "reports": "Run a report"}
        for n, (method, template, needs) in enumerate(ROUTES):
            path = template.format(**ids)
            if method == "GET":
                answer = browser.get(path)
            else:
                answer = browser.post(path, _body(method, template, n, web))
            where = f"{role or 'nobody'} {method} {path}"
            allowed = role is not None and needs in GRANTS[role]
            if allowed:  # answered: a page, a redirect, a mistake shown (422) or not found
                assert answer.status_code in (200, 303, 404, 422), \
                    f"{where}: {answer.status_code}"
                if answer.status_code == 303:
                    assert not answer.headers["location"].startswith("/login"), where
            else:
                assert answer.status_code in (303, 403), f"{where}: {answer.status_code}"
                if answer.status_code == 303:
                    assert answer.headers["location"].startswith("/login"), where
                shown = secrets_shown.get(needs)
                if shown is not None and not (role is not None and shown == EMAILS.get(role)):
                    assert shown not in answer.text, f"{where} showed {shown}"
    finally:
        browser.close()


def test_nobody_is_sent_to_log_in_and_comes_back_after(web):
    browser = web.browser()
    answer = browser.get("/tasks?owner=x")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Ftasks%3Fowner%3Dx"
    page = browser.get(answer.headers["location"])
    assert 'name="next" value="/tasks?owner=x"' in page.text
    from tests.web.conftest import PASSWORD, csrf_of

    done = browser.client.post("/login", data={
        "email": EMAILS["sales"], "password": PASSWORD, "csrf": csrf_of(page.text),
        "next": "/tasks?owner=x"})
    assert done.status_code == 303 and done.headers["location"] == "/tasks?owner=x"
    # never elsewhere: another host is not a place to go after logging in
    other = web.browser()
    page = other.get("/login")
    done = other.client.post("/login", data={
        "email": EMAILS["sales"], "password": PASSWORD, "csrf": csrf_of(page.text),
        "next": "//evil.example/"})
    assert done.headers["location"] == "/leads"
