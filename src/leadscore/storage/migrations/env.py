"""Alembic environment: leadscore runs migrations itself, on the connection it passes in.

`Store.open` calls `alembic.command.upgrade` with `config.attributes["connection"]` set, so
there is no alembic.ini and no URL here; the migration runs inside the caller's transaction.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when alembic is run by hand
    raise RuntimeError("leadscore migrations run through Store.open(url), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=None,
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
