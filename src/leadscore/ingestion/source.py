"""Reading an import file: its format, its text, and its rows with their physical line numbers.

CSV rows carry the line a record starts on (the header is line 1; a quoted cell may span
lines); JSONL rows carry their line. Structural mistakes (encoding, ragged rows, malformed
JSON) are collected into the caller's DiagnosticList so one run reports all of them.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leadscore.diagnostics import DiagnosticList, LeadscoreError, Location
from leadscore.ingestion.delimiters import (
    SNIFF_BYTES,
    delimiter_name,
    locate_record_error,
    sniff_delimiter,
)

Progress = Callable[[int, int], None]
PROGRESS_EVERY = 2_000  # rows between two progress callbacks

_SNAKE = re.compile(r"[^0-9a-zA-Z]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class FileFormat(enum.StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


_EXTENSIONS = {".csv": FileFormat.CSV, ".jsonl": FileFormat.JSONL, ".ndjson": FileFormat.JSONL}


def detect_format(path: Path) -> FileFormat:
    """The format named by the file's extension (.csv, .jsonl or .ndjson)."""
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise LeadscoreError.single(
            "LS201", f"cannot import '{path.name}': the format of a "
                     f"'{path.suffix or '(no extension)'}' file is not known",
            Location(file=str(path)), text=path.suffix or None,
            hint="import a .csv file (with a header row) or a .jsonl / .ndjson file "
                 "(one JSON object per line); rename the file if it is one of those",
        )
    return found


def read_text(path: Path) -> str:
    """The file's text (UTF-8, with or without a byte-order mark)."""
    with _open_binary(path) as handle:
        data = handle.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise LeadscoreError.single(
            "LS203", f"the file is not UTF-8 text: byte 0x{data[error.start]:02x} on line {line} "
                     "is not valid UTF-8",
            Location(file=str(path), line=line, column=column),
            hint="save the file as UTF-8 (in Excel: 'CSV UTF-8'; or convert it with "
                 "`iconv -f latin1 -t utf-8`)",
        ) from None


def snake_case(name: str) -> str:
    """'Number of Employees' → 'number_of_employees'; 'leadScore' → 'lead_score'."""
    text = _SNAKE.sub("_", _CAMEL.sub("_", name.strip())).strip("_").lower()
    if not text:
        return ""
    return text if not text[0].isdigit() else f"col_{text}"


class Ticker:
    """Calls `progress(done, total)` every PROGRESS_EVERY rows and once at the end."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total = max(total, 1)
        self._next = PROGRESS_EVERY

    def tick(self, rows: int, done: int) -> None:
        if self.progress is not None and rows >= self._next:
            self._next = rows + PROGRESS_EVERY
            self.progress(min(done, self.total), self.total)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.total, self.total)


@dataclass(frozen=True)
class CsvTable:
    """A CSV file: its header and its rows as (line, cells) pairs."""

    header: list[str]
    rows: list[tuple[int, list[str]]]


class ByteTicker:
    """Progress by bytes read: `progress(done, total)` about every percent of the file."""

    def __init__(self, progress: Progress | None, path: Path) -> None:
        self.progress = progress
        try:
            self.total = max(path.stat().st_size, 1)
        except OSError:
            self.total = 1
        self.done = 0
        self.step = max(self.total // 100, 16 << 10)  # about every 1 %, at least 16 KiB
        self._next = self.step

    def add(self, count: int) -> None:
        self.done += count
        if self.progress is not None and self.done >= self._next:
            self._next = self.done + self.step
            self.progress(min(self.done, self.total), self.total)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.total, self.total)


def _open_binary(path: Path) -> Any:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise LeadscoreError.single(
            "LS202", f"the file {path} does not exist", Location(file=str(path)),
            hint="check the path (it is relative to the current folder)",
        ) from None
    except OSError as error:
        raise LeadscoreError.single(
            "LS202", f"cannot read {path}: {error.strerror or error}", Location(file=str(path)),
            hint="check that it is a file and that you may read it",
        ) from None


def sniff_file_delimiter(path: Path) -> str:
    """`sniff_delimiter` over the first SNIFF_BYTES of a file (undecodable bytes are left to
    the reader, which names their line)."""
    with _open_binary(path) as handle:
        data = handle.read(SNIFF_BYTES)
    return sniff_delimiter(data.decode("utf-8-sig", errors="replace"))


def iter_text_lines(path: Path, ticker: ByteTicker | None = None) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line of a UTF-8 file, read as it goes (a byte-order mark
    is dropped; line ends are kept). A byte that is not UTF-8 stops it with LS203."""
    with _open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            if ticker is not None:
                ticker.add(len(raw))
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise LeadscoreError.single(
                    "LS203", f"the file is not UTF-8 text: byte 0x{raw[error.start]:02x} on "
                             f"line {number} is not valid UTF-8",
                    Location(file=str(path), line=number, column=error.start + 1),
                    hint="save the file as UTF-8 (in Excel: 'CSV UTF-8'; or convert it with "
                         "`iconv -f latin1 -t utf-8`)",
                ) from None
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield number, text


