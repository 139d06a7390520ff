"""Command modules beyond the core (scoring) commands. Each module exposes register(app)."""

from __future__ import annotations

from collections.abc import Callable

import typer

REGISTRATIONS: list[Callable[[typer.Typer], None]] = []
