"""The metric query parser: trees, precedence, errors with columns, round trips, fuzzing."""

from __future__ import annotations

import contextlib
import math
import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radiator.errors import InvalidInputError
from radiator.query import (
    FUNCTIONS,
    Aggregation,
    BinaryExpr,
    Call,
    Expr,
    Grouping,
    LabelMatcher,
    MatrixSelector,
    NumberLiteral,
    Percentile,
    QueryParseError,
    StringLiteral,
    UnaryExpr,
    VectorMatching,
    VectorSelector,
    format,
    parse,
)


def sel(
    name: str | None, *matchers: LabelMatcher, offset: timedelta | None = None
) -> VectorSelector:
    return VectorSelector(name, tuple(matchers), offset)


def num(value: float) -> NumberLiteral:
    return NumberLiteral(value)


X, Y, Z = VectorSelector("x"), VectorSelector("y"), VectorSelector("z")
FIVE_MINUTES = timedelta(minutes=5)

VALID: list[tuple[str, Expr]] = [
    ("http.server.requests", VectorSelector("http.server.requests")),
    (
        'http.server.requests{code="200", method!="GET", path=~"/api/.*", host!~"test-.*"}',
        sel(
            "http.server.requests",
            LabelMatcher("code", "=", "200"),
            LabelMatcher("method", "!=", "GET"),
            LabelMatcher("path", "=~", "/api/.*"),
            LabelMatcher("host", "!~", "test-.*"),
        ),
    ),
    ('{__name__="queue-depth"}', sel(None, LabelMatcher("__name__", "=", "queue-depth"))),
    ("x{}", X),
    ('x{a="b",}', sel("x", LabelMatcher("a", "=", "b"))),
    ("x[5m]", MatrixSelector(X, FIVE_MINUTES)),
    ("x[1h30m]", MatrixSelector(X, timedelta(hours=1, minutes=30))),
    ("x[250ms]", MatrixSelector(X, timedelta(milliseconds=250))),
    ("x[2w1d]", MatrixSelector(X, timedelta(days=15))),
    ("x offset 1h", sel("x", offset=timedelta(hours=1))),
    ("x offset -30s", sel("x", offset=timedelta(seconds=-30))),
    ("x[5m] offset 1d", MatrixSelector(sel("x", offset=timedelta(days=1)), FIVE_MINUTES)),
    ("rate(x[5m])", Call("rate", (MatrixSelector(X, FIVE_MINUTES),))),
    (
        "quantile_over_time(0.9, x[5m])",
        Call("quantile_over_time", (num(0.9), MatrixSelector(X, FIVE_MINUTES))),
    ),
    ("histogram_quantile(0.99, x)", Call("histogram_quantile", (num(0.99), X))),
    ("round(x)", Call("round", (X,))),
    ("round(x, 0.5)", Call("round", (X, num(0.5)))),
    ("clamp_min(x, 0)", Call("clamp_min", (X, num(0)))),
    ("sum(x)", Aggregation("sum", X)),
    ("sum by (a, b) (x)", Aggregation("sum", X, grouping=Grouping("by", ("a", "b")))),
    ("sum(x) by (a, b)", Aggregation("sum", X, grouping=Grouping("by", ("a", "b")))),
    ("avg without (host) (x)", Aggregation("avg", X, grouping=Grouping("without", ("host",)))),
    ("count by () (x)", Aggregation("count", X, grouping=Grouping("by", ()))),
    ("topk(5, x)", Aggregation("topk", X, param=num(5))),
    ("quantile(0.5, x) by (a)", Aggregation("quantile", X, num(0.5), Grouping("by", ("a",)))),
    ("p99(x)", Percentile(99, X)),
    ("p50 by (service) (x)", Percentile(50, X, Grouping("by", ("service",)))),
    ("p99", VectorSelector("p99")),
    ("1.5e3", num(1500.0)),
    ("0x1f", num(31.0)),
    (".5", num(0.5)),
    ("Inf", num(math.inf)),
    ("1e999", num(math.inf)),
    ("-inf", UnaryExpr("-", num(math.inf))),
    ('"a\\"b\\n"', StringLiteral('a"b\n')),
    ("'single'", StringLiteral("single")),
    ("`raw\\n`", StringLiteral("raw\\n")),
    ("-x", UnaryExpr("-", X)),
    ("+x", X),
    ("(x)", X),
    ("x # a comment", X),
    ("x > bool 1", BinaryExpr(">", X, num(1), return_bool=True)),
    ("1 == bool 1", BinaryExpr("==", num(1), num(1), return_bool=True)),
    ("x and y", BinaryExpr("and", X, Y)),
    ("x unless on (a) y", BinaryExpr("unless", X, Y, matching=VectorMatching("on", ("a",)))),
    (
        "x / ignoring (code) group_left (team) y",
        BinaryExpr("/", X, Y, matching=VectorMatching("ignoring", ("code",), "left", ("team",))),
    ),
    (
        "x * on (a) group_right y",
        BinaryExpr("*", X, Y, matching=VectorMatching("on", ("a",), "right")),
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t for t, _ in VALID])
def test_valid_query_parses_to_the_expected_tree(text: str, expected: Expr) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t for t, _ in VALID])
def test_formatted_tree_parses_back_to_itself(text: str, expected: Expr) -> None:
    assert parse(format(expected)) == expected


