"""The dialect tables: each construct means in every engine what it means in Python — RE2
regular expressions (translated for PostgreSQL and Java), fnmatch globs, text tests, string
literals, lower(), the null rule of GREATEST/LEAST, the forward-only stage move."""

from __future__ import annotations

import fnmatch
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from leadscore.lifecycle.stage import STAGES, forward_move
from leadscore.model.patterns import (
    GlobClass,
    RegexError,
    case_insensitive,
    compile_re2,
    glob_regex,
    parse_glob,
)
from leadscore.sql import expr as x
from leadscore.sql.dialect import dialect_named
from leadscore.sql.lifecycle import forward_move_sql
from leadscore.sql.regex import FOLDS_TO_ASCII, Untranslatable, to_java, to_postgres
from tests.sql.expressions import evaluate

ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres),
           pytest.param("spark", marks=[pytest.mark.slow, pytest.mark.spark])]
TEXTS = ["foo", "a foo b", "abc", "a\nc", "12", "x1234", "john.doe@ex-ample.com", "  x", "colour",
         "dx", "a.b", "aXb", "ababab", "A", "école", "ÉCOLE", "Ü", "a{3", "a}", "x", "x\n", "]x",
         "boo", "fooé", "éfoo", "x\t", "{", "\\", ".", "1-", "", "Straße", "STRASSE", "naïve",
         "line\nbreak", "a%b_c", "it's", "50% off", "ÀÉÎ", "ÿ"]

# RE2 patterns that PostgreSQL's and Java's engines read differently, and plain ones
PATTERNS = [r"\bfoo\b", r"^a.c$", r"\d{2,3}", r"[\w.-]+@[\w-]+\.(com|de)", r"\s+x", r"colou?r",
            r"[^a-c]x", r"a\.b", r"\Qa.b\E", r"(?P<n>ab)+", r"(?s)a.c", r"[[:alpha:]]+[[:digit:]]",
            r"\x41\x{e9}", r"\101", r"é+", r"ÉCOLE", r"[à-ÿ]", r"a{3", r"a}", r"x\z", r"\Ax",
            r"[]a]", r"[^]a]x", r"\Bo\B", r"(?i)A", r"(?U)a+", r"[\d-]", r"a|b|", r"", r"$",
            r"[.]", r"\.", r"\\", r"\{", "\t", r"x$", r"\W", r"[\s\S]", r"ß", r"(?s:.)\n?",
            r"^$", r"%", r"_", r"'", r"[\D]", r"[[:^alpha:]x]", r"^*a", r"$?", r"\b+", r"\pL"]


def run_regexes(engine, request, patterns, texts):
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    dialect = dialect_named(engine)
    columns = {}
    skipped = []
    for i, pattern in enumerate(patterns):
        try:
            dialect("regex", x.column("t"), pattern)
        except ValueError:
            skipped.append(pattern)
            continue
        columns[f"m{i}"] = lambda t, p=pattern: dialect("regex", t, p)
    rows = evaluate(engine, texts, columns, pg=pg, spark=spark)
    problems = []
    for i, pattern in enumerate(patterns):
        if pattern in skipped:
            continue
        compiled = compile_re2(case_insensitive(pattern))
        for text, row in zip(texts, rows, strict=True):
            if row[f"m{i}"] != (compiled.search(text) is not None):
                problems.append((pattern, text, row[f"m{i}"]))
    return problems, skipped


@pytest.mark.parametrize("engine", ENGINES)
def test_regular_expressions_mean_what_re2_means(engine, request):
    problems, skipped = run_regexes(engine, request, PATTERNS, TEXTS)
    assert problems == []
    # only Unicode classes cannot be said in PostgreSQL's and Java's engines
    assert skipped == ([] if engine == "duckdb" else [r"\pL"])


@st.composite
def re2_patterns(draw):
    atoms = st.sampled_from(["a", "b", "é", "É", ".", r"\.", r"\d", r"\w", r"\s", r"\W", r"\b",
                             r"\B", "[a-c]", "[^a]", "[é-ü]", r"[\d.]", "x", " ", "^", "$",
                             r"\n", "ß", "[[:upper:]]", r"\x{e9}", "-"])
    pieces = draw(st.lists(st.tuples(atoms, st.sampled_from(["", "", "*", "+", "?", "{1,2}",
                                                             "*?"])), min_size=1, max_size=5))
    body = "".join(a + q for a, q in pieces)
    if draw(st.booleans()):
        body = f"({body})|{draw(atoms)}"
    return body


@pytest.mark.parametrize("engine", ENGINES)
def test_generated_regular_expressions(engine, request):
    """Hypothesis draws patterns; one query per engine checks all of them on all texts."""
    found: list[str] = []

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(re2_patterns())
    def collect(pattern):
        try:
            compile_re2(case_insensitive(pattern))
        except RegexError:
            return
        found.append(pattern)

    collect()
    problems, skipped = run_regexes(engine, request, sorted(set(found)), TEXTS)
    assert problems == [] and skipped == []


def test_the_characters_that_fold_onto_ascii_letters_are_all_known():
    found = [chr(c) for c in range(128, 0x110000)
             if any(len(v) == 1 and v.isascii() and v.isalpha()
                    for v in (chr(c).lower(), chr(c).upper()))]
    assert found == FOLDS_TO_ASCII


def test_untranslatable_constructs_are_named():
    for pattern, words in [(r"\pL", "Unicode class"), (r"\C", "any byte"),
                           (r"(?m)^a", "(?m)"), (r"[\pN]", "Unicode class"),
                           (r"a{300}", "at most 255")]:
        with pytest.raises(Untranslatable, match=words.replace("(", r"\(").replace(")", r"\)")):
            to_postgres(pattern)
    assert to_java("a{300}") == "a{300}"


