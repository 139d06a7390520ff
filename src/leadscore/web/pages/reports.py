"""The Reports page (marketing, admin): a backtest of the live model, or the live model
compared with a draft, run from the page on the stored history. A report runs on a thread of
its own with a `Project` of its own (its own store connections: the other pages do not wait
for it), one at a time per process; its page shows how far it got — reloading itself each
second until it is done — then the text report beside its charts (score distribution by
outcome, lift, calibration, ROC). Reports are kept in the serving process (the newest 10)."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from leadscore.diagnostics import LeadscoreError
from leadscore.diagnostics.render import render_diagnostics
from leadscore.project.drafts import DRAFT_FILE
from leadscore.project.web_reports import TARGETS
from leadscore.web.render import page
from leadscore.web.visitor import check_form, need

router = APIRouter()
KEPT = 10


@dataclass
class Job:
    id: str
    kind: str
    target: str
    by: str
    started: float = field(default_factory=time.time)
    done: int = 0
    total: int = 0
    finished: float | None = None
    report: Any = None
    problems: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.finished is None


def _jobs(request: Request) -> dict[str, Job]:
    state = request.app.state
    if getattr(state, "jobs", None) is None:
        state.jobs = {}
        state.jobs_lock = threading.Lock()
    found: dict[str, Job] = state.jobs
    return found


def _run(project: Any, job: Job, draft: str | None) -> None:
    own = type(project)(project.config)  # its own connections: no page waits for it

    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total

    try:
        job.report = own.report(job.kind, target=job.target, draft=draft, progress=progress)
    except LeadscoreError as error:
        job.problems = [render_diagnostics([d], sources={DRAFT_FILE: draft or ""})
                        .rsplit("\n", 1)[0] for d in error.diagnostics]
    except Exception as error:  # noqa: BLE001 - shown on the report's page, not lost
        job.problems = [f"internal error (LS699): {type(error).__name__}: {error}"]
    finally:
        job.finished = time.time()
        own.close()


def _form(request: Request, *, status: int = 200, errors: dict[str, str] | None = None,
          typed: dict[str, str] | None = None) -> Response:
    from leadscore.api.state import call

    jobs = sorted(_jobs(request).values(), key=lambda j: -j.started)
    draft = (typed or {}).get("draft") or call(request, lambda p: p.model_table()).text
    return page(request, "reports.html", status=status, title="Reports", jobs=jobs,
                targets=TARGETS, errors=errors or {},
                typed={"kind": "backtest", "target": TARGETS[0], **(typed or {}),
                       "draft": draft})


@router.get("/reports")
def reports(request: Request) -> Response:
    need(request, "reports")
    return _form(request)


@router.post("/reports")
def start(request: Request, kind: Annotated[str, Form(max_length=20)] = "backtest",
          target: Annotated[str, Form(max_length=40)] = TARGETS[0],
          draft: Annotated[str, Form(max_length=1_000_000)] = "",
          csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    who = need(request, "reports")
    check_form(request, csrf)
    typed = {"kind": kind, "target": target, "draft": draft}
    errors = {}
    if kind not in ("backtest", "compare"):
        errors["kind"] = "choose a backtest or a comparison"
    if target not in TARGETS:
        errors["target"] = f"{target} is not a target (LS415): one of {', '.join(TARGETS)}"
    jobs = _jobs(request)
    with request.app.state.jobs_lock:
        if any(job.running for job in jobs.values()):
            errors["kind"] = "a report is running: wait for it to finish"
        if errors:
            return _form(request, status=422, errors=errors, typed=typed)
        job = Job(secrets.token_urlsafe(8), kind, target, who.user.email if who.user else "")
        jobs[job.id] = job
        for old in sorted(jobs.values(), key=lambda j: j.started)[:-KEPT]:
            jobs.pop(old.id, None)
    project = request.app.state.served.project
    threading.Thread(target=_run, args=(project, job, draft if kind == "compare" else None),
                     name=f"leadscore-report-{job.id}", daemon=True).start()
    return RedirectResponse(f"/reports/{job.id}", status_code=303)


@router.get("/reports/{job_id}")
def report(request: Request, job_id: Annotated[str, Path(max_length=40)]) -> Response:
    need(request, "reports")
    job = _jobs(request).get(job_id)
    if job is None:
        return page(request, "error.html", status=404, title="Not found",
                    message="No such report in this server (reports are kept while it runs, "
                            f"the newest {KEPT}).")
    charts = []
    if job.report is not None:
        charts = [(name, base64.b64encode(png).decode()) for name, png in
                  job.report.charts.items()]
    return page(request, "report.html", title=f"Report {job.kind}", job=job, charts=charts)


__all__ = ["router"]