def test_nan_literal_parses_to_nan() -> None:
    parsed = parse("NaN")
    assert isinstance(parsed, NumberLiteral)
    assert math.isnan(parsed.value)


def b(op: str, lhs: Expr, rhs: Expr) -> BinaryExpr:
    return BinaryExpr(op, lhs, rhs)  # type: ignore[arg-type]


PRECEDENCE: list[tuple[str, Expr]] = [
    ("x + y * z", b("+", X, b("*", Y, Z))),
    ("x * y + z", b("+", b("*", X, Y), Z)),
    ("x - y - z", b("-", b("-", X, Y), Z)),
    ("x / y % z", b("%", b("/", X, Y), Z)),
    ("x ^ y ^ z", b("^", X, b("^", Y, Z))),
    ("x * y ^ z", b("*", X, b("^", Y, Z))),
    ("-x ^ y", UnaryExpr("-", b("^", X, Y))),
    ("-x * y", b("*", UnaryExpr("-", X), Y)),
    ("x ^ -y", b("^", X, UnaryExpr("-", Y))),
    ("(x + y) * z", b("*", b("+", X, Y), Z)),
    ("x + y > z", b(">", b("+", X, Y), Z)),
    ("x > y and y < z", b("and", b(">", X, Y), b("<", Y, Z))),
    ("x or y and z", b("or", X, b("and", Y, Z))),
    ("x or y unless z", b("or", X, b("unless", Y, Z))),
    ("x and y unless z", b("unless", b("and", X, Y), Z)),
    ("x == y != z", b("!=", b("==", X, Y), Z)),
]


@pytest.mark.parametrize(("text", "expected"), PRECEDENCE, ids=[t for t, _ in PRECEDENCE])
def test_operators_bind_with_promql_precedence(text: str, expected: Expr) -> None:
    assert parse(text) == expected
    assert parse(format(expected)) == expected


