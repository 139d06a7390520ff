"""RE2 patterns and globs in the regular expressions of PostgreSQL (ARE) and Java (Spark).

The criteria language's `regex` is RE2 syntax, which the Python evaluator and DuckDB run as
written. PostgreSQL's and Java's engines read some of the same text differently:

| RE2                  | PostgreSQL ARE               | Java                            |
|----------------------|------------------------------|---------------------------------|
| `\\b`, `\\B` (ASCII)  | `\\b` is a backspace          | word = Unicode letters          |
| `\\d \\w \\s` (ASCII) | locale classes               | `\\s` includes \\x0B            |
| `.` (not newline)    | matches newline              | excludes \\r, \\u0085, … too    |
| `$` (end of text)    | same                         | also before a final newline     |
| `\\z`                | `\\Z`                         | same                            |
| `{n,m}` up to 1000   | up to 255                    | same                            |
| `(?P<name>…)`        | no named groups              | `(?<name>…)`                    |

`to_postgres` and `to_java` rewrite a pattern token by token into an expression that means
exactly what RE2 means (ASCII classes and word boundaries spelled out, `.` as `[^\\n]`, every
non-alphanumeric character escaped by code point), and raise `Untranslatable` for what cannot
be said (Unicode classes `\\p{…}`, `\\C`, the `m` flag, PostgreSQL repetition counts above 255).
Anchors are grouped, since RE2 lets a quantifier follow one and ARE does not. Case-insensitivity
is the caller's (`~*`, `(?iu)`).
"""

from __future__ import annotations

from dataclasses import dataclass

from leadscore.model.patterns import MAX_CODE_POINT, GlobClass, GlobToken

POSTGRES = "postgres"
JAVA = "java"

_WORD = [("0", "9"), ("A", "Z"), ("a", "z"), ("_", "_")]
_DIGIT = [("0", "9")]
_SPACE = [("\t", "\n"), ("\f", "\r"), (" ", " ")]  # RE2's \s: \t \n \f \r and space
_POSIX = {
    "alnum": [("0", "9"), ("A", "Z"), ("a", "z")],
    "alpha": [("A", "Z"), ("a", "z")],
    "ascii": [("\x00", "\x7f")],
    "blank": [("\t", "\t"), (" ", " ")],
    "cntrl": [("\x00", "\x1f"), ("\x7f", "\x7f")],
    "digit": _DIGIT,
    "graph": [("!", "~")],
    "lower": [("a", "z")],
    "print": [(" ", "~")],
    "punct": [("!", "/"), (":", "@"), ("[", "`"), ("{", "~")],
    "space": [("\t", "\r"), (" ", " ")],
    "upper": [("A", "Z")],
    "word": _WORD,
    "xdigit": [("0", "9"), ("A", "F"), ("a", "f")],
}
_CONTROL = {"a": "\x07", "f": "\x0c", "t": "\t", "n": "\n", "r": "\r", "v": "\x0b"}
_PERL = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
PG_MAX_REPEAT = 255


class Untranslatable(ValueError):
    """A construct the target engine cannot express exactly; the message says which."""


@dataclass
class _Flags:
    dot_all: bool = False


def char(c: str, target: str) -> str:
    """One literal character: ASCII letters and digits as they are, anything else by code
    point (`\\uXXXX`; astral characters `\\U…` in PostgreSQL, `\\x{…}` in Java)."""
    if c.isascii() and c.isalnum():
        return c
    code = ord(c)
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    return f"\\U{code:08X}" if target == POSTGRES else f"\\x{{{code:X}}}"


def char_class(ranges: list[tuple[str, str]], negated: bool, target: str) -> str:
    items = [char(lo, target) if lo == hi else f"{char(lo, target)}-{char(hi, target)}"
             for lo, hi in ranges]
    if not items:  # an empty set matches nothing; negated, any character
        low = "\\u0001" if target == POSTGRES else "\\u0000"  # PostgreSQL text has no NUL
        return "[\\s\\S]" if negated else f"[^{low}-{char(chr(MAX_CODE_POINT), target)}]"
    return ("[^" if negated else "[") + "".join(items) + "]"


# characters outside ASCII whose other case is an ASCII letter (ſ → S, ı → I, K → k): a
# case-insensitive engine would let them bring those letters into a class
# (tests/sql/test_dialect.py checks the list against Python's own case mappings)
FOLDS_TO_ASCII = ["\u0131", "\u017f", "\u212a"]


