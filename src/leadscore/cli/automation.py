"""Commands that act on scores: process, worker, lists, feedback, stages, outbox, tasks, log."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from leadscore.cli.context import open_project, parse_moment
from leadscore.cli.output import (
    Format,
    TextFormat,
    console,
    err_console,
    print_json,
    print_rows,
)
from leadscore.diagnostics import LeadscoreError, Location

if TYPE_CHECKING:  # each command imports what it needs when it runs: the CLI starts fast
    from leadscore.delivery.receiver import Received

list_app = typer.Typer(help="Active lists: members and tests.", no_args_is_help=True)
stage_app = typer.Typer(help="Lifecycle stages set by a person.", no_args_is_help=True)
outbox_app = typer.Typer(help="Outgoing notifications: pending, delivered, dead letters.",
                         invoke_without_command=True)


def register(app: typer.Typer) -> None:
    app.command()(receive)
    app.command()(process)
    app.command()(worker)
    app.command()(feedback)
    app.command()(tasks)
    app.command()(log)
    app.add_typer(list_app, name="list")
    app.add_typer(stage_app, name="stage")
    app.add_typer(outbox_app, name="outbox")


def process(
    deliver: Annotated[bool, typer.Option(help="Also send due notifications.")] = True,
    at: Annotated[str | None, typer.Option(help="Process as of this moment (testing).")] = None,
    per_contact: Annotated[bool, typer.Option(
        help="Every due contact through the per-contact path, even when many are due "
             "(slower; the same outcome).")] = False,
) -> None:
    """Process every due contact once: rescore, stages, lists, workflows; then deliver."""
    project = open_project()
    result = project.process(now=parse_moment(at), deliver=deliver, bulk=not per_contact)
    report = result.report
    console.print(f"Processed {report.contacts:,} contacts in {report.seconds:.1f}s: "
                  f"{report.joins:,} list joins, {report.leaves:,} leaves, "
                  f"{report.enrolled:,} enrollments, {report.steps:,} steps, "
                  f"{report.stage_moves:,} stage changes, {report.outbox:,} notifications queued")
    if (sent := result.delivered) is not None:
        console.print(f"Delivered {sent.delivered:,} notifications; {sent.retried:,} to retry, "
                      f"{sent.dead:,} dead letters")


def worker(
    interval: Annotated[str, typer.Option(
        help="Longest sleep between passes, e.g. 1s or 30s.")] = "1s",
    once: Annotated[bool, typer.Option(help="One pass, then stop.")] = False,
    max_time: Annotated[float, typer.Option(
        help="Stop after this many seconds (0: run until interrupted).")] = 0.0,
) -> None:
    """Keep lists, stages and workflows current as data arrives and as time passes, and
    deliver notifications with retries. Only due contacts are looked at."""
    project = open_project()
    seconds = _seconds(interval)
    from leadscore.automation.worker import run_worker

    if not once:  # the same active contacts come back pass after pass, as beside serve
        project.keep_segment_rows()
    stats = run_worker(project, interval=seconds, once=once, max_seconds=max_time or None,
                       echo=lambda text: console.print(text, markup=False))
    console.print(f"Worker stopped: {stats.passes:,} passes, {stats.contacts:,} contacts, "
                  f"{stats.delivered:,} notifications delivered.")


def _seconds(text: str) -> float:
    value = text.strip().lower()
    try:
        if value.endswith("ms"):
            return float(value[:-2]) / 1000
        if value.endswith("s"):
            return float(value[:-1])
        if value.endswith("m") and not value.endswith("mo"):
            return float(value[:-1]) * 60
        from leadscore.catalog import parse_duration

        return parse_duration(value).total_seconds()
    except ValueError:
        raise LeadscoreError.single("LS320", f"'{text}' is not a duration",
                                    Location(field="--interval"),
                                    hint="e.g. 500ms, 1s, 5m") from None


def receive(
    channel: Annotated[str, typer.Option(help="The webhook channel whose secret to verify.")
                       ] = "sales",
    port: Annotated[int, typer.Option(min=0, max=65535,
                                      help="Port on 127.0.0.1 (0: any free port).")] = 8765,
    seconds: Annotated[float, typer.Option(help="Stop after this long (0: until Ctrl-C).")
                       ] = 0.0,
    show: Annotated[int, typer.Option(help="Print the first N notifications in full.")] = 3,
) -> None:
    """Receive this project's webhooks on localhost, verifying every signature — to try a
    project out or check a setup (production receivers: docs/delivery.md)."""
    from leadscore.delivery import WebhookChannel
    from leadscore.delivery.receiver import LocalReceiver

    project = open_project()
    webhook = project.channels.find("webhook", channel)
    assert isinstance(webhook, WebhookChannel)
    secret = webhook.resolve_secret()

    def shown(item: Received) -> None:
        if len(receiver.requests) <= show:
            verdict = "signature verified" if item.verified else "BAD SIGNATURE"
            console.print(f"← {item.key} ({verdict})\n  " + json.dumps(item.payload)[:400],
                          markup=False)

    receiver = LocalReceiver(secret, port=port, on_request=shown)
    try:
        bound = receiver.bind()
    except OSError as error:
        raise LeadscoreError.single(
            "LS323", f"cannot listen on port {port} of 127.0.0.1: "
                     f"{error.strerror or error}", Location(field="--port"), text=str(port),
            hint="another program is using it: pass --port N, or --port 0 for any free port"
        ) from None
    console.print(f"Receiving webhooks for channel {channel} on http://127.0.0.1:{bound} …")
    receiver.serve(seconds=seconds or None)
    bad = sum(1 for r in receiver.requests if not r.verified)
    console.print(f"Received {len(receiver.requests):,} requests: {len(receiver.keys):,} "
                  f"distinct notifications, {bad:,} with a bad signature.")


def feedback(
    contact: Annotated[str, typer.Argument(help="Contact id.")],
    verdict: Annotated[str, typer.Argument(help="true_sql, not_ready or unqualified.")],
    by: Annotated[str, typer.Option(help="Who gives the feedback.")] = "sales",
) -> None:
    """Sales feedback on a lead: true_sql, not_ready (back to MQL until it earns the points
    again) or unqualified (−100 points, subscriber until a person takes it out)."""
    project = open_project()
    report = project.record_feedback(contact, verdict, by=by)
    console.print(f"Recorded {verdict} for {contact} by {by}; {report.steps} workflow steps ran.")


@stage_app.command("set")
def stage_set(
    contact: Annotated[str, typer.Argument(help="Contact id.")],
    stage: Annotated[str, typer.Argument(help="The stage (any direction).")],
    by: Annotated[str, typer.Option(help="Who sets it.")] = "a person",
) -> None:
    """Clear the contact's stage and set it — the explicit act that may move it backward."""
    open_project().set_stage(contact, stage, by=by)
    console.print(f"{contact}: stage set to {stage} by {by}.")