ERRORS: list[tuple[str, int, str]] = [
    ("", 1, "expected an expression but the query is empty"),
    ("sum(rate(x[5m]) by (a)", 17, "expected ')' but found 'by'"),
    ("x +", 4, "expected an expression but found end of input"),
    ("x y", 3, "expected an operator or end of input but found 'y'"),
    ('x{a="b" c="d"}', 9, "expected '}' but found 'c'"),
    ('x{a~"b"}', 4, "unexpected character '~'"),
    ("x{a=b}", 5, "expected a quoted string but found 'b'"),
    ('x{a="b', 5, "unterminated string"),
    ('x{a="\\q"}', 6, "invalid escape sequence"),
    ('x{a=~"("}', 6, "invalid regular expression"),
    ('{a=""}', 1, "a selector needs a metric name or a matcher"),
    ('x{__name__="y"}', 1, "the metric name is given twice"),
    ("x[5]", 3, "expected a duration such as 5m but found number 5"),
    ("x[0s]", 3, "a range must be longer than zero"),
    ("x[30m1h]", 3, "duration units must go from largest to smallest"),
    ("x[5m:1m]", 5, "subqueries ('[range:step]') are not supported by Radiator"),
    ("rate(x[5m])[1h]", 12, "a range '[...]' can only follow a metric selector"),
    ("x @ 100", 3, "the '@' modifier is not supported by Radiator"),
    ("rate(x[5m]) offset 1h", 13, "'offset' can only follow a metric selector"),
    ("x offset", 9, "expected a duration such as 1h but found end of input"),
    ("rate(x)", 6, "rate expects a range vector as argument 1 but got an instant vector"),
    ("rate(x[5m], x[5m])", 13, "function rate expects 1 argument but got 2"),
    ("round()", 6, "function round expects 1 to 2 arguments but got 0"),
    ("clamp_min(x, y)", 14, "clamp_min expects a scalar as argument 2 but got an instant vector"),
    ("histogram_quantile(x, y)", 20, "expects a scalar as argument 1"),
    ("rat(x[5m])", 1, "unknown function rat; did you mean rate?"),
    ("frobnicate(x)", 1, "unknown function frobnicate"),
    ("irate(x[5m])", 1, "function irate is not supported by Radiator"),
    ("label_replace(x, 'a', 'b', 'c', 'd')", 1, "function label_replace is not supported"),
    ("count_values by (a) (x)", 1, "function count_values is not supported by Radiator"),
    ("sum x", 5, "expected '(' or 'by'/'without' after 'sum' but found 'x'"),
    ("sum(x, y)", 8, "'sum' expects 1 argument but got 2"),
    ("topk(x)", 5, "'topk' expects 2 arguments but got 1"),
    ("topk(x, y)", 6, "topk expects a scalar as argument 1"),
    ("sum(x[5m])", 5, "sum expects an instant vector as argument 1 but got a range vector"),
    ("p99(1)", 5, "p99 expects an instant vector as argument 1 but got a scalar"),
    ("sum by a (x)", 8, "expected '(' but found 'a'"),
    ("1 > 2", 3, "a comparison between two scalars needs 'bool'"),
    ("x + bool y", 5, "'bool' can only follow a comparison operator"),
    ("x and 1", 3, "'and' needs instant vectors on both sides"),
    ("1 + on (a) x", 3, "'on' needs instant vectors on both sides"),
    ("x or on (a) group_left y", 13, "'group_left' cannot be used with 'or'"),
    ("x[5m] + 1", 7, "the left operand of '+' must be a scalar or instant vector"),
    ('x + "s"', 3, "the right operand of '+' must be a scalar or instant vector, not a string"),
    ("-x[5m]", 2, "unary '-' needs a scalar or instant vector but got a range vector"),
    ("x < + bool", 7, "expected an expression but found keyword 'bool'"),
    ("sum(on)", 5, "found keyword 'on' (a metric of that name is selected with"),
    ("x\n  + )", 5, "expected an expression but found ')' at line 2, column 5"),
]


@pytest.mark.parametrize(("text", "column", "message"), ERRORS, ids=[t for t, _, _ in ERRORS])
def test_bad_query_raises_with_column_and_reason(text: str, column: int, message: str) -> None:
    with pytest.raises(QueryParseError) as caught:
        parse(text)

    error = caught.value
    assert message in str(error)
    assert error.column == column
    assert isinstance(error, InvalidInputError)
    assert error.details["column"] == column


def test_error_names_expected_found_and_column() -> None:
    with pytest.raises(QueryParseError) as caught:
        parse("sum(rate(x[5m]) by (a)")

    assert str(caught.value) == "expected ')' but found 'by' at column 17"
    assert (caught.value.position, caught.value.line) == (16, 1)
    assert caught.value.code == "invalid_query"


def test_multiline_error_reports_line_and_column() -> None:
    with pytest.raises(QueryParseError) as caught:
        parse("sum(\n  x\n  y)")

    assert (caught.value.line, caught.value.column, caught.value.position) == (3, 3, 11)


def test_deep_nesting_is_a_parse_error_not_a_crash() -> None:
    with pytest.raises(QueryParseError, match="nested more than"):
        parse("(" * 1000 + "x" + ")" * 1000)
    with pytest.raises(QueryParseError, match="nested more than"):
        parse("-" * 1000 + "x")


def test_every_supported_function_has_a_signature() -> None:
    assert set(FUNCTIONS) >= {"rate", "increase", "delta", "histogram_quantile", "sort_desc"}


# --- property tests -----------------------------------------------------------------------

