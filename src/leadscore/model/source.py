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
from leadscore.model.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES

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
        with open(path, "rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)  # at most: a FIFO or a huge file cannot hang
        if len(data) > MAX_FILE_BYTES:
            raise LeadscoreError(Diagnostic(
                "LS107", f"{what} is larger than {MAX_FILE_BYTES:,} bytes", Location(file),
                hint="leadscore reads definition files up to 1 MB (docs/limits.md)"))
        text = data.decode("utf-8")
        return text.replace("\r\n", "\n").replace("\r", "\n")  # as a text-mode read would
    except FileNotFoundError:
        raise LeadscoreError(Diagnostic(code, f"{what} not found: {file}", Location(file),
                                        hint=hint)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LeadscoreError(Diagnostic(code, f"cannot read {what}: {exc}",
                                        Location(file))) from None


def read_yaml(text: str, file: str) -> SourceDocument:
    """Parse `text`; every syntax error or duplicate key is raised as diagnostics together."""
    try:
        node = compose_yaml(text, file)
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
    document.data = _Builder(document, problems, lines).build(node, ())
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


def compose_yaml(text: str, file: str) -> yaml.Node | None:
    """`yaml.compose` within the limits of docs/limits.md: a collection nested deeper than
    MAX_DEPTH or more than MAX_NODES nodes is a diagnostic (LS107) before the composer, which
    recurses once per level, can exhaust the stack or memory."""
    loader = _BoundedLoader(text)
    loader.file = file
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


class _BoundedLoader(yaml.SafeLoader):
    file = "<yaml>"
    depth = 0
    nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        mark = self.peek_event().start_mark
        self.depth += 1
        self.nodes += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _limit(self.file, mark.line + 1, mark.column + 1,
                             f"values are nested more than {MAX_DEPTH} levels deep",
                             "flatten the structure; a deeper file is refused so that reading it "
                             "cannot exhaust the stack")
            if self.nodes > MAX_NODES:
                raise _limit(self.file, mark.line + 1, mark.column + 1,
                             f"the file holds more than {MAX_NODES:,} values",
                             "split it into smaller files")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _limit(file: str, line: int | None, column: int | None, message: str,
           hint: str) -> LeadscoreError:
    return LeadscoreError(Diagnostic("LS107", message, Location(file, line, column),
                                     hint=hint + " (limits: docs/limits.md)"))


class _Builder:
    """Plain values from composed nodes. Aliases are expanded, so the values built (not the
    nodes written) are counted and their depth bounded: an alias bomb stops at MAX_NODES."""

    def __init__(self, doc: SourceDocument, problems: list[Diagnostic], lines: list[str]) -> None:
        self.doc = doc
        self.problems = problems
        self.lines = lines
        self.count = 0
        # one per document: a constructor keeps every node it has read (a shared one would
        # keep every file ever read, text and all)
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: Path, depth: int = 1) -> Any:
        self.count += 1
        if self.count > MAX_NODES or depth > MAX_DEPTH:
            mark = node.start_mark
            what = (f"more than {MAX_NODES:,} values" if self.count > MAX_NODES
                    else f"values nested more than {MAX_DEPTH} levels deep")
            raise _limit(self.doc.file, mark.line + 1, mark.column + 1,
                         f"the file's aliases (*name) expand to {what}",
                         "write the values out, or use fewer aliases of aliases")
        return _build(node, path, self, depth)


def _build(node: yaml.Node, path: Path, builder: _Builder, depth: int) -> Any:
    doc, problems, lines = builder.doc, builder.problems, builder.lines
    doc.values[path] = _span(node, lines)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        seen: dict[Any, Span] = {}
        for key_node, value_node in node.value:
            key = builder.build(key_node, path + ("<key>",), depth + 1)
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
            result[key] = builder.build(value_node, child, depth + 1)
        doc.values.pop(path + ("<key>",), None)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [builder.build(item, path + (i,), depth + 1)
                for i, item in enumerate(node.value)]
    try:
        return builder.constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        # an unknown tag (!foo, !!python/…), or a value its tag cannot read (2026-13-45)
        span = doc.values[path]
        problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        problems.append(Diagnostic(
            "LS101", f"YAML cannot read the value {span.text!r}: {problem}",
            Location(doc.file, span.line, span.column), text=span.text,
            hint=f"quote it to keep it as text: \"{span.text}\""))
        return None
