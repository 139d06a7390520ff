"""The Model page (marketing and admin): the live model as a table of scores, rules and
points; a draft pasted or uploaded is checked as a model file is — every mistake shown at its
line with a caret, as the command line shows it — and dry-run on the stored contacts without
writing anything (`Project.dry_run_draft`): each score's label counts under the draft, the
stages, and which contacts would change label or stage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from leadscore.api.state import call
from leadscore.diagnostics import LeadscoreError
from leadscore.diagnostics.render import render_diagnostics
from leadscore.project.drafts import DRAFT_FILE
from leadscore.web.charts import bar_chart
from leadscore.web.render import page
from leadscore.web.visitor import check_form, need

router = APIRouter()
MAX_DRAFT = 1_000_000  # bytes, as the model file's limit (LS107 beyond it)


def _page(request: Request, *, text: str | None = None, status: int = 200,
          problems: list[tuple[str, str]] | None = None, report: object = None,
          charts: list[tuple[str, str]] | None = None, upload_error: str | None = None
          ) -> Response:
    table = call(request, lambda p: p.model_table())
    return page(request, "model.html", status=status, title="Model", table=table,
                draft=table.text if text is None else text, problems=problems or [],
                report=report, charts=charts or [], upload_error=upload_error)


@router.get("/model")
def model(request: Request) -> Response:
    need(request, "models")
    return _page(request)


@router.post("/model/draft")
def draft(request: Request, text: Annotated[str, Form(max_length=MAX_DRAFT)] = "",
          upload: Annotated[UploadFile | None, File()] = None,
          csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    need(request, "models")
    check_form(request, csrf)
    if upload is not None and upload.filename:
        raw = upload.file.read(MAX_DRAFT + 1)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _page(request, text=text, status=422,
                         upload_error=f"{upload.filename} is not UTF-8 text (a YAML model file)")
    try:
        report = call(request, lambda p: p.dry_run_draft(text, limit=10))
    except LeadscoreError as error:
        problems = []
        for diagnostic in error.diagnostics:
            shown = render_diagnostics([diagnostic], sources={DRAFT_FILE: text})
            problems.append((diagnostic.code, shown.rsplit("\n", 1)[0]))
        return _page(request, text=text, status=422, problems=problems)
    charts = [(name, bar_chart(list(counts.items()), title=f"{name} under the draft"))
              for name, counts in report.labels.items()]
    charts.append(("stage", bar_chart(list(report.stages.items()),
                                      title="stages under the draft")))
    return _page(request, text=text, report=report, charts=charts)


__all__ = ["router"]