_KEYWORDS = {
    "and", "or", "unless", "bool", "on", "ignoring", "group_left", "group_right", "offset",
    "by", "without", "inf", "nan", "sum", "avg", "min", "max", "count", "stddev", "stdvar",
    "topk", "bottomk", "quantile",
}  # fmt: skip
names = st.from_regex(r"[a-z_][a-z0-9_.]{0,8}", fullmatch=True).filter(
    lambda n: n.lower() not in _KEYWORDS and not n.startswith("p")
)
labels = st.from_regex(r"[a-z_][a-z0-9_]{0,5}", fullmatch=True)
label_lists = st.lists(labels, max_size=3).map(tuple)
durations = st.integers(min_value=1, max_value=10**10).map(lambda ms: timedelta(milliseconds=ms))
matchers = st.builds(
    LabelMatcher,
    labels,
    st.sampled_from(["=", "!="]),
    st.text(max_size=5),
) | st.builds(LabelMatcher, labels, st.sampled_from(["=~", "!~"]), st.sampled_from(["a.*", ".+"]))
selectors = st.builds(
    VectorSelector,
    names,
    st.lists(matchers, max_size=3).map(tuple),
    st.none() | durations | durations.map(lambda d: -d),
)
numbers = st.builds(
    NumberLiteral, st.floats(min_value=0, allow_nan=False) | st.integers(0, 10**6).map(float)
)
scalars = numbers
groupings = st.none() | st.builds(Grouping, st.sampled_from(["by", "without"]), label_lists)


def _vectors(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(
            Call, st.just("rate"), st.tuples(st.builds(MatrixSelector, selectors, durations))
        ),
        st.builds(Call, st.sampled_from(["abs", "sort"]), st.tuples(children)),
        st.builds(Call, st.just("clamp_max"), st.tuples(children, scalars)),
        st.builds(
            Aggregation, st.sampled_from(["sum", "max", "stddev"]), children, st.none(), groupings
        ),
        st.builds(Aggregation, st.just("topk"), children, scalars, groupings),
        st.builds(Percentile, st.integers(1, 99), children, groupings),
        st.builds(UnaryExpr, st.just("-"), children),
        st.builds(BinaryExpr, st.sampled_from(["+", "-", "*", "/", "%", "^"]), children, children),
        st.builds(BinaryExpr, st.sampled_from(["+", "^"]), children, scalars),
        st.builds(BinaryExpr, st.sampled_from(["and", "or", "unless"]), children, children),
        st.builds(BinaryExpr, st.sampled_from([">", "=="]), children, children, st.booleans()),
        st.builds(
            BinaryExpr,
            st.sampled_from(["*", "<"]),
            children,
            children,
            st.just(False),
            st.builds(
                VectorMatching,
                st.sampled_from(["on", "ignoring"]),
                label_lists,
                st.sampled_from(["left", "right"]),
                label_lists,
            ),
        ),
    )


vector_exprs: st.SearchStrategy[Expr] = st.recursive(selectors, _vectors, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(vector_exprs)
def test_format_then_parse_gives_the_same_tree(expr: Expr) -> None:
    assert parse(format(expr)) == expr


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_raises_only_query_parse_error(text: str) -> None:
    with contextlib.suppress(QueryParseError):
        parse(text)


_ALPHABET = [*"(){}[],=!~<>+-*/%^@\"'`#\n .:0123456789eExmhs",
    "sum", "by", "rate", "offset", "bool", "on", "group_left", "and", "x", "y", "p99", "5m",
    "topk", "round", "Inf", "NaN", "without", "\\",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_ALPHABET), max_size=30).map(" ".join))
def test_token_soup_raises_only_query_parse_error_and_round_trips(text: str) -> None:
    try:
        parsed = parse(text)
    except QueryParseError:
        return
    if "nan" not in text.lower():  # NaN != NaN, so such trees never compare equal
        assert parse(format(parsed)) == parsed


def _doc_examples() -> list[str]:
    doc = Path(__file__).parents[2] / "docs" / "query.md"
    blocks = re.findall(r"```promql\n(.*?)```", doc.read_text(encoding="utf-8"), re.DOTALL)
    queries: list[str] = []
    for block in blocks:
        # An indented line continues the query above it.
        for line in block.splitlines():
            if line.startswith(" ") and queries:
                queries[-1] += "\n" + line
            elif line.strip():
                queries.append(line)
    return queries


def test_docs_examples_parse() -> None:
    examples = _doc_examples()

    assert len(examples) >= 5
    for example in examples:
        assert parse(format(parse(example))) == parse(example)
