"""Commands that act on scores: process, worker, lists, feedback, stages, outbox, tasks, log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
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
from leadscore.diagnostics import LeadscoreError, Location, did_you_mean

if TYPE_CHECKING:  # each command imports what it needs when it runs: the CLI starts fast
    from leadscore.delivery.receiver import Received
    from leadscore.project import Project

FEEDBACK = ("true_sql", "not_ready", "unqualified")
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
) -> None:
    """Process every due contact once: rescore, stages, lists, workflows; then deliver."""
    project = open_project()
    automation = project.automation
    moment = parse_moment(at) or datetime.now(UTC)
    automation.activate(now=moment)
    report = automation.process_all(now=moment)
    console.print(f"Processed {report.contacts:,} contacts in {report.seconds:.1f}s: "
                  f"{report.joins:,} list joins, {report.leaves:,} leaves, "
                  f"{report.enrolled:,} enrollments, {report.steps:,} steps, "
                  f"{report.stage_moves:,} stage changes, {report.outbox:,} notifications queued")
    if deliver:
        from leadscore.delivery import deliver_due

        sent = deliver_due(project.store, project.channels, now=moment, limit=10_000)
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
    if verdict not in FEEDBACK:
        raise LeadscoreError.single("LS321", f"unknown feedback '{verdict}'",
                                    Location(field="verdict"),
                                    hint=did_you_mean(verdict, FEEDBACK)
                                    or "one of: " + ", ".join(FEEDBACK))
    project = open_project()
    _require_contact(project, contact)
    automation = project.automation
    moment = datetime.now(UTC)
    from leadscore.storage import ContactInput

    automation.update_contacts([ContactInput(contact, moment,
                                             properties={"sales_feedback": verdict})],
                               source=f"sales {by}", now=moment)
    automation.activate(now=moment)
    report = automation.process_all(now=moment)
    console.print(f"Recorded {verdict} for {contact} by {by}; {report.steps} workflow steps ran.")


def _require_contact(project: Project, contact: str) -> None:
    if not project.store.existing_contact_ids([contact]):
        raise LeadscoreError.single("LS310", f"no contact '{contact}' in the store",
                                    Location(field="contact"),
                                    hint="`leadscore leads` lists contact ids")


@stage_app.command("set")
def stage_set(
    contact: Annotated[str, typer.Argument(help="Contact id.")],
    stage: Annotated[str, typer.Argument(help="The stage (any direction).")],
    by: Annotated[str, typer.Option(help="Who sets it.")] = "a person",
) -> None:
    """Clear the contact's stage and set it — the explicit act that may move it backward."""
    project = open_project()
    known = project.model.lifecycle.stages
    if stage not in known:
        raise LeadscoreError.single("LS322", f"unknown lifecycle stage '{stage}'",
                                    Location(field="stage"),
                                    hint=did_you_mean(stage, known) or ", ".join(known))
    _require_contact(project, contact)
    project.automation.set_stage(contact, stage, by=by)
    console.print(f"{contact}: stage set to {stage} by {by}.")


