"""`leadscore ledger`: the score ledger — add, list and void entries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from leadscore.cli.context import open_project, parse_moment
from leadscore.cli.output import Format, console, print_json, print_rows

if TYPE_CHECKING:
    from leadscore.evaluation.ledger import LedgerEntry

ledger_app = typer.Typer(
    help="The score ledger: adjustments as entries (set to, change by, reset) with a reason, "
         "an author, an effective time and an optional expiry.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")


@ledger_app.command("add")
def ledger_add(
    contact: Annotated[str, typer.Argument(help="Contact id.")],
    score: Annotated[str, typer.Argument(help="The score the entry adjusts.")],
    set_to: Annotated[float | None, typer.Option(
        "--set", help="Set the score to this many points while the entry applies.")] = None,
    change_by: Annotated[float | None, typer.Option(
        "--change", help="Change the score by this many points (negative takes away).")
    ] = None,
    reset: Annotated[bool, typer.Option(
        "--reset", help="Take the score to 0 as of the effective time; points earned "
                        "afterwards count again (one change-by entry).")] = False,
    reason: Annotated[str | None, typer.Option(
        help="manual, correction, reset, not_ready, unqualified or workflow "
             "(default: manual; reset for --reset).")] = None,
    note: Annotated[str | None, typer.Option(help="Free text: why.")] = None,
    by: Annotated[str | None, typer.Option(help="Who makes the entry.")] = None,
    effective: Annotated[str | None, typer.Option(
        help="When it starts to apply (default: now), e.g. 2027-01-01.")] = None,
    expires: Annotated[str | None, typer.Option(
        help="When it stops applying (default: never).")] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Add a score ledger entry for a contact (the contact is rescored by the next `process`
    or `score`)."""
    project = open_project()
    entry = project.add_ledger_entry(
        contact, score, set_to=set_to, change_by=change_by, reset=reset, reason=reason,
        note=note, author=by, effective=parse_moment(effective, "--effective"),
        expires=parse_moment(expires, "--expires"))
    if fmt is Format.json:
        print_json(entry.to_dict())
        return
    console.print(f"Entry {entry.id}: {contact} {score} {entry.describe()} ({entry.reason}).",
                  markup=False)


@ledger_app.command("list")
def ledger_list(
    contact: Annotated[str | None, typer.Argument(help="Contact id (default: every contact).")
    ] = None,
    voided: Annotated[bool, typer.Option("--all", help="Voided entries too.")] = False,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Score ledger entries, oldest first."""
    entries = open_project(reading=True).ledger_entries(contact, voided=voided)
    if fmt is Format.json:
        print_json([e.to_dict() for e in entries])
        return
    print_rows(["id", "contact", "score", "entry", "reason", "effective", "expires", "by",
                "note", "voided"], [_row(e) for e in entries], fmt,
               title="Score ledger" + (f" of {contact}" if contact else ""))


@ledger_app.command("void")
def ledger_void(
    entry: Annotated[int, typer.Argument(help="The entry's id (`ledger list`).")],
    by: Annotated[str | None, typer.Option(help="Who voids it.")] = None,
    note: Annotated[str | None, typer.Option(help="Free text: why.")] = None,
) -> None:
    """Void an entry: it no longer counts in any score; it stays listed (`list --all`)."""
    found = open_project().void_ledger_entry(entry, by=by, note=note)
    console.print(f"Entry {found.id} ({found.contact_id} {found.score} {found.describe()}) "
                  "voided.", markup=False)


def _row(entry: LedgerEntry) -> list[str | int | None]:
    shown = entry.to_dict()
    return [entry.id, entry.contact_id, entry.score, entry.describe(), entry.reason,
            (shown["effective_at"] or "")[:19], (shown["expires_at"] or "")[:19],
            entry.author, entry.note, (shown["voided_at"] or "")[:19] or None]
