"""The delimiter of a CSV import file: named on the command line or in a mapping
(`parse_delimiter`), or told from the file's first lines (`sniff_delimiter`); and where a
record the csv module rejects goes wrong (`locate_record_error`)."""

from __future__ import annotations

import csv
import io

from leadscore.diagnostics import LeadscoreError, Location

# -- the delimiter ---------------------------------------------------------------------------
DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": ",", ";": ";", "|": "|", "\t": "\t", "\\t": "\t", "tab": "\t",
                    "comma": ",", "semicolon": ";", "pipe": "|"}
SNIFF_BYTES = 64 << 10  # the first lines the delimiter is told from
SNIFF_RECORDS = 50


def parse_delimiter(text: str | None, where: Location | None = None) -> str | None:
    """A delimiter as a user writes it (`;`, `tab`, `\\t`, `|`, `,` or its name); None → detect."""
    if text is None:
        return None
    found = _DELIMITER_NAMES.get(text if text in _DELIMITER_NAMES else text.strip().lower())
    if found is None:
        raise LeadscoreError.single(
            "LS238", f"'{text}' is not a CSV delimiter leadscore reads",
            where or Location(field="--delimiter"), text=text,
            hint="use one of: ',' ';' '|' or tab (write tab or \\t)")
    return found


def delimiter_name(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(delimiter, delimiter)


def sniff_delimiter(sample: str) -> str:
    """The delimiter of CSV text from its first lines: of `,` `;` tab `|`, the one that splits
    the header into the most columns and the first records into as many cells as the header
    (a quoted cell may hold the others); `,` when none splits the header."""
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut short
    text = "".join(lines)
    best, best_key = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        try:
            records = []
            for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
                if cells and any(c.strip() for c in cells):
                    records.append(len(cells))
                if len(records) > SNIFF_RECORDS:
                    break
        except csv.Error:
            continue
        if not records or records[0] < 2:
            continue
        header, rest = records[0], records[1:]
        agree = sum(1 for n in rest if n == header) / len(rest) if rest else 1.0
        key = (agree, header)
        if key > best_key:
            best, best_key = delimiter, key
    return best


def locate_record_error(text: str, delimiter: str, first_line: int,
                        expected: int | None = None) -> tuple[int, int, str]:
    """(line, column, what) of the mistake in one CSV record's raw text, which starts on
    `first_line`: a quote that never closes, a character after a closing quote, or (with
    `expected`) the cell beyond the header's count or the end of a row that is short."""
    line, column = first_line, 1
    in_quotes, after_quote, quote_at = False, False, (first_line, 1)
    cells, cell_start = 1, (first_line, 1)
    at_cell_start = True
    for ch in text:
        if in_quotes:
            if ch == '"':
                in_quotes, after_quote = False, True
        elif after_quote:
            if ch == '"':
                in_quotes, after_quote = True, False  # a doubled quote inside the cell
            elif ch == delimiter:
                after_quote, at_cell_start = False, True
                cells += 1
                cell_start = (line, column + 1)
                if expected is not None and cells == expected + 1:
                    return (*cell_start, f"cell {cells} begins here")
            elif ch not in "\r\n":
                return line, column, f"'{ch}' follows the closing quote of a cell"
        elif ch == '"' and at_cell_start:
            in_quotes, quote_at, at_cell_start = True, (line, column), False
        elif ch == delimiter:
            cells += 1
            at_cell_start = True
            cell_start = (line, column + 1)
            if expected is not None and cells == expected + 1:
                return (*cell_start, f"cell {cells} begins here")
        elif ch not in "\r\n":
            at_cell_start = False
        if ch == "\n":
            line, column = line + 1, 1
        else:
            column += 1
    if in_quotes:
        return (*quote_at, "the quote that opens this cell never closes")
    end_line = first_line + text.rstrip("\r\n").count("\n")
    end_column = len(text.rstrip("\r\n").rsplit("\n", 1)[-1]) + 1
    return end_line, end_column, f"the row ends after {cells} cells"
