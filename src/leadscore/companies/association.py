"""Which company a contact belongs to — one rule, in Python here (`company_of`) and in SQL
(`company_sql`), so that every engine groups contacts alike.

1. The contact's `company_id` property, when known (without surrounding spaces, tabs and line
   breaks; an empty text is unknown).
2. Otherwise its e-mail's domain (the text after the last `@`, trimmed alike and lowered):
   the company whose `domain` property is that domain (compared lowered), else a company
   named by the domain itself — contacts of one domain group even before the company is
   imported, as HubSpot creates companies from e-mail domains.
3. A free-mail domain (gmail.com, outlook.com, gmx.*, …: `FREE_MAIL_DOMAINS` plus the model's
   own) never groups: such a contact has no company unless its `company_id` says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Consumer mailbox providers. A pattern ending in `.*` stands for every top-level domain
# (gmx.de, gmx.net, gmx.at, …); nothing else is a pattern.
FREE_MAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "googlemail.com", "yahoo.*", "ymail.com", "rocketmail.com", "outlook.*",
    "hotmail.*", "live.*", "msn.com", "passport.com", "icloud.com", "me.com", "mac.com",
    "aol.*", "aim.com", "gmx.*", "web.de", "t-online.de", "freenet.de", "proton.me",
    "protonmail.com", "protonmail.ch", "pm.me", "tutanota.com", "tuta.io", "zoho.com",
    "zohomail.com", "mail.com", "email.com", "yandex.*", "ya.ru", "mail.ru", "bk.ru",
    "inbox.ru", "list.ru", "qq.com", "163.com", "126.com", "sina.com", "naver.com",
    "hanmail.net", "daum.net", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr",
    "libero.it", "virgilio.it", "tiscali.it", "btinternet.com", "sky.com", "virginmedia.com",
    "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net",
    "charter.net", "earthlink.net", "juno.com", "rediffmail.com", "seznam.cz", "wp.pl",
    "o2.pl", "interia.pl", "onet.pl", "bluewin.ch", "telenet.be", "skynet.be", "hey.com",
    "fastmail.com", "fastmail.fm", "hushmail.com", "mailbox.org", "posteo.de", "gmx.com",
)


class FreeMail:
    """The free-mail domains: exact names, and `name.*` patterns for every top-level domain."""

    def __init__(self, domains: Iterable[str]) -> None:
        self.exact: set[str] = set()
        self.stems: set[str] = set()  # "gmx" for "gmx.*"
        for domain in domains:
            domain = domain.strip().lower()
            if domain.endswith(".*"):
                self.stems.add(domain[:-2])
            elif domain:
                self.exact.add(domain)

    def __contains__(self, domain: str) -> bool:
        if domain in self.exact:
            return True
        stem, dot, _ = domain.rpartition(".")
        return bool(dot) and stem in self.stems

    def sql(self, domain: str) -> str:
        """The same test in SQL (DuckDB) over a lowered domain expression `domain`."""
        exact = ", ".join(_quote(d) for d in sorted(self.exact)) or "NULL"
        stems = ", ".join(_quote(d) for d in sorted(self.stems)) or "NULL"
        stem = f"regexp_replace({domain}, '\\.[^.]*$', '')"
        return (f"({domain} IN ({exact}) OR (strpos({domain}, '.') > 0 AND "
                f"{stem} IN ({stems})))")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


BLANK = " \t\n\r"  # what surrounds a value without being part of it (SQL: `_trim`)


def email_domain(email: object) -> str | None:
    """The e-mail's domain, lowered; None without a usable one."""
    if not isinstance(email, str):
        return None
    _, at, domain = email.rpartition("@")
    domain = domain.strip(BLANK).lower()
    return domain if at and domain else None


def company_of(company_id: object, email: object, free_mail: FreeMail,
               domains: Mapping[str, str]) -> str | None:
    """The contact's company id (None: it belongs to none). `domains`: a company's domain,
    lowered → its id."""
    if isinstance(company_id, str) and company_id.strip(BLANK):
        return company_id.strip(BLANK)
    if company_id is not None and not isinstance(company_id, str):
        return str(company_id)
    domain = email_domain(email)
    if domain is None or domain in free_mail:
        return None
    return domains.get(domain, domain)


def _trim(sql: str) -> str:
    return f"trim({sql}, ' ' || chr(9) || chr(10) || chr(13))"


def company_sql(company_id: str | None, email: str, mapped: str, free: FreeMail) -> tuple[
        str, str, str]:
    """`company_of` in DuckDB SQL: (the explicit id, the e-mail's domain, the company) over
    the expressions `company_id` (None: no such column), `email` and `mapped` (the company
    whose domain the domain column `ls_domain` is, from a join). The third reads the first
    two as columns `ls_explicit` and `ls_domain`."""
    explicit = ("CAST(NULL AS VARCHAR)" if company_id is None
                else f"NULLIF({_trim(f'CAST({company_id} AS VARCHAR)')}, '')")
    after_at = _trim(f"regexp_extract({email}, '@([^@]*)$', 1)")
    domain = f"CASE WHEN strpos({email}, '@') > 0 THEN NULLIF(lower({after_at}), '') END"
    company = (f"COALESCE(ls_explicit, CASE WHEN ls_domain IS NULL OR {free.sql('ls_domain')} "
               f"THEN NULL ELSE COALESCE({mapped}, ls_domain) END)")
    return explicit, domain, company
