"""The leads query's owner, list and search filters (the web app's Leads page), answered in
the store: the same contacts as filtering every lead by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
import sqlalchemy as sa

from leadscore.diagnostics import LeadscoreError
from tests.api.conftest import make_project
from tests.databases import create_database


@pytest.fixture(scope="module", params=["sqlite",
                                        pytest.param("postgresql", marks=pytest.mark.postgres)])
def project(request, tmp_path_factory):
    root: Path = tmp_path_factory.mktemp("filters")
    url = None
    if request.param == "postgresql":
        admin = request.getfixturevalue("postgres_admin")
        name = f"leadscore_filters_{secrets.token_hex(6)}"
        url = create_database(admin, name)
    made = make_project(root, url)
    yield made
    made.close()
    if url is not None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _ids(page) -> list[str]:
    return [lead.contact_id for lead in page]


def test_owner_list_and_search_keep_what_filtering_by_hand_keeps(project):
    everyone = project.leads(limit=None)
    assert len(everyone) > 50
    props = {lead.contact_id: project.contact(lead.contact_id).properties for lead in everyone}
    owners = sorted({str(p["owner"]) for p in props.values() if p.get("owner")})
    assert owners, "the synthetic contacts have owners"
    for owner in owners[:3]:
        expected = [c for c in _ids(everyone) if str(props[c].get("owner")) == owner]
        assert _ids(project.leads_page(owner=owner.upper(), limit=None)) == expected
    for name, _count, _ in project.list_counts():
        members = {m.contact_id for m in project.list_members(name, limit=None).items}
        expected = [c for c in _ids(everyone) if c in members]
        assert _ids(project.leads_page(in_list=name, limit=None)) == expected, name
    lead = everyone[3]
    assert lead.email
    part = lead.email.split("@")[0][1:5].upper()
    expected = [c.contact_id for c in everyone if part.lower() in (c.email or "").lower()
                or part.lower() in " ".join(str(props[c.contact_id].get(k) or "") for k in
                                             ("first_name", "last_name")).lower()]
    found = _ids(project.leads_page(search=part, limit=None))
    assert lead.contact_id in found and found == expected
    first = props[lead.contact_id].get("first_name")
    last = props[lead.contact_id].get("last_name")
    if first and last:
        assert lead.contact_id in _ids(project.leads_page(search=f"{first} {last}", limit=None))
    assert _ids(project.leads_page(search=lead.contact_id, limit=None))[:1] == [lead.contact_id]
    assert _ids(project.leads_page(search="%", limit=None)) == []  # no wildcard from outside


def test_filters_combine_and_page(project):
    everyone = project.leads(limit=None)
    owner = next(str(p) for lead in everyone
                 if (p := project.contact(lead.contact_id).properties.get("owner")))
    whole = _ids(project.leads_page(owner=owner, limit=None))
    pages, after = [], None
    while True:
        page = project.leads_page(owner=owner, limit=2, after=after)
        pages += _ids(page)
        after = page.cursor
        if after is None:
            break
    assert pages == whole
    sqls = _ids(project.leads_page(owner=owner, label="SQL", limit=None))
    assert set(sqls) <= set(whole)


def test_an_unknown_list_is_named(project):
    with pytest.raises(LeadscoreError) as raised:
        project.leads_page(in_list="nope")
    assert raised.value.diagnostics[0].code == "LS162"
    assert re.search("no list named 'nope'", raised.value.diagnostics[0].message)