@stage_app.command("history")
def stage_history(contact: Annotated[str, typer.Argument(help="Contact id.")],
                  fmt: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """Every stage change of a contact with its time and cause."""
    project = open_project(reading=True)
    rows = [[c.changed_at.isoformat(timespec="seconds"), c.previous, c.stage, c.cause]
            for c in project.stage_history(contact)]
    print_rows(["at", "from", "to", "cause"], rows, fmt, title=f"Stages of {contact}")


@list_app.command("test")
def list_test(
    name: Annotated[str, typer.Argument(help="List name.")],
    contact: Annotated[str, typer.Argument(help="Contact id.")],
    fmt: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
) -> None:
    """Which of the list's filters hold for the contact, and which do not."""
    result = open_project(reading=True).test_list(name, contact)
    if fmt is TextFormat.json:
        print_json(result.to_dict())
    else:
        console.print(result.render_text(), markup=False)


@list_app.command("show")
def list_show(fmt: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """Every list with its member count (lists of contacts, then of companies)."""
    project = open_project(reading=True)
    rows = [[name, "contacts", n, d] for name, n, d in project.list_counts()]
    rows += [[name, "companies", n, d] for name, n, d in project.company_list_counts()]
    print_rows(["list", "of", "members", "description"], rows, fmt, title="Active lists")


@list_app.command("members")
def list_members(name: Annotated[str, typer.Argument(help="List name.")],
                 limit: Annotated[int, typer.Option(help="How many (0: all).")] = 50,
                 fmt: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """The members of a list, with when they joined (of a company list: each company's
    name, domain and scores)."""
    project = open_project(reading=True)
    if name in project.lists.company_lists:
        companies = project.company_list_members(name, limit=limit or None)
        scores = list(project.model.companies.scores)
        rows = [[m.company.company_id, m.company.name or "", m.company.domain or "",
                 str(m.joined_at)[:19],
                 *(_score_text(m.company.scores.get(s), m.company.labels.get(s))
                   for s in scores)] for m in companies.members]
        print_rows(["company", "name", "domain", "joined", *scores], rows, fmt,
                   title=f"Companies in {name}")
        _shown_of(len(rows), companies.total, f"members of {name}", "the newest")
        return
    page = project.list_members(name, limit=limit or None)
    rows = [[m.contact_id, m.email, str(m.joined_at)[:19]] for m in page.items]
    print_rows(["contact", "email", "joined"], rows, fmt, title=f"Members of {name}")
    total = page.total
    _shown_of(len(rows), total, f"members of {name}", "the newest")


def _score_text(value: float | None, label: str | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" + (f" ({label})" if label else "")


def _shown_of(shown: int, total: int, what: str, which: str) -> None:
    """Say on stderr when a --limit cut the rows short (stdout stays the rows alone)."""
    if shown < total:
        err_console.print(f"Showing {which} {shown:,} of {total:,} {what}; --limit N shows more, "
                          "--limit 0 all.")


@outbox_app.callback()
def outbox(ctx: typer.Context,
           status: Annotated[str | None, typer.Option(
               help="pending, delivered or dead.")] = None,
           limit: Annotated[int, typer.Option(help="How many.")] = 50,
           fmt: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """Outgoing notifications and their delivery state (dead letters: --status dead)."""
    if ctx.invoked_subcommand is not None:
        return
    items = open_project(reading=True).outbox(status=status, limit=limit)
    rows = [[i.id, i.status, i.kind, i.channel, i.contact_id, i.workflow, i.attempts,
             (i.last_error or "")[:60]] for i in items]
    print_rows(["id", "status", "kind", "channel", "contact", "workflow", "attempts", "error"],
               rows, fmt, title="Outbox")


@outbox_app.command("retry")
def outbox_retry(ids: Annotated[list[int] | None, typer.Argument(
        help="Dead letters to send again (default: all).")] = None) -> None:
    """Move dead letters back to pending; the worker sends them again."""
    moved = open_project().retry_dead_letters(ids)
    console.print(f"{moved} dead letters will be sent again.")


def tasks(owner: Annotated[str | None, typer.Option(help="Only this owner's.")] = None,
          limit: Annotated[int, typer.Option(help="How many (0: all).")] = 50,
          fmt: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """Follow-up tasks created by workflows, with the score and its top reasons."""
    page = open_project(reading=True).tasks(owner=owner, limit=limit or None)
    rows = []
    for task in page.items:
        reasons = ", ".join(f"{r['rule']} {r['points']:+g}" for r in
                            task.detail.get("top_reasons", []))
        rows.append([task.id, task.contact_id, task.owner, task.title,
                     str(task.due_at)[:16] if task.due_at else "", task.status, reasons])
    total = page.total
    print_rows(["id", "contact", "owner", "title", "due", "status", "top reasons"], rows, fmt,
               title="Tasks")
    _shown_of(len(rows), total, "tasks", "the first")


def log(contact: Annotated[str, typer.Argument(help="Contact id.")],
        fmt: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """A contact's timeline: list joins and leaves, stage changes and every workflow step."""
    entries = open_project(reading=True).contact_log(contact)
    rows = [[str(e.at)[:19], e.what, e.change, e.detail] for e in entries]
    print_rows(["at", "what", "change", "detail"], rows, fmt, title=f"Timeline of {contact}")
