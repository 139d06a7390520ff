"""The HTTP API: `create_app(project)` gives a FastAPI application over one `Project`.

Routes only parse, call one `Project` method and render (tests/test_layers.py keeps them
from the store); every route declares the scope its API key needs (`security`). Errors are
the one shape, `{"errors": [Diagnostic…]}` (`errors`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadscore.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from leadscore.api.app import create_app

        return create_app
    raise AttributeError(f"module 'leadscore.api' has no attribute {name!r}")
