from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    """Where a mistake is: a file and, when known, a 1-based line and column, or a field; or
    the 0-based `index` of an item in a batch sent to the HTTP API (and its field)."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None
    index: int | None = None

    def __str__(self) -> str:
        if self.index is not None and self.file is None:
            return f"item {self.index}" + (f" ({self.field})" if self.field else "")
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        text = ":".join(parts)
        if self.field:
            text += f" ({self.field})"
        return text


@dataclass(frozen=True)
class Diagnostic:
    """One user mistake. `code` is stable and documented in docs/errors.md."""

    code: str
    message: str
    location: Location = field(default_factory=Location)
    text: str | None = None  # the offending text, as written
    hint: str | None = None
    severity: str = "error"  # "error" or "warning"

    def to_dict(self) -> dict[str, object]:
        loc = self.location
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": loc.file,
            "line": loc.line,
            "column": loc.column,
            "field": loc.field,
            "text": self.text,
            "hint": self.hint,
        }

    def __str__(self) -> str:
        text = f"{self.location}: {self.code} {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class DiagnosticList:
    """Collects every mistake of one run, so all of them are reported at once."""

    def __init__(self, limit: int | None = None) -> None:
        self._items: list[Diagnostic] = []
        self.limit = limit  # beyond it, mistakes are only counted (bounded memory)
        self.dropped = 0

    def add(self, diagnostic: Diagnostic) -> None:
        if self.limit is not None and len(self._items) >= self.limit:
            self.dropped += 1
            return
        self._items.append(diagnostic)

    def error(self, code: str, message: str, location: Location | None = None, *,
              text: str | None = None, hint: str | None = None) -> None:
        self.add(Diagnostic(code, message, location or Location(), text, hint))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for diagnostic in diagnostics:
            self.add(diagnostic)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self._items if d.severity == "error"]

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items) + self.dropped

    def raise_if_errors(self) -> None:
        if self.errors:
            raise LeadscoreError(sorted(self._items, key=_sort_key))


def _sort_key(d: Diagnostic) -> tuple[str, int, int]:
    return (d.location.file or "", d.location.line or 0, d.location.column or 0)


class LeadscoreError(Exception):
    """A user mistake (exit code 1). Carries one or more diagnostics."""

    def __init__(self, diagnostics: Diagnostic | list[Diagnostic]):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = diagnostics
        first = diagnostics[0] if diagnostics else None
        more = f" … and {len(diagnostics) - 1} more" if len(diagnostics) > 1 else ""
        super().__init__(f"{first}{more}" if first else "leadscore error")

    @classmethod
    def single(cls, code: str, message: str, location: Location | None = None, *,
               text: str | None = None, hint: str | None = None) -> LeadscoreError:
        return cls(Diagnostic(code, message, location or Location(), text, hint))


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A 'did you mean …?' hint for a misspelt name, or None when nothing is close."""
    matches = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None
