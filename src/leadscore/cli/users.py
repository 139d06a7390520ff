"""`leadscore users`: the web app's users — create (the password from a prompt, or one line of
standard input with --password-stdin), list, and set a user's role, password or whether they
may log in."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from leadscore.cli.context import open_project
from leadscore.cli.output import Format, console, print_rows
from leadscore.diagnostics import LeadscoreError, Location

users_app = typer.Typer(help="Users of the web app: create, list, set.", no_args_is_help=True)
ROLE_HELP = "admin (everything, users and API keys), marketing (models, lists, workflows, " \
            "reports and all of sales) or sales (leads, contacts, feedback, tasks)."


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line.strip("\r\n"):
            raise LeadscoreError.single("LS642", "--password-stdin read no password",
                                        Location(field="--password-stdin"),
                                        hint="pipe one line: the password")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise LeadscoreError.single(
            "LS642", "no terminal to ask for the password", Location(field="password"),
            hint="pass --password-stdin and pipe the password on one line")
    first = typer.prompt("Password", hide_input=True)
    second = typer.prompt("Again", hide_input=True)
    if first != second:
        raise LeadscoreError.single("LS642", "the two passwords differ",
                                    Location(field="password"), hint="type the same one twice")
    return str(first)


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="The user's e-mail: they log in with it.")],
    role: Annotated[str, typer.Option(help=ROLE_HELP)],
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from one line of standard input "
                                 "(otherwise it is asked for, twice).")] = False,
) -> None:
    """Create a user of the web app (`leadscore serve`, at /)."""
    project = open_project()
    from leadscore.project.web_users import check_email, check_password, check_role

    check_email(email)
    check_role(role)
    password = _password(password_stdin)
    check_password(password)
    user = project.create_user(email, role, password)
    console.print(f"Created the {user.role} user {user.email}.", markup=False)


@users_app.command("list")
def users_list(fmt: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """Every user: e-mail, role, when made, and whether disabled (never the password)."""
    rows = [[u.id, u.email, u.role, u.created_at.isoformat(timespec="seconds"),
             u.disabled_at.isoformat(timespec="seconds") if u.disabled_at else ""]
            for u in open_project().users()]
    print_rows(["id", "email", "role", "created", "disabled"], rows, fmt, title="Users")


@users_app.command("set")
def users_set(
    email: Annotated[str, typer.Argument(help="The user's e-mail.")],
    role: Annotated[str | None, typer.Option(help=ROLE_HELP)] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="A new password, from one line of standard input.")] = False,
    disable: Annotated[bool, typer.Option("--disable", help="They may no longer log in.")
                       ] = False,
    enable: Annotated[bool, typer.Option("--enable", help="They may log in again.")] = False,
) -> None:
    """Change a user's role or password, or disable or enable them."""
    if disable and enable:
        raise LeadscoreError.single("LS644", "--disable and --enable together",
                                    Location(field="--disable"), hint="pass one of them")
    project = open_project()
    user = project.find_user(email)
    password = _password(True) if password_stdin else None
    changed = project.update_user(user.id, role=role, password=password,
                                  disabled=True if disable else False if enable else None)
    state = "disabled" if changed.disabled_at else "active"
    console.print(f"{changed.email}: {changed.role}, {state}.", markup=False)
