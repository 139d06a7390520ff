"""What every part of the compiler shares: the dialect, the moment of scoring, the place in the
model being compiled (for diagnostics), and the operators' view of the dialect."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlglot import exp

from leadscore.catalog import PropertyType
from leadscore.diagnostics import Diagnostic, DiagnosticList, Location
from leadscore.model.model import Model
from leadscore.sql import expr as x
from leadscore.sql.dialect import Dialect, Unsupported

UNSUPPORTED = "LS550"  # a construct the dialect cannot express
UNKNOWN_DIALECT = "LS551"
NAMES = "LS552"  # output or input names the dialect cannot keep apart

TEXT_KINDS = (PropertyType.STRING, PropertyType.ENUM)


class CompileContext:
    def __init__(self, model: Model, dialect: Dialect, as_of_us: int) -> None:
        self.model = model
        self.dialect = dialect
        self.as_of_us = as_of_us
        self.problems = DiagnosticList()
        self.place = "the model"

    @contextmanager
    def at(self, place: str) -> Iterator[None]:
        """Diagnostics raised meanwhile name `place` (e.g. "score 'fit', rule 'Vendor'")."""
        outer, self.place = self.place, place
        try:
            yield
        finally:
            self.place = outer

    def unsupported(self, what: str, hint: str | None = None) -> None:
        self.problems.add(Diagnostic(
            UNSUPPORTED, f"{self.place}: {what}",
            Location(file=self.model.path, field=self.place),
            hint=hint or f"rewrite the criterion so that {self.dialect.title} can run it, or "
                         "score with the Python or DuckDB engine"))

    def now(self) -> exp.Expression:
        return x.bigint(self.as_of_us)


class OperatorContext:
    """`model.operators.SqlContext` for one value of one kind in one dialect. A construct the
    dialect cannot express becomes a diagnostic (and a FALSE in its place)."""

    def __init__(self, ctx: CompileContext, kind: PropertyType) -> None:
        self.ctx = ctx
        self.kind = kind
        self.as_of_us = ctx.as_of_us

    def fold(self, value: exp.Expression) -> exp.Expression:
        return x.func("LOWER", value) if self.kind in TEXT_KINDS else value

    def literal(self, value: Any) -> exp.Expression:
        return x.literal(value)

    def _construct(self, name: str, *args: Any) -> exp.Expression:
        try:
            return self.ctx.dialect(name, *args)
        except Unsupported as exc:
            self.ctx.unsupported(str(exc))
            return exp.false()

    def contains(self, text: exp.Expression, part: str) -> exp.Expression:
        return self._construct("contains", text, part)

    def starts_with(self, text: exp.Expression, prefix: str) -> exp.Expression:
        return self._construct("starts_with", text, prefix)

    def ends_with(self, text: exp.Expression, suffix: str) -> exp.Expression:
        return self._construct("ends_with", text, suffix)

    def glob(self, text: exp.Expression, globs: tuple[str, ...]) -> exp.Expression:
        return self._construct("glob", text, globs)

    def regex(self, text: exp.Expression, pattern: str) -> exp.Expression:
        return self._construct("regex", text, pattern)