@dataclass
class CsvStream:
    """A CSV file read as it goes: its header, then (line, cells) rows (`rows()`)."""

    path: Path
    header: list[str]
    header_line: int
    _rows: Iterator[tuple[int, list[str]]]
    delimiter: str = ","

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        return self._rows


def _unreadable(diagnostics: DiagnosticList, file: str, raw: str, delimiter: str, line: int,
                error: csv.Error) -> None:
    at_line, at_column, what = locate_record_error(raw, delimiter, line)
    diagnostics.error(
        "LS221", f"the CSV file cannot be read past this point: {what} ({error})",
        Location(file=file, line=at_line, column=at_column),
        hint="a quote that opens a cell must close it; double a quote inside a quoted cell "
             "(\"\")" if "field larger" not in str(error) else
        f"a cell may hold at most {csv.field_size_limit():,} characters",
    )


def _ragged(diagnostics: DiagnosticList, file: str, raw: str, delimiter: str, line: int,
            cells: int, header: int) -> None:
    at_line, at_column, what = locate_record_error(raw, delimiter, line, expected=header)
    diagnostics.error(
        "LS207", f"this row has {cells} cells but the header has {header} ({what}; the file "
                 f"is read as {delimiter_name(delimiter)}-separated)",
        Location(file=file, line=at_line, column=at_column),
        hint=f"a cell holding a {delimiter_name(delimiter)} must be quoted (\"Acme{delimiter} "
             "Inc.\"); check for a missing or extra separator, or give --delimiter",
    )


def stream_csv(path: Path, diagnostics: DiagnosticList, progress: Progress | None = None, *,
               delimiter: str | None = None) -> CsvStream:
    """Like `read_csv`, but rows are read as they are asked for (bounded memory). The
    delimiter is detected from the first lines unless given."""
    file = str(path)
    delimiter = delimiter or sniff_file_delimiter(path)
    ticker = ByteTicker(progress, path)
    lines = iter_text_lines(path, ticker)
    pending: list[str] = []  # the raw lines of the record being read

    def feed() -> Iterator[str]:
        for _, text in lines:
            pending.append(text)
            yield text

    reader = csv.reader(feed(), delimiter=delimiter, strict=True)
    state = {"end": 0}

    def records() -> Iterator[tuple[int, list[str], str]]:
        try:
            for cells in reader:
                line = state["end"] + 1
                state["end"] = reader.line_num
                raw = "".join(pending)
                pending.clear()
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                yield line, cells, raw
        except csv.Error as error:
            _unreadable(diagnostics, file, "".join(pending), delimiter, state["end"] + 1, error)
            pending.clear()
        ticker.finish()

    found = records()
    first = next(found, None)
    if first is None:
        diagnostics.raise_if_errors()  # a quote in the header that never closes, say
        raise LeadscoreError.single(
            "LS204", "the file is empty: there is no header row", Location(file=file, line=1),
            hint="a CSV import starts with a header row naming the columns",
        )
    header_line, cells, _ = first
    header = [cell.strip() for cell in cells]
    _check_header(header, file, header_line, diagnostics)

    def body() -> Iterator[tuple[int, list[str]]]:
        for line, row, raw in found:
            if len(row) != len(header):
                _ragged(diagnostics, file, raw, delimiter, line, len(row), len(header))
                continue
            yield line, row

    return CsvStream(path, header, header_line, body(), delimiter)


def json_object(raw: str, file: str, number: int, diagnostics: DiagnosticList,
                loads: Callable[[str], Any] = json.loads) -> dict[str, Any] | None:
    """One JSON Lines line as an object, or None with its mistake noted (LS208, LS209)."""
    try:
        value = loads(raw)
    except json.JSONDecodeError as error:
        diagnostics.error(
            "LS208", f"this line is not valid JSON: {error.msg}",
            Location(file=file, line=number, column=error.colno),
            text=raw[max(error.colno - 1, 0):][:20] or None,
            hint="each line of a .jsonl file must be one complete JSON object",
        )
        return None
    except RecursionError:
        diagnostics.error(
            "LS208", "this line nests arrays or objects too deeply to read",
            Location(file=file, line=number),
            hint="flatten the value: properties and attributes are a few levels deep at most",
        )
        return None
    if not isinstance(value, dict):
        diagnostics.error(
            "LS209", f"this line holds a JSON {_json_kind(value)}, not an object",
            Location(file=file, line=number),
            hint='write one object per line, e.g. {"contact_id": "c1", ...}',
        )
        return None
    return value


