"""`leadscore model …`: published model versions (publish, resume, history, diff, rollback),
and `leadscore score history CONTACT`: a contact's stored scores, each naming the version
that computed it."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from leadscore.cli.context import open_project
from leadscore.cli.output import (
    Format,
    TextFormat,
    console,
    err_console,
    print_json,
    print_rows,
)

model_app = typer.Typer(help="Published model versions: publish, history, diff, rollback.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")
    for group in app.registered_groups:  # `score` is a command with one subcommand
        if group.name == "score" and group.typer_instance is not None:
            group.typer_instance.command("history")(score_history)


def _phase(name: str) -> None:
    shown = {"rescoring": "rescoring every contact under the new version (the live version "
                          "answers reads meanwhile)…",
             "live": "the new version is live."}
    err_console.print(f"publish: {shown.get(name, name)}")


def _author(author: str | None) -> str | None:
    if author:
        return author
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment
        return None


def _publish_line(publish: Any) -> str:
    live = f"live since {publish.live_at:%Y-%m-%d %H:%M:%S} UTC" if publish.live_at else \
        f"{publish.state} ({publish.phase})"
    return (f"Version {publish.version} {live}: {publish.contacts or 0:,} contacts rescored "
            f"(publish {publish.id}, {publish.action}"
            + (f", {publish.attempts} runs" if publish.attempts > 1 else "") + ").")


@model_app.command("publish")
def publish(
    file: Annotated[Path | None, typer.Argument(
        help="The model file to publish (default: the project's model file).")] = None,
    message: Annotated[str | None, typer.Option(
        "--message", "-m", help="Why this version: kept with it in the history.")] = None,
    author: Annotated[str | None, typer.Option(
        help="Who publishes it (default: the user name).")] = None,
    fmt: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
) -> None:
    """Store the model as a new version and make it live: every contact is rescored under it
    while the current version stays live; it goes live when the rescore is stored."""
    project = open_project()
    done = project.publish_model(file, message=message or "", author=_author(author),
                                 phase=None if fmt is TextFormat.json else _phase)
    if fmt is TextFormat.json:
        print_json(done.to_dict())
        return
    console.print(_publish_line(done))


@model_app.command("resume")
def resume(fmt: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text) -> None:
    """Finish a publish or rollback that a crash (or a killed process) interrupted."""
    project = open_project()
    done = project.resume_publish(phase=None if fmt is TextFormat.json else _phase)
    if fmt is TextFormat.json:
        print_json(done.to_dict() if done else None)
        return
    console.print(_publish_line(done) if done else "No publish is unfinished.")


@model_app.command("rollback")
def rollback(
    version: Annotated[int | None, typer.Argument(
        help="The version to make live again (default: the one live before the current).")
    ] = None,
    message: Annotated[str | None, typer.Option(
        "--message", "-m", help="Why (default: 'roll back to version N').")] = None,
    author: Annotated[str | None, typer.Option(
        help="Who rolls back (default: the user name).")] = None,
    fmt: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
) -> None:
    """Make an earlier version live again, rescoring as a publish does."""
    project = open_project()
    done = project.rollback_model(version, message=message, author=_author(author),
                                  phase=None if fmt is TextFormat.json else _phase)
    if fmt is TextFormat.json:
        print_json(done.to_dict())
        return
    console.print(_publish_line(done))


@model_app.command("history")
def history(fmt: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """Every published version and every publish and rollback, with the live one marked."""
    found = open_project(reading=True).model_history()
    went_live: dict[int, list[str]] = {}
    for run in found.publishes:
        if run.live_at is not None:
            went_live.setdefault(run.version, []).append(f"{run.live_at:%Y-%m-%d %H:%M}")
    if fmt is Format.json:
        print_json({"live": found.live, "file_digest": found.file_digest,
                    "versions": [{"version": v.id, "model": v.model, "digest": v.digest,
                                  "author": v.author, "message": v.message,
                                  "source": v.source, "published_at": v.created_at.isoformat(),
                                  "live": v.id == found.live,
                                  "same_as_file": v.digest == found.file_digest}
                                 for v in found.versions],
                    "publishes": [p.to_dict() for p in found.publishes]})
        return
    if not found.versions:
        err_console.print("Nothing published yet: the model file is live. "
                          "`leadscore model publish -m \"why\"` publishes it.")
        return
    rows = [["*" if v.id == found.live else "", v.id, v.model, v.digest[:8],
             "=" if v.digest == found.file_digest else "", f"{v.created_at:%Y-%m-%d %H:%M}",
             v.author or "", v.message, ", ".join(went_live.get(v.id, []))]
            for v in reversed(found.versions)]
    print_rows(["live", "version", "model", "digest", "file", "published", "author", "message",
                "went live"], rows, fmt, title="Model versions (newest first)")
    pending = [p for p in found.publishes if p.live_at is None]
    for run in pending:
        err_console.print(f"Publish {run.id} of version {run.version} is unfinished "
                          f"({run.phase}, {run.attempts} runs): `leadscore model resume`.")


@model_app.command("diff")
def diff(
    a: Annotated[str, typer.Argument(
        help="A version number, 'live', 'file' (the project's model file) or a model file.")],
    b: Annotated[str, typer.Argument(help="The same, for the other side.")] = "file",
    limit: Annotated[int, typer.Option(help="Contact ids shown per change.")] = 5,
    fmt: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
) -> None:
    """What changes from A to B: the rules, and their effect on the stored contacts (score
    spread and label counts, and which contacts would change label or stage)."""
    found = open_project(reading=True).diff_models(a, b, limit=limit)
    effect = found.effect
    if fmt is TextFormat.json:
        print_json({
            "a": found.a, "b": found.b, "model_a": found.model_a, "model_b": found.model_b,
            "rules": [r.__dict__ for r in found.rules],
            "contacts": effect.contacts, "labels_a": found.labels_a, "labels_b": effect.labels,
            "spread_a": {n: s.__dict__ for n, s in found.spread_a.items()},
            "spread_b": {n: s.__dict__ for n, s in found.spread_b.items()},
            "label_changes": effect.label_changes, "stage_changes": effect.stage_changes,
            "changes": [c.__dict__ for c in effect.changes]})
        return
    console.print(f"From {found.a} (model {found.model_a}) to {found.b} (model "
                  f"{found.model_b}): {len(found.rules)} rule changes; "
                  f"{effect.contacts:,} contacts scored under both.")
    if found.rules:
        print_rows(["score", "rule", "change", "before", "after"],
                   [[r.score, r.rule, r.change, r.before or "", r.after or ""]
                    for r in found.rules], Format.table, title="Rules")
    names = sorted(set(found.spread_a) | set(found.spread_b))
    rows = []
    for name in names:
        for side, spread, labels in (("A", found.spread_a.get(name), found.labels_a),
                                     ("B", found.spread_b.get(name), effect.labels)):
            if spread is None:
                continue
            rows.append([name, side, spread.min, spread.p50, spread.p90, spread.max,
                         spread.mean, ", ".join(f"{k} {v:,}" for k, v in
                                                labels.get(name, {}).items())])
    print_rows(["score", "side", "min", "median", "p90", "max", "mean", "labels"], rows,
               Format.table, title="Score spread")
    console.print(f"{effect.label_changes:,} contacts change a label, "
                  f"{effect.stage_changes:,} change stage.")
    if effect.changes:
        print_rows(["change", "score", "from", "to", "contacts", "e.g."],
                   [[c.kind, c.score or "", c.before or "—", c.after or "—", c.contacts,
                     ", ".join(c.contact_ids)] for c in effect.changes], Format.table,
                   title="Who changes")


def score_history(
    contact: Annotated[str, typer.Argument(help="Contact id.")],
    at: Annotated[str | None, typer.Option(
        help="The scores stored as of this moment, under the version live then.")] = None,
    limit: Annotated[int, typer.Option(help="How many changes (0: all).")] = 50,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """A contact's recorded score changes, newest first, each with the model version that
    computed it; with --at, its stored scores as of that moment."""
    from leadscore.cli.app import _moment

    project = open_project(reading=True)
    if at is not None:
        found = project.stored_scores_at(contact, _moment(at, "--at") or datetime.now(UTC))
        if fmt is Format.json:
            print_json(found.to_dict())
            return
        under = f"version {found.version}" if found.version is not None else "the model file"
        rows = [[s.score, s.value, s.label or "", s.version or "",
                 f"{s.computed_at:%Y-%m-%d %H:%M:%S}"] for s in found.scores]
        print_rows(["score", "value", "label", "version", "computed"], rows, fmt,
                   title=f"{contact} as of {found.at:%Y-%m-%d %H:%M:%S} UTC under {under} "
                         f"(model {found.model})")
        return
    page = project.score_history_page(contact, limit=limit or None)
    if fmt is Format.json:
        print_json([_change(s) for s in page.items])
        return
    rows = [[f"{s.computed_at:%Y-%m-%d %H:%M:%S}", s.model or "", s.score, s.value,
             s.label or "", s.version or ""] for s in page.items]
    print_rows(["computed", "model", "score", "value", "label", "version"], rows, fmt,
               title=f"Score changes of {contact} ({page.total:,}, newest first)")


def _change(s: Any) -> dict[str, Any]:
    return {"computed_at": s.computed_at.isoformat(), "model": s.model, "score": s.score,
            "value": s.value, "label": s.label, "version": s.version}