@stage_app.command("history")
def stage_history(contact: Annotated[str, typer.Argument(help="Contact id.")],
                  fmt: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """Every stage change of a contact with its time and cause."""
    project = open_project()
    rows = [[c.changed_at.isoformat(timespec="seconds"), c.previous, c.stage, c.cause]
            for c in project.store.stage_history(contact)]
    print_rows(["at", "from", "to", "cause"], rows, fmt, title=f"Stages of {contact}")


@list_app.command("test")
def list_test(
    name: Annotated[str, typer.Argument(help="List name.")],
    contact: Annotated[str, typer.Argument(help="Contact id.")],
    fmt: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
) -> None:
    """Which of the list's filters hold for the contact, and which do not."""
    project = open_project()
    _require_contact(project, contact)
    snap = project.context_snapshot(contact)
    result = project.lists.test(snap, name)
    if fmt is TextFormat.json:
        print_json(result.to_dict())
    else:
        console.print(result.render_text(), markup=False)


@list_app.command("show")
def list_show(fmt: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """Every list with its member count."""
    project = open_project()
    counts = dict(_query(project, "SELECT list, count(*) FROM list_memberships GROUP BY list"))
    rows = [[item.name, counts.get(item.name, 0), item.description or ""]
            for item in project.lists]
    print_rows(["list", "members", "description"], rows, fmt, title="Active lists")


@list_app.command("members")
def list_members(name: Annotated[str, typer.Argument(help="List name.")],
                 limit: Annotated[int, typer.Option(help="How many (0: all).")] = 50,
                 fmt: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """The members of a list, with when they joined."""
    project = open_project()
    if name not in project.lists:
        raise LeadscoreError.single("LS162", f"no list named '{name}'", Location(field="list"),
                                    hint=did_you_mean(name, project.lists.lists))
    sql = ("SELECT m.contact_id, c.email, m.joined_at FROM list_memberships m JOIN contacts c "
           "ON c.contact_id = m.contact_id WHERE m.list = :n ORDER BY m.joined_at DESC")
    rows = [[cid, email, str(joined)[:19]] for cid, email, joined in
            _query(project, sql + (f" LIMIT {int(limit)}" if limit else ""), n=name)]
    print_rows(["contact", "email", "joined"], rows, fmt, title=f"Members of {name}")
    total = _query(project, "SELECT count(*) FROM list_memberships WHERE list = :n", n=name)[0][0]
    _shown_of(len(rows), total, f"members of {name}", "the newest")


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
    project = open_project()
    from leadscore.delivery import outbox_items

    items = outbox_items(project.store, status=status, limit=limit)
    rows = [[i.id, i.status, i.kind, i.channel, i.contact_id, i.workflow, i.attempts,
             (i.last_error or "")[:60]] for i in items]
    print_rows(["id", "status", "kind", "channel", "contact", "workflow", "attempts", "error"],
               rows, fmt, title="Outbox")


@outbox_app.command("retry")
def outbox_retry(ids: Annotated[list[int] | None, typer.Argument(
        help="Dead letters to send again (default: all).")] = None) -> None:
    """Move dead letters back to pending; the worker sends them again."""
    project = open_project()
    from leadscore.delivery import retry

    moved = retry(project.store, ids or None, now=datetime.now(UTC))
    console.print(f"{moved} dead letters will be sent again.")


def tasks(owner: Annotated[str | None, typer.Option(help="Only this owner's.")] = None,
          limit: Annotated[int, typer.Option(help="How many (0: all).")] = 50,
          fmt: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """Follow-up tasks created by workflows, with the score and its top reasons."""
    project = open_project()
    sql = "SELECT id, contact_id, owner, title, due_at, status, detail FROM tasks"
    params = {}
    if owner:
        sql += " WHERE owner = :o"
        params["o"] = owner
    rows = []
    sql += " ORDER BY id" + (f" LIMIT {int(limit)}" if limit else "")
    total = _query(project, "SELECT count(*) FROM tasks"
                   + (" WHERE owner = :o" if owner else ""), **params)[0][0]
    for tid, cid, task_owner, title, due, status, detail in _query(project, sql, **params):
        if isinstance(detail, str):  # JSON text from SQLite
            detail = json.loads(detail)
        reasons = ", ".join(f"{r['rule']} {r['points']:+g}" for r in
                            (detail or {}).get("top_reasons", []))
        rows.append([tid, cid, task_owner, title, str(due)[:16] if due else "", status, reasons])
    print_rows(["id", "contact", "owner", "title", "due", "status", "top reasons"], rows, fmt,
               title="Tasks")
    _shown_of(len(rows), total, "tasks", "the first")


def log(contact: Annotated[str, typer.Argument(help="Contact id.")],
        fmt: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """A contact's timeline: list joins and leaves, stage changes and every workflow step."""
    project = open_project()
    _require_contact(project, contact)
    entries = []
    for at, name, change, cause in _query(
            project, "SELECT at, list, change, cause FROM list_changes WHERE contact_id = :c",
            c=contact):
        entries.append((str(at), f"list {name}", change, cause))
    for change in project.store.stage_history(contact):
        entries.append((str(change.changed_at), "stage", f"{change.previous} → {change.stage}",
                        change.cause))
    for at, workflow, position, action, outcome in _query(
            project, "SELECT at, workflow, position, action, outcome FROM step_runs "
                     "WHERE contact_id = :c", c=contact):
        entries.append((str(at), f"workflow {workflow}", f"step {position} {action}", outcome))
    entries.sort()
    rows = [[at[:19], what, change, detail] for at, what, change, detail in entries]
    print_rows(["at", "what", "change", "detail"], rows, fmt, title=f"Timeline of {contact}")


def _query(project: Project, sql: str, **params: object) -> list:
    import sqlalchemy as sa

    with project.store.read() as connection:
        return list(connection.execute(sa.text(sql), params))

