"""The Companies pages as sales uses them: companies ranked as `leadscore companies` ranks
them, filtered by label; a company's scores, every rule's verdict and its contacts."""

from __future__ import annotations

import html
import re


def test_companies_are_ranked_and_a_company_explained(web):
    sales = web.browser("sales")
    listed = sales.get("/companies")
    assert listed.status_code == 200 and "Companies" in listed.text
    shown = re.findall(r'<td><a href="/companies/([^"]+)">', listed.text)
    assert shown == [r.company_id for r in web.project.companies(limit=200)]
    hot = sales.get("/companies?label=Hot")
    assert re.findall(r'<td><a href="/companies/([^"]+)">', hot.text) == [
        r.company_id for r in web.project.companies(label="Hot", limit=200)]

    company = shown[0]
    page = sales.get(f"/companies/{company}")
    assert page.status_code == 200
    why = web.project.explain_company(company)
    for verdict in why.result.rules:
        assert html.escape(verdict.rule) in page.text
    members = re.findall(r'<td><a href="/contacts/([^"]+)">', page.text)
    assert sorted(members) == sorted(m["contact_id"] for m in why.contacts)
    assert 'id="why-account"' in page.text
    assert sales.get("/companies/no-such-company").status_code == 404