# --- globs -------------------------------------------------------------------------------------

globs = st.text(alphabet="ab*?[]!-^\\é.%_", max_size=8)
names = st.text(alphabet="ab]![-^\\é.%_\n", max_size=6)


@settings(max_examples=400, deadline=None)
@given(pattern=globs, text=names)
def test_glob_tokens_follow_fnmatch(pattern, text):
    expected = fnmatch.fnmatchcase(text, pattern)
    assert (compile_re2(glob_regex(parse_glob(pattern))).fullmatch(text) is not None) == expected


GLOBS = ["*/pricing*", "*@gmail.com", "[a-c]*", "[!a-c]?", "*[]]*", "a*b*c", "[z-a]x", "[!b-a]",
         "*\\*", "*.com", "[!]]", "ab[", "*%_!*", "[a-]z", "[-a]z", "*é*", "*", "", "x", "%",
         "_", "?", "[!]", "[é-ü]*", "*'*"]
GLOB_TEXTS = ["https://x.com/pricing", "me@gmail.com", "apple", "dx", "d", "a]b", "aXbYc", "xx",
              "zx", "q", "a\\", "x.com", "]", "ab[", "%_!", "-z", "az", "café", "", "x", "%", "_",
              "line\nbreak", "[!]", "it's", "ü", "é"]


@pytest.mark.parametrize("engine", ENGINES)
def test_globs_mean_what_fnmatch_means(engine, request):
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    dialect = dialect_named(engine)
    columns = {f"g{i}": (lambda t, g=glob: dialect("glob", t, (g,))) for i, glob in
               enumerate(GLOBS)}
    rows = evaluate(engine, GLOB_TEXTS, columns, pg=pg, spark=spark)
    for i, glob in enumerate(GLOBS):
        for text, row in zip(GLOB_TEXTS, rows, strict=True):
            assert bool(row[f"g{i}"]) == fnmatch.fnmatchcase(text, glob), (glob, text)


def test_a_class_is_chars_and_ranges():
    assert parse_glob("[!a-c]x") == (GlobClass(True, (), (("a", "c"),)), "=x")
    assert parse_glob("[a-]") == (GlobClass(False, ("a", "-"), ()),)


# --- text, literals, lower, nulls ----------------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_texts_survive_as_literals_and_tests(engine, request):
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    dialect = dialect_named(engine)
    parts = ["", "'", "\\", "%", "_", "é", "\n", "o", "ß", "foo"]
    columns = {"same": lambda t: x.eq(t, t)}
    for i, part in enumerate(parts):
        columns[f"lit{i}"] = lambda t, p=part: x.string(p)
        columns[f"c{i}"] = lambda t, p=part: dialect("contains", t, p)
        columns[f"s{i}"] = lambda t, p=part: dialect("starts_with", t, p)
        columns[f"e{i}"] = lambda t, p=part: dialect("ends_with", t, p)
    rows = evaluate(engine, TEXTS, columns, pg=pg, spark=spark)
    for text, row in zip(TEXTS, rows, strict=True):
        for i, part in enumerate(parts):
            assert row[f"lit{i}"] == part
            assert (bool(row[f"c{i}"]), bool(row[f"s{i}"]), bool(row[f"e{i}"])) == (
                part in text, text.startswith(part), text.endswith(part)), (text, part)


LATIN = "ABCÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝŒŠŽŸẞabcàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿœšžß"


@pytest.mark.parametrize("engine", ENGINES)
def test_lower_folds_ascii_and_common_latin_letters_as_python(engine, request):
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    rows = evaluate(engine, list(LATIN) + ["ÉCOLE naïve"], {"l": lambda t: x.func("LOWER", t)},
                    pg=pg, spark=spark)
    assert [row["l"] for row in rows] == [t.lower() for t in list(LATIN) + ["ÉCOLE naïve"]]


def _null(kind: str = "BIGINT") -> exp.Expression:
    return exp.cast(exp.null(), exp.DataType.build(kind))


def _text(value: str | None) -> exp.Expression:
    return x.string(value) if value is not None else _null("VARCHAR")


@pytest.mark.parametrize("engine", ENGINES)
def test_greatest_and_least_skip_nulls(engine, request):
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    dialect = dialect_named(engine)
    columns = {
        "g": lambda t: dialect("greatest_ignoring_nulls", x.bigint(1), _null(), x.bigint(3)),
        "l": lambda t: dialect("least_ignoring_nulls", _null(), x.bigint(2), x.bigint(5)),
        "n": lambda t: dialect("least_ignoring_nulls", _null(), _null()),
    }
    assert evaluate(engine, ["-"], columns, pg=pg, spark=spark) == [{"g": 3, "l": 2, "n": None}]


@pytest.mark.parametrize("engine", ENGINES)
def test_forward_move_matches_the_python_rule(engine, request):
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    stages: list[str | None] = [*STAGES, "other", "unknown", None]
    pairs = list(itertools.product(stages, stages))
    columns = {f"m{i}": (lambda t, a=current, b=target: forward_move_sql(
        _text(a), _text(b), STAGES, engine)) for i, (current, target) in enumerate(pairs)}
    row = evaluate(engine, ["-"], columns, pg=pg, spark=spark)[0]
    for i, (current, target) in enumerate(pairs):
        assert row[f"m{i}"] == forward_move(current, target, STAGES), (current, target)
