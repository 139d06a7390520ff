"""A dialect is a table: construct → builder of the sqlglot expression that says it exactly.

sqlglot renders the generic tree (CASE, comparisons, arithmetic, aggregates with FILTER) for
each engine; the table holds what generic rendering would not mean exactly the same:
case-insensitive regular expressions, globs (the simplest text test, LIKE, or a full-match
regular expression for character sets), the k latest event times and the k-th of them,
integer division, text tests, the latest value of a property change (the long → wide pivot),
the forward-only stage move. A construct a dialect cannot express raises `Unsupported`, which
the compiler turns into a diagnostic naming the score and rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from leadscore.model.patterns import (
    STAR,
    case_insensitive,
    glob_regex,
    like_pattern,
    parse_glob,
)
from leadscore.sql import expr as x
from leadscore.sql.regex import (
    JAVA,
    POSTGRES,
    Untranslatable,
    glob_full_match,
    to_java,
    to_postgres,
)

LIKE_ESCAPE = "!"


class Unsupported(ValueError):
    """A construct this dialect cannot express; the message says what."""


Builder = Callable[..., exp.Expression]


@dataclass(frozen=True)
class Dialect:
    name: str  # duckdb | postgres | spark
    title: str  # for messages
    sqlglot: str  # sqlglot's name for it
    constructs: Mapping[str, Builder]
    max_identifier_bytes: int | None = None  # PostgreSQL truncates longer names
    case_insensitive_names: bool = False  # Spark resolves column names ignoring case
    options: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, construct: str, *args: Any) -> exp.Expression:
        return self.constructs[construct](*args)

    def render(self, node: exp.Expression, pretty: bool = False) -> str:
        return node.sql(dialect=self.sqlglot, pretty=pretty)


# --- shared builders -----------------------------------------------------------------------------

def _like(text: exp.Expression, pattern: str) -> exp.Expression:
    return exp.Escape(this=exp.Like(this=x.wrap(text), expression=x.string(pattern)),
                      expression=x.string(LIKE_ESCAPE))


TextTests = Mapping[str, Callable[[exp.Expression, str], exp.Expression]]


def _glob_with(full_match: Callable[[exp.Expression, str, tuple], exp.Expression],
               text_tests: TextTests) -> Builder:
    """Any of the globs, each in the simplest form that means it: equality, a prefix, a suffix
    or a substring test for one literal run, LIKE (escaped only when it must be) without
    character sets, else `full_match`, a regular expression."""
    def build(text: exp.Expression, globs: tuple[str, ...]) -> exp.Expression:
        return x.or_(*(_one_glob(text.copy(), glob, full_match, text_tests) for glob in globs))

    return build


def _one_glob(text: exp.Expression, glob: str,
              full_match: Callable[[exp.Expression, str, tuple], exp.Expression],
              text_tests: TextTests) -> exp.Expression:
    tokens = parse_glob(glob)
    shape = "".join("*" if t == STAR else "=" if isinstance(t, str) and t.startswith("=")
                    else "?" for t in tokens)
    literal = "".join(t[1] for t in tokens if isinstance(t, str) and t.startswith("="))
    if shape == "*":
        return x.not_null(text)  # everything known matches
    if shape and set(shape) == {"="}:
        return x.eq(text, x.string(literal))
    if shape.strip("*") and set(shape.strip("*")) == {"="} and shape.count("*") <= 2:
        run = shape.strip("*")
        if shape == "*" + run + "*":
            return text_tests["contains"](text, literal)
        if shape == run + "*":
            return text_tests["starts_with"](text, literal)
        if shape == "*" + run:
            return text_tests["ends_with"](text, literal)
    like = like_pattern(tokens, LIKE_ESCAPE)
    if like is None:
        return full_match(text, glob, tokens)
    if LIKE_ESCAPE not in like:
        return exp.Like(this=x.wrap(text), expression=x.string(like))
    return _like(text, like)


def _forward_move(current: exp.Expression, target: exp.Expression,
                  order: tuple[str, ...]) -> exp.Expression:
    """`lifecycle.stage.forward_move`: the stage an automatic assignment sets, or NULL —
    never backward, never sideways, never out of 'other'."""
    def rank(stage: exp.Expression) -> exp.Expression:
        return x.case([(x.eq(stage, x.string(name)), x.bigint(i))
                       for i, name in enumerate(order)])

    return x.case([
        (x.is_null(target), exp.null()),
        (x.and_(x.not_null(current), x.eq(target, current)), exp.null()),
        (x.and_(x.not_null(current), x.eq(current, x.string("other"))), exp.null()),
        (x.is_null(rank(target)), exp.null()),
        (x.and_(x.not_null(rank(current)), x.lte(rank(target), rank(current))), exp.null()),
    ], target)


BASE: dict[str, Builder] = {
    # GREATEST and LEAST skip NULL arguments in DuckDB, PostgreSQL and Spark alike (NULL only
    # when all are); written as plain calls, as sqlglot would otherwise add its own null rule
    "greatest_ignoring_nulls": lambda *args: x.func("GREATEST", *args),
    "least_ignoring_nulls": lambda *args: x.func("LEAST", *args),
    "greatest": lambda *args: x.func("GREATEST", *args),  # of non-null arguments
    "least": lambda *args: x.func("LEAST", *args),
    "floor": lambda value: x.func("FLOOR", value),
    "pow": lambda base, exponent: x.func("POWER", base, exponent),
    "concat": lambda a, b: exp.DPipe(this=x.wrap(a), expression=x.wrap(b), safe=True),
    "forward_move": _forward_move,
}


# --- DuckDB: RE2 as the evaluator ----------------------------------------------------------------

def _duckdb_regex(text: exp.Expression, pattern: str) -> exp.Expression:
    return x.func("REGEXP_MATCHES", text, x.string(case_insensitive(pattern)))


def _duckdb_glob_full(text: exp.Expression, glob: str, tokens: tuple) -> exp.Expression:
    return x.func("REGEXP_FULL_MATCH", text, x.string(glob_regex(tokens)))


_DUCKDB_TEXT: TextTests = {
    "contains": lambda text, part: x.func("CONTAINS", text, x.string(part)),
    "starts_with": lambda text, part: x.func("STARTS_WITH", text, x.string(part)),
    "ends_with": lambda text, part: x.func("ENDS_WITH", text, x.string(part)),
}

DUCKDB = Dialect("duckdb", "DuckDB", "duckdb", {
    **BASE,
    **_DUCKDB_TEXT,
    "regex": _duckdb_regex,
    "glob": _glob_with(_duckdb_glob_full, _DUCKDB_TEXT),
    # max(t, k): the k largest values, largest first
    "top_latest": lambda times, cond, k: exp.Filter(this=x.func("MAX", times, x.bigint(k)),
                                                    expression=exp.Where(this=cond)),
    "nth": lambda items, k: x.func("LIST_EXTRACT", items, x.bigint(k)),
    "int_div": lambda a, b: exp.IntDiv(this=x.wrap(a), expression=x.wrap(b)),
    # the value of the latest row by (changed_us, seq), a null value included
    "latest_value": lambda value, keys, cond: exp.Filter(
        this=x.func("ARG_MAX_NULL", value, x.func("ROW", *keys)),
        expression=exp.Where(this=cond)),
})


# --- PostgreSQL: ARE -----------------------------------------------------------------------------

def _translated(translate: Callable[[str], str], engine: str) -> Callable[[str], str]:
    def run(pattern: str) -> str:
        try:
            return translate(pattern)
        except Untranslatable as exc:
            raise Unsupported(f"the regular expression {pattern!r} uses {exc}, which "
                              f"{engine}'s regular expressions cannot express exactly") from None

    return run


_pg_regex = _translated(to_postgres, "PostgreSQL")


def _postgres_array_nth(array: exp.Expression, k: int) -> exp.Expression:
    """`(array)[k]`, 1-based. sqlglot keeps subscripts 0-based and adds PostgreSQL's offset
    when it renders, so the tree holds k - 1."""
    return exp.Bracket(this=exp.Paren(this=array), expressions=[x.bigint(k - 1)])


def _postgres_ordered_agg(value: exp.Expression, order: list[exp.Expression], cond: exp.Expression
                          ) -> exp.Expression:
    ordered = exp.Order(expressions=[exp.Ordered(this=key, desc=True) for key in order])
    agg = x.func("ARRAY_AGG", exp.Order(this=value, expressions=ordered.expressions))
    return exp.Filter(this=agg, expression=exp.Where(this=cond))


_POSTGRES_TEXT: TextTests = {
    "contains": lambda text, part: x.gt(x.func("STRPOS", text, x.string(part)), x.bigint(0)),
    "starts_with": lambda text, part: x.func("STARTS_WITH", text, x.string(part)),
    # RIGHT(text, n) counts characters; RIGHT(text, 0) is '' (every text ends with '')
    "ends_with": lambda text, part: x.eq(x.func("RIGHT", text, x.bigint(len(part))),
                                         x.string(part)),
}

POSTGRES_DIALECT = Dialect("postgres", "PostgreSQL", "postgres", {
    **BASE,
    **_POSTGRES_TEXT,
    "regex": lambda text, pattern: exp.RegexpILike(this=x.wrap(text),
                                                   expression=x.string(_pg_regex(pattern))),
    "glob": _glob_with(lambda text, glob, tokens: exp.RegexpLike(
        this=x.wrap(text), expression=x.string(glob_full_match(tokens, POSTGRES))),
        _POSTGRES_TEXT),
    "top_latest": lambda times, cond, k: _postgres_ordered_agg(times, [times], cond),
    "nth": _postgres_array_nth,
    "int_div": lambda a, b: exp.Div(this=x.wrap(a), expression=x.wrap(b), typed=True),
    "latest_value": lambda value, keys, cond: _postgres_array_nth(
        _postgres_ordered_agg(value, list(keys), cond), 1),
}, max_identifier_bytes=63)


# --- Spark: Java regular expressions -------------------------------------------------------------

_java_regex = _translated(to_java, "Spark (Java)")


def _spark_rlike(text: exp.Expression, pattern: str) -> exp.Expression:
    return exp.RegexpLike(this=x.wrap(text), expression=x.string(pattern))


def _spark_top(times: exp.Expression, cond: exp.Expression, k: int) -> exp.Expression:
    collected = exp.Filter(this=x.func("COLLECT_LIST", times), expression=exp.Where(this=cond))
    return x.func("SORT_ARRAY", collected, exp.false())


_SPARK_TEXT: TextTests = {
    "contains": lambda text, part: x.gt(x.func("INSTR", text, x.string(part)), x.bigint(0)),
    "starts_with": lambda text, part: x.func("STARTSWITH", text, x.string(part)),
    "ends_with": lambda text, part: x.func("ENDSWITH", text, x.string(part)),
}

SPARK = Dialect("spark", "Spark", "spark", {
    **BASE,
    **_SPARK_TEXT,
    "regex": lambda text, pattern: _spark_rlike(text, "(?iu)" + _java_regex(pattern)),
    "glob": _glob_with(lambda text, glob, tokens: _spark_rlike(
        text, glob_full_match(tokens, JAVA)), _SPARK_TEXT),
    "top_latest": _spark_top,
    "nth": lambda items, k: x.func("TRY_ELEMENT_AT", items, x.bigint(k)),
    "int_div": lambda a, b: exp.IntDiv(this=x.wrap(a), expression=x.wrap(b)),
    "latest_value": lambda value, keys, cond: exp.Filter(
        this=x.func("MAX_BY", value, x.func("STRUCT", *keys)), expression=exp.Where(this=cond)),
}, case_insensitive_names=True)


DIALECTS: dict[str, Dialect] = {d.name: d for d in (DUCKDB, POSTGRES_DIALECT, SPARK)}
ALIASES = {"postgresql": "postgres", "pg": "postgres", "pyspark": "spark", "sparksql": "spark"}


def dialect_named(name: str | Dialect) -> Dialect | None:
    if isinstance(name, Dialect):
        return name
    key = str(name).lower()
    return DIALECTS.get(ALIASES.get(key, key))
