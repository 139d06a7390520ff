"""Command modules beyond the core (scoring) commands. Each module exposes register(app)."""

from __future__ import annotations

from collections.abc import Callable

import typer

from leadscore.cli import (
    automation,
    calibration,
    care,
    companies,
    ledger,
    serve,
    users,
    versions,
)

REGISTRATIONS: list[Callable[[typer.Typer], None]] = [automation.register, calibration.register,
                                                     care.register, companies.register,
                                                     ledger.register,
                                                     serve.register, users.register,
                                                     versions.register]