def complement(ranges: list[tuple[str, str]], target: str) -> list[tuple[str, str]]:
    """Every code point outside `ranges` (PostgreSQL's text has no NUL: it is left out). Under
    case-insensitive matching a character in a class matches its other case too, so when
    `ranges` holds letters the complement leaves out the characters that fold onto them."""
    out = []
    low = 1 if target == POSTGRES else 0
    if any(lo.isalpha() or hi.isalpha() or lo < "A" < hi for lo, hi in ranges):
        ranges = ranges + [(c, c) for c in FOLDS_TO_ASCII]
    for lo, hi in sorted(ranges):
        if ord(lo) > low:
            out.append((chr(low), chr(ord(lo) - 1)))
        low = max(low, ord(hi) + 1)
    if low <= MAX_CODE_POINT:
        out.append((chr(low), chr(MAX_CODE_POINT)))
    return out


def _word_boundary(target: str, negated: bool) -> str:
    w = char_class(_WORD, False, target)
    if negated:
        return f"(?:(?<={w})(?={w})|(?<!{w})(?!{w}))"
    return f"(?:(?<={w})(?!{w})|(?<!{w})(?={w}))"


def to_postgres(pattern: str) -> str:
    """An RE2 pattern (already accepted by RE2) as a PostgreSQL ARE with the same matches."""
    return _Translator(pattern, POSTGRES).run()


def to_java(pattern: str) -> str:
    """An RE2 pattern (already accepted by RE2) as a Java regular expression (Spark RLIKE)."""
    return _Translator(pattern, JAVA).run()


