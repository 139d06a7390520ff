"""`leadscore serve` (the HTTP API with the worker beside it) and `leadscore keys` (its API
keys: create — shown once —, list, revoke)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from leadscore.cli.context import open_project
from leadscore.cli.output import Format, console, err_console, print_rows

keys_app = typer.Typer(help="API keys of the HTTP API: create, list, revoke.",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.add_typer(keys_app, name="keys")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535,
                                      help="Port (0: any free port, printed).")] = 8000,
    workers: Annotated[int, typer.Option(
        min=1, help="API processes (more than 1 on PostgreSQL only).")] = 1,
) -> None:
    """Serve the HTTP API (docs/api.md) with the worker beside it — processing contacts as
    activity arrives and delivering notifications — until Ctrl-C or SIGTERM."""
    from leadscore.api.server import serve as run

    project = open_project()
    root = project.config.root
    project.close()

    def announce(text: str) -> None:
        console.print(text, markup=False, soft_wrap=True)
        sys.stdout.flush()

    served = run(root, host=host, port=port, workers=workers, announce=announce,
                 echo=lambda text: console.print(text, markup=False, soft_wrap=True))
    stats = served.worker
    done = f": {stats.passes:,} passes, {stats.contacts:,} contacts, " \
           f"{stats.delivered:,} notifications delivered" if stats else ""
    console.print(f"Stopped serving on port {served.port}; the worker stopped{done}.")


@keys_app.command("create")
def keys_create(
    scopes: Annotated[str, typer.Option(
        help="Comma-separated: ingest (send activity only), read, sales (read and act on "
             "leads), admin (everything).")],
    name: Annotated[str | None, typer.Option(help="A name to recognise the key by.")] = None,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    made = open_project().create_api_key(scopes.split(","), name=name)
    key = made.key
    err_console.print(f"Created API key {key.id} ({key.prefix}…, scopes "
                      f"{', '.join(key.scopes)}). It is shown once, now — keep it secret:",
                      markup=False)
    print(made.secret)


@keys_app.command("list")
def keys_list(fmt: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """Every API key: id, prefix, name, scopes, when made and revoked (never the key)."""
    rows = [[k.id, k.prefix + "…", k.name or "", ",".join(k.scopes),
             k.created_at.isoformat(timespec="seconds"),
             k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else ""]
            for k in open_project().api_keys()]
    print_rows(["id", "prefix", "name", "scopes", "created", "revoked"], rows, fmt,
               title="API keys")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="The key's id (keys list).")]
                ) -> None:
    """Revoke an API key: requests with it are refused (401) from now on."""
    key = open_project().revoke_api_key(key_id)
    console.print(f"API key {key.id} ({key.prefix}…) is revoked.")