def stream_jsonl(path: Path, diagnostics: DiagnosticList,
                 progress: Progress | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Like `read_jsonl`, but objects are read as they are asked for (bounded memory)."""
    file = str(path)
    ticker = ByteTicker(progress, path)
    loads = json.loads
    for number, raw in iter_text_lines(path, ticker):
        if not raw.strip():
            continue
        value = json_object(raw, file, number, diagnostics, loads)
        if value is not None:
            yield number, value
    ticker.finish()


def read_csv(path: Path, text: str, diagnostics: DiagnosticList,
             progress: Progress | None = None, *, delimiter: str | None = None) -> CsvTable:
    file = str(path)
    delimiter = delimiter or sniff_delimiter(text[:SNIFF_BYTES])
    total = text.count("\n") + (0 if text.endswith("\n") else 1)
    ticker = Ticker(progress, total)
    physical = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    previous_end = 0
    try:
        for cells in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            if header is None:
                header = [cell.strip() for cell in cells]
                _check_header(header, file, line, diagnostics)
                continue
            if len(cells) != len(header):
                _ragged(diagnostics, file, "".join(physical[line - 1:previous_end]), delimiter,
                        line, len(cells), len(header))
                continue
            rows.append((line, cells))
            ticker.tick(len(rows), line)
    except csv.Error as error:
        _unreadable(diagnostics, file, "".join(physical[previous_end:]), delimiter,
                    previous_end + 1, error)
    if header is None:
        diagnostics.raise_if_errors()
        raise LeadscoreError.single(
            "LS204", "the file is empty: there is no header row", Location(file=file, line=1),
            hint="a CSV import starts with a header row naming the columns",
        )
    ticker.finish()
    return CsvTable(header, rows)


def _check_header(header: list[str], file: str, line: int, diagnostics: DiagnosticList) -> None:
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        if not name:
            diagnostics.error("LS205", f"column {index + 1} of the header has no name",
                              Location(file=file, line=line, field=f"column {index + 1}"),
                              hint="give every column a name, or delete the empty column")
        elif name in seen:
            diagnostics.error("LS206", f"the column '{name}' appears twice in the header",
                              Location(file=file, line=line, field=name),
                              hint="rename or delete one of the two columns")
        seen[name] = index


def read_jsonl(path: Path, text: str, diagnostics: DiagnosticList,
               progress: Progress | None = None) -> list[tuple[int, dict[str, Any]]]:
    """The objects of a JSON Lines file with their line numbers (blank lines are skipped)."""
    file = str(path)
    lines = text.split("\n")
    ticker = Ticker(progress, len(lines))
    rows: list[tuple[int, dict[str, Any]]] = []
    numbered = [(number, raw) for number, raw in enumerate(lines, start=1) if raw.strip()]
    parsed = _parse_all(raw for _, raw in numbered)
    if parsed is not None and len(parsed) == len(numbered) and all(
            type(value) is dict for value in parsed):
        for count, ((number, _), value) in enumerate(zip(numbered, parsed, strict=True), 1):
            rows.append((number, value))
            ticker.tick(count, number)
        ticker.finish()
        return rows
    loads = json.loads
    for number, raw in numbered:
        value = json_object(raw, file, number, diagnostics, loads)
        if value is None:
            continue
        rows.append((number, value))
        ticker.tick(len(rows), number)
    ticker.finish()
    return rows


def _parse_all(lines: Iterable[str]) -> list[Any] | None:
    """All lines parsed in one go (the fast path); None when any line is malformed."""
    try:
        parsed = json.loads("[" + ",".join(lines) + "]")
    except (json.JSONDecodeError, RecursionError):
        return None
    return parsed if isinstance(parsed, list) else None


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def require_rows(count: int, path: Path, what: str) -> None:
    if count == 0:
        raise LeadscoreError.single(
            "LS204", f"the file holds no {what}", Location(file=str(path)),
            hint="check that you picked the right file" +
                 (" (a CSV file needs a header row and at least one row below it)"
                  if path.suffix.lower() == ".csv" else ""),
        )