class _Translator:
    def __init__(self, pattern: str, target: str) -> None:
        self.p = pattern
        self.i = 0
        self.target = target
        self.out: list[str] = []
        self.flags = [_Flags()]

    def run(self) -> str:
        p = self.p
        while self.i < len(p):
            c = p[self.i]
            self.i += 1
            if c == "\\":
                self.out.append(self.escape())
            elif c == "[":
                self.out.append(self.char_set())
            elif c == ".":
                any_char = "[\\s\\S]" if self.target == JAVA else "."
                self.out.append(any_char if self.flags[-1].dot_all else "[^\\n]")
            elif c == "^":  # grouped: RE2 lets a quantifier follow an anchor, ARE does not
                self.out.append("(?:^)")
            elif c == "$":
                self.out.append("(?:$)" if self.target == POSTGRES else "(?:\\z)")
            elif c == "(":
                self.out.append(self.group())
            elif c == ")":
                self.flags.pop()
                self.out.append(")")
            elif c in "|*+?":
                self.out.append(c)
            elif c == "{":
                self.out.append(self.repeat())
            else:
                self.out.append(char(c, self.target))
        return "".join(self.out)

    # pieces ---------------------------------------------------------------------------------
    def escape(self) -> str:
        p, target = self.p, self.target
        c = p[self.i]
        self.i += 1
        if c in _PERL:
            return char_class(_PERL[c], False, target)
        if c.lower() in _PERL:
            return char_class(_PERL[c.lower()], True, target)
        if c in "bB":
            return _word_boundary(target, c == "B")
        if c == "A":
            return "(?:^)"
        if c == "z":
            return "(?:\\Z)" if target == POSTGRES else "(?:\\z)"
        if c == "Q":
            end = p.find("\\E", self.i)
            end = len(p) if end < 0 else end
            text, self.i = p[self.i:end], min(len(p), end + 2)
            return "".join(char(x, target) for x in text)
        if c in "pP":
            raise Untranslatable(f"the Unicode class \\{c}… (write the characters out, e.g. "
                                 "[a-zà-ÿ])")
        if c == "C":
            raise Untranslatable("\\C (any byte)")
        return char(self.escaped_char(c), target)

    def escaped_char(self, c: str) -> str:
        """The character an escape stands for (after the backslash and `c`)."""
        p = self.p
        if c in _CONTROL:
            return _CONTROL[c]
        if c == "x":
            if p[self.i:self.i + 1] == "{":
                end = p.index("}", self.i)
                code, self.i = int(p[self.i + 1:end], 16), end + 1
            else:
                code, self.i = int(p[self.i:self.i + 2], 16), self.i + 2
            return chr(code)
        if c in "01234567":
            digits = c
            while len(digits) < 3 and p[self.i:self.i + 1] in tuple("01234567"):
                digits += p[self.i]
                self.i += 1
            return chr(int(digits, 8))
        if c.isascii() and c.isalnum():
            raise Untranslatable(f"the escape \\{c}")
        return c  # escaped punctuation

    def group(self) -> str:
        p = self.p
        flags = _Flags(self.flags[-1].dot_all)
        if p[self.i:self.i + 1] != "?":
            self.flags.append(flags)
            return "("
        self.i += 1
        if p[self.i] == ":":
            self.i += 1
            self.flags.append(flags)
            return "(?:"
        if p[self.i] == "P" or p[self.i] == "<":  # a named group: the name does not matter
            self.i = p.index(">", self.i) + 1
            self.flags.append(flags)
            return "("
        end = self.i
        while p[end] not in ":)":
            end += 1
        spec, closer = p[self.i:end], p[end]
        self.i = end + 1
        on, _, off = spec.partition("-")
        for letter in on + off:
            if letter == "m":
                raise Untranslatable("the flag (?m) (multi-line ^ and $)")
            if letter == "s":
                flags.dot_all = letter in on
            # i: every regex already ignores case; U: greediness never changes whether a
            # pattern matches somewhere
        if "i" in off:
            raise Untranslatable("the flag (?-i) (the criteria language ignores case)")
        if closer == ")":  # the flags hold to the end of the enclosing group
            self.flags[-1] = flags
            return ""
        self.flags.append(flags)
        return "(?:"

    def repeat(self) -> str:
        p = self.p
        end = p.find("}", self.i)
        body = p[self.i:end] if end >= 0 else ""
        low, comma, high = body.partition(",")
        if end < 0 or not low.isdigit() or (high and not high.isdigit()):
            return char("{", self.target)  # not a repetition: a literal brace, as in RE2
        self.i = end + 1
        counts = [int(low)] + ([int(high)] if high else [])
        if self.target == POSTGRES and max(counts) > PG_MAX_REPEAT:
            raise Untranslatable(f"the repetition {{{body}}} (PostgreSQL allows at most "
                                 f"{PG_MAX_REPEAT})")
        return "{" + body + "}"

    def char_set(self) -> str:
        p = self.p
        negated = p[self.i:self.i + 1] == "^"
        if negated:
            self.i += 1
        ranges: list[tuple[str, str]] = []
        first = True
        while True:
            c = p[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if p.startswith("[:", self.i):
                end = p.index(":]", self.i + 2)
                name = p[self.i + 2:end]
                self.i = end + 2
                if name.startswith("^"):
                    ranges.extend(complement(_POSIX[name[1:]], self.target))
                else:
                    ranges.extend(_POSIX[name])
                continue
            lo = self.set_char()
            if isinstance(lo, list):
                ranges.extend(lo)
                continue
            if p[self.i] == "-" and p[self.i + 1] != "]":
                self.i += 1
                hi = self.set_char()
                assert isinstance(hi, str)
                ranges.append((lo, hi))
            else:
                ranges.append((lo, lo))
        return char_class(ranges, negated, self.target)

    def set_char(self) -> str | list[tuple[str, str]]:
        """One member of a class: a character, or the ranges of `\\d`, `\\w`, `\\s`."""
        p = self.p
        c = p[self.i]
        self.i += 1
        if c != "\\":
            return c
        e = p[self.i]
        self.i += 1
        if e in _PERL:
            return list(_PERL[e])
        if e.lower() in _PERL:
            return complement(_PERL[e.lower()], self.target)
        if e in "pP":
            raise Untranslatable(f"the Unicode class \\{e}… inside a class")
        return self.escaped_char(e)


# --- globs -----------------------------------------------------------------------------------

def glob_full_match(tokens: tuple[GlobToken, ...], target: str) -> str:
    """A glob (`model.patterns.parse_glob`) as a full-match expression for `target`:
    anchored, `*` and `?` across newlines as in fnmatch."""
    any_char = "." if target == POSTGRES else "[\\s\\S]"
    out = []
    for token in tokens:
        if isinstance(token, GlobClass):
            if token.empty and token.negated:
                out.append(any_char)
                continue
            ranges = [(c, c) for c in token.chars] + list(token.ranges)
            out.append(char_class(ranges, token.negated, target))
        elif token == "*":
            out.append(any_char + "*")
        elif token == "?":
            out.append(any_char)
        else:
            out.append(char(token[1], target))
    end = "$" if target == POSTGRES else "\\z"
    return "^(?:" + "".join(out) + ")" + end
