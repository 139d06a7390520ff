"""Text patterns of the criteria language, as plain data every engine can read.

`matches` takes shell-style globs with exactly `fnmatch`'s meaning — `*` any run of characters,
`?` one character, `[seq]` / `[!seq]` a set with ranges, anything else itself — parsed here into
tokens (`parse_glob`), so the Python evaluator (`glob_regex`, an RE2 expression) and each SQL
dialect (LIKE, or its own regular expressions) build the same matcher from the same tokens.

`regex` takes RE2 syntax, the linear-time engine the Python evaluator and DuckDB use; a pattern
RE2 cannot compile (backreferences, lookaround) is a mistake in the model file. RE2 is imported
only when a pattern is checked or compiled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_CODE_POINT = 0x10FFFF


@dataclass(frozen=True)
class GlobClass:
    """`[...]`: characters and inclusive code point ranges; `negated` for `[!...]`."""

    negated: bool
    chars: tuple[str, ...]
    ranges: tuple[tuple[str, str], ...]

    @property
    def empty(self) -> bool:
        return not self.chars and not self.ranges


STAR = "*"  # a token: any run of characters (newlines included)
ANY = "?"  # a token: exactly one character
GlobToken = str | GlobClass  # STAR, ANY, a GlobClass, or ("=" + one literal character)


def parse_glob(pattern: str) -> tuple[GlobToken, ...]:
    """Tokens of a glob, following `fnmatch.translate` (Python 3.11) exactly: literal
    characters come as "=" + the character."""
    tokens: list[GlobToken] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if not tokens or tokens[-1] != STAR:
                tokens.append(STAR)
        elif c == "?":
            tokens.append(ANY)
        elif c == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                tokens.append("=[")
            else:
                tokens.append(_glob_class(pattern, i, j))
                i = j + 1
        else:
            tokens.append("=" + c)
    return tuple(tokens)


def _glob_class(pattern: str, i: int, j: int) -> GlobClass:
    """The set `pattern[i:j]` (between the brackets), split into characters and ranges the way
    fnmatch does: hyphens separate chunks, a range joins the chunks around each separator, and
    ranges whose ends are reversed are dropped."""
    content = pattern[i:j]
    if "-" not in content:
        chunks = [content]
    else:
        chunks = []
        k = i + 2 if pattern[i] == "!" else i + 1
        while True:
            k = pattern.find("-", k, j)
            if k < 0:
                break
            chunks.append(pattern[i:k])
            i = k + 1
            k = k + 3
        chunk = pattern[i:j]
        if chunk:
            chunks.append(chunk)
        else:
            chunks[-1] += "-"
        for k in range(len(chunks) - 1, 0, -1):
            if chunks[k - 1][-1] > chunks[k][0]:
                chunks[k - 1] = chunks[k - 1][:-1] + chunks[k][1:]
                del chunks[k]
    negated = content.startswith("!") and "".join(chunks) != "!"
    if "".join(chunks) == "!":  # `[!]`: fnmatch reads it as any one character
        return GlobClass(True, (), ())
    if negated:
        chunks[0] = chunks[0][1:]
    chars: list[str] = []
    ranges: list[tuple[str, str]] = []
    last = len(chunks) - 1
    for k, chunk in enumerate(chunks):
        start = 1 if k > 0 else 0
        end = len(chunk) - 1 if k < last else len(chunk)
        chars.extend(chunk[start:end])
        if k > 0:
            ranges.append((chunks[k - 1][-1], chunk[0]))
    return GlobClass(negated, tuple(chars), tuple(ranges))


def like_pattern(tokens: tuple[GlobToken, ...], escape: str = "!") -> str | None:
    """The glob as a SQL LIKE pattern with `escape` as the escape character, or None when it
    has a character set (LIKE cannot say that)."""
    out = []
    for token in tokens:
        if isinstance(token, GlobClass):
            return None
        if token == STAR:
            out.append("%")
        elif token == ANY:
            out.append("_")
        else:
            char = token[1]
            out.append(escape + char if char in ("%", "_", escape) else char)
    return "".join(out)


def re2_char(char: str) -> str:
    """One literal character in an RE2 expression."""
    if char.isascii() and char.isalnum():
        return char
    return f"\\x{{{ord(char):x}}}"


def glob_regex(tokens: tuple[GlobToken, ...]) -> str:
    """The glob as an RE2 expression for a full match (`.` matches newlines, as in fnmatch)."""
    out = ["(?s)"]
    for token in tokens:
        if isinstance(token, GlobClass):
            out.append(_re2_class(token))
        elif token == STAR:
            out.append(".*")
        elif token == ANY:
            out.append(".")
        else:
            out.append(re2_char(token[1]))
    return "".join(out)


def _re2_class(token: GlobClass) -> str:
    if token.empty:
        return "." if token.negated else f"[^\\x00-\\x{{{MAX_CODE_POINT:x}}}]"
    items = [re2_char(c) for c in token.chars]
    items += [f"{re2_char(lo)}-{re2_char(hi)}" for lo, hi in token.ranges]
    return ("[^" if token.negated else "[") + "".join(items) + "]"


class RegexError(ValueError):
    """A pattern RE2 cannot compile; the message is RE2's."""


def re2_options() -> Any:
    import re2  # google-re2: linear time, the engine DuckDB uses too

    options = re2.Options()
    options.log_errors = False
    return options


def compile_re2(pattern: str) -> Any:
    """An RE2 pattern object (raises RegexError)."""
    import re2

    try:
        return re2.compile(pattern, re2_options())
    except re2.error as exc:
        message = exc.args[0] if exc.args else str(exc)
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        raise RegexError(str(message)) from None


def case_insensitive(pattern: str) -> str:
    """The criteria language's `regex` ignores case: RE2's (?i), Unicode simple folding."""
    return "(?i)" + pattern
