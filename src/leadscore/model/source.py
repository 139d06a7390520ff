"""Read YAML into plain Python values while remembering where every key and value was written.

PyYAML silently keeps the last of two duplicate keys and forgets positions once it builds
Python objects; composing the node tree first and building values ourselves keeps both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

import yaml

from leadscore.diagnostics import Diagnostic, LeadscoreError, Location

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Span:
    line: int  # 1-based
    column: int  # 1-based
    text: str  # the source text of the node (one line at most)


@dataclass
class SourceDocument:
    file: str
    text: str
    data: Any
    values: dict[Path, Span] = field(default_factory=dict)
    keys: dict[Path, Span] = field(default_factory=dict)

    def location(self, path: Path, *, key: bool = False) -> tuple[Location, str | None]:
        """The place of `path` (its key when `key`), falling back to the nearest parent."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            span = table.get(probe) or (self.values.get(probe) if key else self.keys.get(probe))
            if span is not None:
                return Location(self.file, span.line, span.column), span.text
            probe = probe[:-1]
        return Location(self.file, 1, 1), None


def read_source(path: str | FilePath, *, code: str, what: str, hint: str) -> str:
    """The text of a definition file, or a diagnostic (`code`) when it cannot be read."""
    file = str(path)
    try:
        return FilePath(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LeadscoreError(Diagnostic(code, f"{what} not found: {file}", Location(file),
                                        hint=hint)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LeadscoreError(Diagnostic(code, f"cannot read {what}: {exc}",
                                        Location(file))) from None


def read_yaml(text: str, file: str) -> SourceDocument:
    """Parse `text`; every syntax error or duplicate key is raised as diagnostics together."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise LeadscoreError(Diagnostic(
            "LS101", f"YAML syntax error: {problem}", Location(file, line, column),
            hint="check indentation and that every ':' in a value is quoted",
        )) from None
    except yaml.YAMLError as exc:  # pragma: no cover - non-marked errors are rare
        raise LeadscoreError(Diagnostic("LS101", f"YAML syntax error: {exc}",
                                        Location(file))) from None
    document = SourceDocument(file=file, text=text, data=None)
    if node is None:
        return document
    problems: list[Diagnostic] = []
    lines = text.splitlines()
    document.data = _build(node, (), document, problems, lines)
    if problems:
        raise LeadscoreError(problems)
    return document


def _span(node: yaml.Node, lines: list[str]) -> Span:
    start, end = node.start_mark, node.end_mark
    line_text = lines[start.line] if start.line < len(lines) else ""
    if end.line == start.line:
        snippet = line_text[start.column:end.column]
    else:
        snippet = line_text[start.column:]
    return Span(start.line + 1, start.column + 1, snippet.strip())


_constructor = yaml.SafeLoader(" ")


def _build(node: yaml.Node, path: Path, doc: SourceDocument, problems: list[Diagnostic],
           lines: list[str]) -> Any:
    doc.values[path] = _span(node, lines)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        seen: dict[Any, Span] = {}
        for key_node, value_node in node.value:
            key = _build(key_node, path + ("<key>",), doc, problems, lines)
            if isinstance(key, list | dict):
                problems.append(Diagnostic("LS104", "a key must be a plain name",
                                           Location(doc.file, key_node.start_mark.line + 1,
                                                    key_node.start_mark.column + 1)))
                continue
            key_span = _span(key_node, lines)
            if key in seen:
                first = seen[key]
                problems.append(Diagnostic(
                    "LS102", f"duplicate key '{key}' (first written on line {first.line})",
                    Location(doc.file, key_span.line, key_span.column), text=str(key),
                    hint="YAML keeps only one of them; remove or rename one",
                ))
                continue
            seen[key] = key_span
            child = path + (key,)
            doc.keys[child] = key_span
            result[key] = _build(value_node, child, doc, problems, lines)
        doc.values.pop(path + ("<key>",), None)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), doc, problems, lines)
                for i, item in enumerate(node.value)]
    return _constructor.construct_object(node, deep=True)
