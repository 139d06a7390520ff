"""When a workflow decides who already qualified (docs/model.md, "Semantics"): a workflow is
*activated* by the first `process` (or worker pass) that sees it; each contact is checked
against a state trigger at its first processing after that. A contact created before the
activation that matches at that first check already qualified: it is enrolled only with
`enroll_existing: true`, otherwise only on a later transition into the trigger. A contact
created at or after the activation that matches is enrolled either way."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.automation.story import FIT_20, add_contact, day, make_project, send, settle

pytestmark = pytest.mark.slow

VISIT = ("visit", {"source": "organic_search"})
BLOG = ("page_view", {"url": "https://www.example.com/blog/post"})
PRICING = ("page_view", {"url": "https://www.example.com/pricing"})
MQL_EVENTS = (VISIT, VISIT, VISIT, BLOG, BLOG, BLOG, BLOG, PRICING)

WORKFLOWS = """version: 1
workflows:
  - name: only-new
    trigger: {joins_list: mql}
    steps:
      - set_property: {owner: only-new}
  - name: everyone
    trigger: {joins_list: mql}
    enroll_existing: true
    steps:
      - set_property: {owner: everyone}
"""


def enrolled(project) -> set[tuple[str, str]]:
    with project.store.read() as connection:
        return {(w, c) for w, c in connection.execute(sa.text(
            "SELECT workflow, contact_id FROM enrollments"))}


def test_enroll_existing_decides_at_each_contacts_first_check(tmp_path, store_url):
    made = make_project(tmp_path / "enroll", store_url, "http://127.0.0.1:9/unused")
    root = made.config.root
    made.close()
    (root / "models" / "workflows.yaml").write_text(WORKFLOWS)
    project = type(made).open(root)
    try:
        add_contact(project, "old", day(0), **FIT_20)  # qualifies before any process
        send(project, "old", day(0), *MQL_EVENTS)
        add_contact(project, "late", day(0), **FIT_20)  # exists, does not qualify yet
        settle(project, day(1))  # the workflows are activated now
        assert enrolled(project) == {("everyone", "old")}

        add_contact(project, "new", day(1.5), **FIT_20)  # created after the activation
        send(project, "new", day(1.5), *MQL_EVENTS)
        send(project, "late", day(1.5), *MQL_EVENTS)  # a transition into the trigger
        settle(project, day(1.5))
        assert enrolled(project) == {("everyone", "old"), ("only-new", "new"),
                                     ("everyone", "new"), ("only-new", "late"),
                                     ("everyone", "late")}
    finally:
        project.close()
