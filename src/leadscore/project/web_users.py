"""The web app's users, as the project hands them out: `leadscore users` and the admin page
create them, change their role or password and disable them; the login form checks a
password. Passwords are hashed with argon2id (`argon2-cffi`, its default parameters) and only
the hash is stored (`storage.web_users`). E-mails are kept in lower case, so one person has one
account whatever the case typed.

Roles (`ROLES`) and what each may do (`PERMISSIONS`) live here, beside the users, so that the
web app and its tests read one table: sales works leads and accounts (reads leads, contacts,
companies and their explanations, gives feedback, works tasks); marketing does all of that
and edits models, lists and workflows and runs reports; admin does everything, and manages
users and API keys."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from leadscore.diagnostics import LeadscoreError, Location, did_you_mean

if TYPE_CHECKING:
    from leadscore.storage import Store
    from leadscore.storage.web_users import WebUser

ROLES = ("admin", "marketing", "sales")
SALES = frozenset({"leads", "contacts", "companies", "feedback", "tasks"})
MARKETING = SALES | {"models", "lists", "workflows", "reports", "funnel"}
PERMISSIONS: dict[str, frozenset[str]] = {
    "sales": SALES,
    "marketing": MARKETING,
    "admin": MARKETING | {"users", "keys"},
}
MIN_PASSWORD = 10  # characters
MAX_PASSWORD = 1024  # argon2 hashes any length; a longer one is a mistake or an attack
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SESSION_SECRET = "session_secret"  # the web_settings row of the cookie-signing key


def allowed(role: str, permission: str) -> bool:
    """Whether a user of `role` may use what `permission` names."""
    return permission in PERMISSIONS.get(role, frozenset())


def _hasher():  # imported when a password is hashed or checked: commands that never do so
    from argon2 import PasswordHasher  # never load it

    return PasswordHasher()


# a hash checked when the e-mail is unknown, so that a wrong e-mail takes as long as a wrong
# password (no telling which accounts exist by the time an answer takes)
_DECOY: list[str] = []


class WebUserOperations:
    """`Project`'s methods for the web app's users (see the module docstring)."""

    if TYPE_CHECKING:
        @property
        def store(self) -> Store: ...

    def create_user(self, email: str, role: str, password: str) -> WebUser:
        """A new user; LS640 (e-mail), LS641 (role), LS642 (password), LS643 (taken)."""
        from leadscore.storage.web_users import add_user

        address = check_email(email)
        check_role(role)
        check_password(password)
        digest = _hasher().hash(password)
        with self.store.write() as writer:
            made = add_user(writer.connection, email=address, role=role, password_hash=digest,
                            now=datetime.now(UTC))
        if made is None:
            raise LeadscoreError.single(
                "LS643", f"there is a user {address} already", Location(field="email"),
                text=email, hint="`leadscore users list` shows the users; change one with "
                                 "`leadscore users set`")
        return made

    def users(self) -> list[WebUser]:
        from leadscore.storage.web_users import all_users

        with self.store.read() as connection:
            return all_users(connection)

    def web_user(self, user_id: int) -> WebUser | None:
        """The user of this id, or None."""
        from leadscore.storage.web_users import user_by_id

        if not 0 < user_id < 2**63:
            return None
        with self.store.read() as connection:
            return user_by_id(connection, user_id)

    def find_user(self, email: str) -> WebUser:
        """The user of this e-mail; LS644 when there is none."""
        from leadscore.storage.web_users import user_by_email

        with self.store.read() as connection:
            found = user_by_email(connection, email.strip().lower())
        if found is None:
            raise LeadscoreError.single("LS644", f"no user {email}", Location(field="email"),
                                        text=email, hint="`leadscore users list` shows them")
        return found

    def update_user(self, user_id: int, *, role: str | None = None,
                    password: str | None = None, disabled: bool | None = None) -> WebUser:
        """Change a user's role, password, or whether it may log in; LS644 for no such
        user."""
        from leadscore.storage.web_users import update_user

        if role is not None:
            check_role(role)
        digest = None
        if password is not None:
            check_password(password)
            digest = _hasher().hash(password)
        found = None
        if 0 < user_id < 2**63:
            with self.store.write() as writer:
                found = update_user(writer.connection, user_id, role=role, password_hash=digest,
                                    disabled=disabled, now=datetime.now(UTC))
        if found is None:
            raise LeadscoreError.single("LS644", f"no user with id {user_id}",
                                        Location(field="user"),
                                        hint="`leadscore users list` shows the users")
        return found

    def check_login(self, email: str, password: str) -> WebUser | None:
        """The active user whose e-mail and password these are, or None (the same time is
        spent either way). Only reads: the web app checks a password (~0.6 s of argon2 on a
        busy 2-core machine) without holding the project's lock."""
        from argon2.exceptions import InvalidHashError, VerificationError

        from leadscore.storage.web_users import user_by_email

        hasher = _hasher()
        address = email.strip().lower()
        found = None
        if address and len(address) <= 320:
            with self.store.read() as connection:
                found = user_by_email(connection, address)
        if found is None or not found.active or len(password) > MAX_PASSWORD:
            if not _DECOY:
                _DECOY.append(hasher.hash(secrets.token_urlsafe(16)))
            try:
                hasher.verify(_DECOY[0], password[:MAX_PASSWORD] or "-")
            except (VerificationError, InvalidHashError):
                pass
            return None
        try:
            hasher.verify(found.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return found

    def web_secret(self) -> str:
        """The key that signs the web app's session cookies: made on first use and kept in
        the store, so that every process serving it (and a restart) accepts the same
        cookies."""
        from leadscore.storage.web_users import keep_setting, setting

        with self.store.read() as connection:
            found = setting(connection, SESSION_SECRET)
        if found is not None:
            return found
        with self.store.write() as writer:
            return keep_setting(writer.connection, SESSION_SECRET, secrets.token_urlsafe(48))


def check_email(email: str) -> str:
    address = email.strip().lower()
    if not _EMAIL.match(address) or len(address) > 320:
        raise LeadscoreError.single("LS640", f"'{email}' is not an e-mail address",
                                    Location(field="email"), text=email[:80],
                                    hint="e.g. ana@example.com")
    return address


def check_role(role: str) -> None:
    if role not in ROLES:
        raise LeadscoreError.single("LS641", f"unknown role '{role}'", Location(field="role"),
                                    text=role[:40], hint=did_you_mean(role, ROLES)
                                    or "roles: " + ", ".join(ROLES))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise LeadscoreError.single(
            "LS642", f"a password needs at least {MIN_PASSWORD} characters",
            Location(field="password"), hint="a few words strung together make a good one")
    if len(password) > MAX_PASSWORD:
        raise LeadscoreError.single(
            "LS642", f"a password may have at most {MAX_PASSWORD} characters",
            Location(field="password"))


__all__ = ["MIN_PASSWORD", "PERMISSIONS", "ROLES", "WebUserOperations", "allowed",
           "check_email", "check_password", "check_role"]
