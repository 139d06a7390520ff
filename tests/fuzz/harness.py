"""What every fuzz test checks, and how it runs the real command line in this process.

Each example runs `leadscore …` through `leadscore.cli.app.main` (the console script's entry
point) with its output captured, or calls a loader directly, and must:
- exit 0, or exit 1 with at least one diagnostic code (LS…) — never exit 2, a traceback or
  "internal error";
- stay within EXAMPLE_SECONDS of wall time and EXAMPLE_MEGABYTES of memory allocated (traced).

The example budget is fixed so that `make test` stays quick and repeatable (derandomized);
LEADSCORE_FUZZ_EXAMPLES=2000 runs that many random examples per test instead. The tests are
marked slow (`make test-fast` leaves them out).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

from leadscore.cli.app import main

EXAMPLE_SECONDS = 15.0  # generous: the machine is shared; a hang takes far longer
EXAMPLE_MEGABYTES = 150.0  # inputs are a few KB; the alias bomb alone grew past 1.7 GB
CODE = re.compile(r"\bLS\d{3}\b")

_BIG = int(os.environ.get("LEADSCORE_FUZZ_EXAMPLES", "0") or 0)

FUZZ = settings(
    max_examples=_BIG or 12,  # about a minute for the whole suite on a shared 2-core machine
    derandomize=not _BIG,
    deadline=None,  # bounded() measures each example itself, memory included
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much, HealthCheck.large_base_example],
)


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float
    megabytes: float


@contextlib.contextmanager
def bounded() -> Iterator[dict[str, float]]:
    """Measure the block's wall time and peak traced memory; fail past the limits."""
    measured: dict[str, float] = {}
    started = time.perf_counter()
    tracemalloc.start()
    try:
        yield measured
    finally:
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        measured.update(seconds=time.perf_counter() - started, megabytes=peak)
    # (only reached when the block ended normally: its own failure is the one to show)
    assert measured["seconds"] < EXAMPLE_SECONDS, f"took {measured['seconds']:.1f}s"
    assert measured["megabytes"] < EXAMPLE_MEGABYTES, f"allocated {measured['megabytes']:.0f} MB"


def leadscore(*args: str, cwd: Path) -> Run:
    """`leadscore ARGS` in `cwd`, in this process, as the console script runs it."""
    out, err = io.StringIO(), io.StringIO()
    code: Any = 0
    here, argv = Path.cwd(), sys.argv
    environment = os.environ.pop("LEADSCORE_STORE_URL", None)
    try:
        os.chdir(cwd)
        sys.argv = ["leadscore", *args]
        with bounded() as measured, contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exit_:
                code = exit_.code
    finally:
        os.chdir(here)
        sys.argv = argv
        if environment is not None:
            os.environ["LEADSCORE_STORE_URL"] = environment
    return Run(int(code or 0), out.getvalue(), err.getvalue(), measured["seconds"],
               measured["megabytes"])


def assert_clean(run: Run, what: str = "") -> None:
    """Exit 0, or exit 1 with a coded diagnostic; never a bug's exit 2 or a traceback."""
    context = f"{what}\n--- stderr ---\n{run.err[-3000:]}"
    assert run.code in (0, 1), f"exit {run.code}: {context}"
    assert "Traceback" not in run.err and "internal error" not in run.err, context
    if run.code == 1:
        assert CODE.search(run.err), f"exit 1 without a diagnostic code: {context}"


def call_loader(load: Callable[[], Any]) -> list[str]:
    """Call a loader within the bounds; return the codes of the diagnostics it raised (none when
    it loaded). Any exception other than a LeadscoreError fails the test."""
    from leadscore.diagnostics import LeadscoreError

    with bounded():
        try:
            load()
        except LeadscoreError as error:
            codes = [d.code for d in error.diagnostics]
            assert codes and all(CODE.fullmatch(c) for c in codes), codes
            return codes
    return []


# --- shapes of text shared by the tests -------------------------------------------------------

def encode(text: str, form: str) -> bytes:
    """`text` as a file would hold it: plain UTF-8, with a BOM, CRLF or CR line ends, UTF-16,
    Latin-1 (where it can), or with a NUL byte."""
    if form == "crlf":
        return text.replace("\n", "\r\n").encode("utf-8")
    if form == "cr":
        return text.replace("\n", "\r").encode("utf-8")
    if form == "bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    if form == "utf-16":
        return text.encode("utf-16")
    if form == "latin-1":
        return text.encode("latin-1", errors="replace")
    if form == "nul":
        return text.encode("utf-8").replace(b"\n", b"\n\x00", 1)
    return text.encode("utf-8")


ENCODINGS = ("utf-8", "utf-8", "utf-8", "crlf", "cr", "bom", "utf-16", "latin-1", "nul")
