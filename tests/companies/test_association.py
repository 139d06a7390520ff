"""Which company a contact belongs to: company_id first, else the e-mail domain (a company
whose domain it is, else the domain itself), never a free-mail domain — and the SQL that groups
contacts in a run gives the same answers."""

from __future__ import annotations

import duckdb
import pytest

from leadscore.companies.association import FREE_MAIL_DOMAINS, FreeMail, company_of

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
