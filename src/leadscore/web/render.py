"""Pages from Jinja2 templates (`web/templates`, autoescaped): every page gets the visitor,
the CSRF token for its forms and the navigation their role allows."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from leadscore.web.visitor import visitor

# the navigation: (permission, path, title), shown to the roles that may use each
NAVIGATION = (
    ("leads", "/leads", "Leads"),
    ("companies", "/companies", "Companies"),
    ("tasks", "/tasks", "Tasks"),
    ("models", "/model", "Model"),
    ("funnel", "/funnel", "Funnel"),
    ("lists", "/lists", "Lists"),
    ("workflows", "/workflows", "Workflows"),
    ("reports", "/reports", "Reports"),
    ("users", "/admin/users", "Users"),
    ("keys", "/admin/keys", "API keys"),
)


@cache
def environment() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("leadscore.web", "templates"),
                      autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = when
    env.filters["number"] = number
    env.filters["points"] = points
    return env


def when(moment: datetime | None, seconds: bool = False) -> str:
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def number(value: float | int | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    return f"{value:,}"


def points(value: float | None) -> str:
    """Points as `explain` prints them: signed, to the hundredth."""
    if value is None:
        return "—"
    return f"{round(value, 2) + 0.0:+g}"


def page(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    who = visitor(request)
    navigation = [(path, title) for permission, path, title in NAVIGATION if who.may(permission)]
    html = environment().get_template(template).render(
        request=request, user=who.user, csrf=who.session.csrf, navigation=navigation,
        path=request.url.path, **context)
    return HTMLResponse(html, status_code=status)


__all__ = ["NAVIGATION", "number", "page", "points", "when"]
