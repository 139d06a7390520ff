"""The web app for marketing and sales (docs/web.md): server-rendered pages over `Project`,
served by `leadscore serve` at / beside the HTTP API."""

from __future__ import annotations

from leadscore.web.app import create_web_app, mount

__all__ = ["create_web_app", "mount"]
