from __future__ import annotations

from pathlib import Path

from leadscore.diagnostics.diagnostic import Diagnostic

MAX_SHOWN = 50
MAX_LINE = 160  # longer source lines are shown around the column


def render_diagnostics(diagnostics: list[Diagnostic], *, sources: dict[str, str] | None = None,
                       limit: int = MAX_SHOWN) -> str:
    """Plain-text rendering: place, code, sentence, the offending line with a caret, hint."""
    sources = dict(sources or {})
    out: list[str] = []
    for diagnostic in diagnostics[:limit]:
        loc = diagnostic.location
        label = "warning" if diagnostic.severity == "warning" else "error"
        out.append(f"{loc}: {label} {diagnostic.code}: {diagnostic.message}")
        line_text = _source_line(loc.file, loc.line, sources)
        if line_text is not None and loc.line is not None:
            gutter = f"{loc.line:>5} | "
            column = max((loc.column or 1) - 1, 0)
            line_text, column = _window(line_text, column)
            out.append(gutter + line_text)
            width = max(len(diagnostic.text or "") if diagnostic.text else 1, 1)
            width = min(width, max(len(line_text) - column, 1))
            out.append(" " * (len(gutter) + column) + "^" * width)
        elif diagnostic.text:
            out.append(f"      found: {diagnostic.text}")
        if diagnostic.hint:
            out.append(f"      hint: {diagnostic.hint}")
    if len(diagnostics) > limit:
        out.append(f"… and {len(diagnostics) - limit} more")
    errors = sum(1 for d in diagnostics if d.severity == "error")
    warnings = len(diagnostics) - errors
    summary = [f"{errors} error{'s' if errors != 1 else ''}"]
    if warnings:
        summary.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    out.append(", ".join(summary))
    return "\n".join(out)


def _window(line: str, column: int) -> tuple[str, int]:
    """A long line cut to about MAX_LINE characters around the column (with … marks)."""
    if len(line) <= MAX_LINE:
        return line, column
    start = max(0, min(column - MAX_LINE // 3, len(line) - MAX_LINE))
    shown = line[start:start + MAX_LINE]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + MAX_LINE < len(line) else ""
    return prefix + shown + suffix, column - start + len(prefix)


def _source_line(file: str | None, line: int | None, sources: dict[str, str]) -> str | None:
    if file is None or line is None:
        return None
    if file not in sources:
        try:
            sources[file] = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            sources[file] = ""
    lines = sources[file].splitlines()
    if 1 <= line <= len(lines):
        return lines[line - 1]
    return None
