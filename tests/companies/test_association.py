"""Which company a contact belongs to: company_id first, else the e-mail domain (a company
whose domain it is, else the domain itself), never a free-mail domain — and the SQL that groups
contacts in a run gives the same answers."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.companies.association import FREE_MAIL_DOMAINS, FreeMail, company_of, company_sql

FREE = FreeMail([*FREE_MAIL_DOMAINS, "mail.example.org", "webmail.*"])
DOMAINS = {"acme.com": "acme"}


@pytest.mark.parametrize(("company_id", "email", "expected"), [
    ("acme", "x@gmail.com", "acme"),            # company_id wins, even over free mail
    ("  acme ", None, "acme"),
    ("", "ann@acme.com", "acme"),               # empty: the domain, then its company
    (None, "ann@ACME.com ", "acme"),
    (None, "fay@initech.com", "initech.com"),   # no company has it: the domain itself
    (None, "bob@gmail.com", None),
    (None, "bob@gmx.de", None),                 # gmx.* : every top-level domain
    (None, "bob@gmx.net", None),
    (None, "bob@mail.gmx.de", "mail.gmx.de"),   # a sub-domain is not the free-mail domain
    (None, "bob@mail.example.org", None),       # the model's own additions
    (None, "bob@webmail.fr", None),
    (None, "no-at-sign", None),
    (None, "trailing@", None),
    (None, None, None),
    (42, None, "42"),
])
def test_company_of(company_id, email, expected):
    assert company_of(company_id, email, FREE, DOMAINS) == expected


def test_the_sql_free_mail_test_agrees():
    domains = ["gmail.com", "gmx.de", "gmx.co.uk", "gmx", "mail.gmx.de", "acme.com",
               "yahoo.co.jp", "outlook.fr", "webmail.fr", "webmail", "proton.me", "o'hara.com"]
    connection = duckdb.connect()
    for domain in domains:
        found = connection.execute(f"SELECT {FREE.sql('d')} FROM (SELECT ? AS d)",
                                   [domain]).fetchone()[0]
        assert bool(found) == (domain in FREE), domain


PIECES = ["ann", "B", "@", "@@", ".", " ", "\t", "\n", "acme.com", "ACME.COM", "gmail.com",
          "gmx.de", "gmx.co.uk", "mail.example.org", "webmail.fr", "é", "initech.com", ""]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), st.lists(st.sampled_from(PIECES), max_size=3).map("".join)),
       st.one_of(st.none(), st.lists(st.sampled_from(PIECES), max_size=5).map("".join)))
def test_the_sql_association_agrees_with_python(company_id, email):
    explicit, domain, company = company_sql("c.company_id", "c.email", "m.company_id", FREE)
    connection = duckdb.connect()
    connection.execute("CREATE TABLE ls_domains AS SELECT * FROM (VALUES ('acme.com', 'acme'))"
                       " AS t(domain, company_id)")
    found = connection.execute(f"""
        WITH d AS (SELECT {explicit} AS ls_explicit, {domain} AS ls_domain
                   FROM (SELECT CAST(? AS VARCHAR) AS company_id,
                                CAST(? AS VARCHAR) AS email) AS c)
        SELECT {company} FROM d LEFT JOIN ls_domains AS m ON m.domain = d.ls_domain""",
                               [company_id, email]).fetchone()[0]
    assert found == company_of(company_id, email, FREE, DOMAINS)
