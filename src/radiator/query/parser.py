"""A hand-written Pratt parser for Radiator's PromQL-like metric query language.

``parse`` turns text into the tree of :mod:`radiator.query.ast`, checking function arity
and operand types on the way; ``format`` writes a tree back as text that parses to an
equal tree. The grammar is in docs/query.md.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, cast

from radiator.errors import InvalidInputError
from radiator.query.ast import (
    AGGREGATION_OPS,
    COMPARISON_OPS,
    SET_OPS,
    Aggregation,
    AggregationOp,
    BinaryExpr,
    BinaryOp,
    Call,
    Expr,
    Grouping,
    LabelMatcher,
    MatchOp,
    MatrixSelector,
    NumberLiteral,
    Percentile,
    StringLiteral,
    UnaryExpr,
    ValueType,
    VectorMatching,
    VectorSelector,
)

__all__ = [
    "FUNCTIONS",
    "UNSUPPORTED_FUNCTIONS",
    "QueryParseError",
    "format",
    "parse",
    "value_type",
]

MAX_QUERY_LENGTH = 64 * 1024
_MAX_DEPTH = 128


class QueryParseError(InvalidInputError):
    """A query could not be parsed; ``position`` is a 0-based offset into the text,
    ``line`` and ``column`` are 1-based."""

    code = "invalid_query"

    def __init__(self, message: str, *, text: str, position: int) -> None:
        position = max(0, min(position, len(text)))
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        where = f"at column {column}" if line == 1 else f"at line {line}, column {column}"
        super().__init__(
            f"{message} {where}",
            field="query",
            position=position,
            line=line,
            column=column,
        )
        self.position = position
        self.line = line
        self.column = column


# --- function table ---------------------------------------------------------------------

_ArgType = Literal["scalar", "vector", "matrix"]


@dataclass(frozen=True, slots=True)
class _Signature:
    args: tuple[_ArgType, ...]
    optional: int = 0  # how many trailing args may be left out


_RANGE = _Signature(("matrix",))
FUNCTIONS: dict[str, _Signature] = {
    "rate": _RANGE,
    "increase": _RANGE,
    "delta": _RANGE,
    "avg_over_time": _RANGE,
    "sum_over_time": _RANGE,
    "min_over_time": _RANGE,
    "max_over_time": _RANGE,
    "count_over_time": _RANGE,
    "quantile_over_time": _Signature(("scalar", "matrix")),
    "histogram_quantile": _Signature(("scalar", "vector")),
    "abs": _Signature(("vector",)),
    "clamp_min": _Signature(("vector", "scalar")),
    "clamp_max": _Signature(("vector", "scalar")),
    "round": _Signature(("vector", "scalar"), optional=1),
    "sort": _Signature(("vector",)),
    "sort_desc": _Signature(("vector",)),
}

# fmt: off
UNSUPPORTED_FUNCTIONS: frozenset[str] = frozenset({
    "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "ceil",
    "changes", "clamp", "cos", "cosh", "count_values", "day_of_month", "day_of_week",
    "day_of_year", "days_in_month", "deg", "deriv", "double_exponential_smoothing", "exp",
    "floor", "group", "histogram_avg", "histogram_count", "histogram_fraction",
    "histogram_stddev", "histogram_stdvar", "histogram_sum", "holt_winters", "hour", "idelta",
    "info", "irate", "label_join", "label_replace", "last_over_time", "limit_ratio", "limitk",
    "ln", "log10", "log2", "mad_over_time", "minute", "month", "pi", "predict_linear",
    "present_over_time", "rad", "resets", "scalar", "sgn", "sin", "sinh", "sort_by_label",
    "sort_by_label_desc", "sqrt", "stddev_over_time", "stdvar_over_time", "tan", "tanh", "time",
    "timestamp", "vector", "year",
})
# fmt: on

# Words that cannot stand for a metric name: reading them as one would make `x < bool`
# ambiguous. (Aggregation and function names can, when no '(' follows.)
_KEYWORDS = frozenset({
    "and", "or", "unless", "bool", "on", "ignoring", "group_left", "group_right", "offset",
    "by", "without",
})  # fmt: skip
_PARAM_AGGREGATIONS = frozenset({"topk", "bottomk", "quantile"})
_PERCENTILE_RE = re.compile(r"p([1-9][0-9]?)")
_TYPE_NAMES = {
    "scalar": "a scalar",
    "string": "a string",
    "vector": "an instant vector",
    "matrix": "a range vector",
}


def value_type(expr: Expr) -> ValueType:
    """The kind of value ``expr`` evaluates to."""
    if isinstance(expr, NumberLiteral):
        return "scalar"
    if isinstance(expr, StringLiteral):
        return "string"
    if isinstance(expr, MatrixSelector):
        return "matrix"
    if isinstance(expr, UnaryExpr):
        return value_type(expr.expr)
    if isinstance(expr, BinaryExpr):
        both_scalar = value_type(expr.lhs) == value_type(expr.rhs) == "scalar"
        return "scalar" if both_scalar else "vector"
    return "vector"


# --- lexer ------------------------------------------------------------------------------

_TokenKind = Literal["number", "duration", "string", "ident", "op", "eof"]

_DURATION_UNITS_MS = {
    "y": 365 * 86_400_000,
    "w": 7 * 86_400_000,
    "d": 86_400_000,
    "h": 3_600_000,
    "m": 60_000,
    "s": 1000,
    "ms": 1,
}
_TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<duration>(?:[0-9]+(?:ms|[smhdwy]))+)(?![A-Za-z0-9_.])
  | (?P<number>0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:.]*)
  | (?P<string>["'`])
  | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^=<>(){}\[\],@])
    """,
    re.VERBOSE,
)
_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", '"': '"', "'": "'",
}  # fmt: skip
_HEX_ESCAPE_LENGTHS = {"x": 2, "u": 4, "U": 8}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _TokenKind
    text: str
    pos: int
    value: Any = None  # the decoded string or number

    def describe(self) -> str:
        if self.kind == "eof":
            return "end of input"
        shown = self.text if len(self.text) <= 30 else self.text[:27] + "..."
        return f"{self.kind} {shown}" if self.kind in ("string", "number") else f"'{shown}'"


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise QueryParseError(f"unexpected character {text[pos]!r}", text=text, position=pos)
        kind = cast(str, match.lastgroup)
        if kind == "string":
            token, pos = _lex_string(text, pos)
            tokens.append(token)
            continue
        if kind != "space":
            tokens.append(_Token(cast(_TokenKind, kind), match.group(), pos))
        pos = match.end()
    tokens.append(_Token("eof", "", len(text)))
    return tokens


def _lex_string(text: str, start: int) -> tuple[_Token, int]:
    quote = text[start]
    pos = start + 1
    chars: list[str] = []
    while True:
        if pos >= len(text) or (text[pos] == "\n" and quote != "`"):
            raise QueryParseError("unterminated string", text=text, position=start)
        char = text[pos]
        if char == quote:
            break
        if char == "\\" and quote != "`":
            decoded, pos = _unescape(text, pos)
            chars.append(decoded)
            continue
        chars.append(char)
        pos += 1
    return _Token("string", text[start : pos + 1], start, "".join(chars)), pos + 1


def _unescape(text: str, pos: int) -> tuple[str, int]:
    """Decode the escape starting at ``text[pos] == '\\'``; return it and the next offset."""
    code = text[pos + 1 : pos + 2]
    if code in _ESCAPES:
        return _ESCAPES[code], pos + 2
    width = _HEX_ESCAPE_LENGTHS.get(code)
    digits = text[pos + 2 : pos + 2 + width] if width else ""
    if width and len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
        value = int(digits, 16)
        if value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF:
            return chr(value), pos + 2 + width
    raise QueryParseError(f"invalid escape sequence '\\{code}'", text=text, position=pos)


def _parse_duration(token: _Token, text: str) -> timedelta:
    total = 0
    last_unit_ms = math.inf
    for amount, unit in re.findall(r"([0-9]+)(ms|[smhdwy])", token.text):
        unit_ms = _DURATION_UNITS_MS[unit]
        if unit_ms >= last_unit_ms:
            raise QueryParseError(
                f"duration units must go from largest to smallest, each once, in {token.text!r}",
                text=text,
                position=token.pos,
            )
        last_unit_ms = unit_ms
        total += int(amount) * unit_ms
    try:
        return timedelta(milliseconds=total)
    except OverflowError:
        raise QueryParseError(
            f"duration {token.text!r} is too long", text=text, position=token.pos
        ) from None


def _parse_number(token: _Token, text: str) -> float:
    try:
        if token.text[:2].lower() == "0x":
            return float(int(token.text, 16))
        return float(token.text)
    except (OverflowError, ValueError):
        raise QueryParseError(
            f"number {token.text!r} is out of range", text=text, position=token.pos
        ) from None


# --- parser -----------------------------------------------------------------------------

# Binding power of each binary operator; '^' is right-associative. Unary minus sits
# between '*' and '^': -2^2 is -(2^2) and -a*b is (-a)*b, as in PromQL.
_PRECEDENCE: dict[str, int] = {
    "or": 1,
    "and": 2,
    "unless": 2,
    **dict.fromkeys(COMPARISON_OPS, 3),
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "%": 5,
    "^": 7,
}
_UNARY_PRECEDENCE = 6
_ATOM_PRECEDENCE = 8


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _lex(text)
        self.index = 0
        self.depth = 0

    # token helpers

    @property
    def tok(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def at_end(self) -> bool:
        return self.tok.kind == "eof"

    def at(self, text: str) -> bool:
        return self.tok.kind in ("op", "ident") and self.tok.text == text

    def error(self, message: str, position: int | None = None) -> QueryParseError:
        where = self.tok.pos if position is None else position
        return QueryParseError(message, text=self.text, position=where)

    def expected(self, what: str) -> QueryParseError:
        return self.error(f"expected {what} but found {self.tok.describe()}")

    def expect(self, text: str) -> _Token:
        if not self.at(text):
            raise self.expected(f"'{text}'")
        return self.advance()

    def expect_ident(self, what: str) -> str:
        if self.tok.kind != "ident":
            raise self.expected(what)
        return self.advance().text

    # grammar

    def parse(self) -> Expr:
        if self.at_end():
            raise self.error("expected an expression but the query is empty")
        expr = self.expression(0)
        if not self.at_end():
            raise self.expected("an operator or end of input")
        return expr

    def expression(self, min_precedence: int) -> Expr:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error(f"expression nested more than {_MAX_DEPTH} levels deep")
        lhs = self.unary()
        while True:
            op = self.tok.text if self.tok.kind in ("op", "ident") else ""
            precedence = _PRECEDENCE.get(op)
            if precedence is None or precedence < min_precedence:
                break
            op_token = self.advance()
            return_bool, matching = self.binary_modifiers(op)
            rhs = self.expression(precedence if op == "^" else precedence + 1)
            lhs = self.check_binary(
                BinaryExpr(cast(BinaryOp, op), lhs, rhs, return_bool, matching), op_token
            )
        self.depth -= 1
        return lhs

    def unary(self) -> Expr:
        if self.at("-") or self.at("+"):
            token = self.advance()
            start = self.tok.pos
            operand = self.expression(_UNARY_PRECEDENCE + 1)
            if value_type(operand) not in ("scalar", "vector"):
                raise self.error(
                    f"unary '{token.text}' needs a scalar or instant vector but got "
                    f"{_TYPE_NAMES[value_type(operand)]}",
                    start,
                )
            return operand if token.text == "+" else UnaryExpr("-", operand)
        return self.postfix()

    def binary_modifiers(self, op: str) -> tuple[bool, VectorMatching | None]:
        return_bool = False
        if self.at("bool"):
            if op not in COMPARISON_OPS:
                raise self.error(f"'bool' can only follow a comparison operator, not '{op}'")
            self.advance()
            return_bool = True
        if not (self.at("on") or self.at("ignoring")):
            return return_bool, None
        kind = cast(Literal["on", "ignoring"], self.advance().text)
        labels = self.label_list()
        group: Literal["left", "right"] | None = None
        include: tuple[str, ...] = ()
        if self.at("group_left") or self.at("group_right"):
            if op in SET_OPS:
                raise self.error(f"'{self.tok.text}' cannot be used with '{op}'")
            group = "left" if self.advance().text == "group_left" else "right"
            if self.at("("):
                include = self.label_list()
        return return_bool, VectorMatching(kind, labels, group, include)

    def check_binary(self, expr: BinaryExpr, op_token: _Token) -> BinaryExpr:
        lhs_type, rhs_type = value_type(expr.lhs), value_type(expr.rhs)
        for side, kind in (("left", lhs_type), ("right", rhs_type)):
            if kind not in ("scalar", "vector"):
                raise self.error(
                    f"the {side} operand of '{expr.op}' must be a scalar or instant vector, "
                    f"not {_TYPE_NAMES[kind]}",
                    op_token.pos,
                )
        both_vectors = lhs_type == rhs_type == "vector"
        if expr.op in SET_OPS and not both_vectors:
            raise self.error(f"'{expr.op}' needs instant vectors on both sides", op_token.pos)
        if expr.op in COMPARISON_OPS and lhs_type == rhs_type == "scalar" and not expr.return_bool:
            raise self.error(
                f"a comparison between two scalars needs 'bool' ('{expr.op} bool')", op_token.pos
            )
        if expr.matching is not None and not both_vectors:
            raise self.error(
                f"'{expr.matching.kind}' needs instant vectors on both sides of '{expr.op}'",
                op_token.pos,
            )
        return expr

    def postfix(self) -> Expr:
        start = self.tok.pos
        expr = self.primary()
        if self.at("["):
            if not isinstance(expr, VectorSelector) or expr.offset is not None:
                raise self.error(
                    "a range '[...]' can only follow a metric selector (subqueries are not "
                    "supported by Radiator)"
                )
            expr = MatrixSelector(expr, self.range())
        if self.at("offset"):
            expr = self.offset(expr, start)
        if self.at("@"):
            raise self.error("the '@' modifier is not supported by Radiator")
        return expr

    def range(self) -> timedelta:
        self.expect("[")
        if self.tok.kind != "duration":
            raise self.expected("a duration such as 5m")
        token = self.advance()
        duration = _parse_duration(token, self.text)
        if duration <= timedelta(0):
            raise self.error("a range must be longer than zero", token.pos)
        if self.tok.text.startswith(":"):
            raise self.error("subqueries ('[range:step]') are not supported by Radiator")
        self.expect("]")
        return duration

    def offset(self, expr: Expr, start: int) -> Expr:
        offset_token = self.advance()
        sign = -1 if self.at("-") else 1
        if self.at("-") or self.at("+"):
            self.advance()
        if self.tok.kind != "duration":
            raise self.expected("a duration such as 1h")
        duration = sign * _parse_duration(self.advance(), self.text)
        if isinstance(expr, VectorSelector) and expr.offset is None:
            return VectorSelector(expr.name, expr.matchers, duration)
        if isinstance(expr, MatrixSelector) and expr.selector.offset is None:
            selector = expr.selector
            return MatrixSelector(
                VectorSelector(selector.name, selector.matchers, duration), expr.range
            )
        raise self.error(
            "'offset' can only follow a metric selector or a range selector, once",
            offset_token.pos,
        )

    def primary(self) -> Expr:
        token = self.tok
        if token.kind == "number":
            self.advance()
            return NumberLiteral(_parse_number(token, self.text))
        if token.kind == "string":
            self.advance()
            return StringLiteral(cast(str, token.value))
        if self.at("("):
            self.advance()
            expr = self.expression(0)
            self.expect(")")
            return expr
        if self.at("{"):
            return self.selector(None, token.pos)
        if token.kind == "ident":
            return self.identifier()
        raise self.expected("an expression")

    def identifier(self) -> Expr:
        token = self.advance()
        name = token.text
        if name.lower() in ("inf", "nan"):
            return NumberLiteral(float(name))
        if name in AGGREGATION_OPS or _PERCENTILE_RE.fullmatch(name):
            if self.at("(") or self.at("by") or self.at("without"):
                return self.aggregation(token)
            if name in AGGREGATION_OPS:
                raise self.expected(f"'(' or 'by'/'without' after '{name}'")
        if name in _KEYWORDS:
            raise self.error(
                f"expected an expression but found keyword '{name}' (a metric of that name "
                f'is selected with {{__name__="{name}"}})',
                token.pos,
            )
        if self.at("(") or (
            name in UNSUPPORTED_FUNCTIONS and (self.at("by") or self.at("without"))
        ):
            return self.call(token)
        return self.selector(name, token.pos)

    def selector(self, name: str | None, start: int) -> VectorSelector:
        matchers: list[LabelMatcher] = []
        if self.at("{"):
            self.advance()
            while not self.at("}"):
                matchers.append(self.matcher())
                if not self.at(","):
                    break
                self.advance()
            self.expect("}")
        names = [m for m in matchers if m.name == "__name__"]
        if name is not None and names:
            raise self.error("the metric name is given twice (before '{' and as __name__)", start)
        if name is None and not any(_needs_nonempty(m) for m in matchers):
            raise self.error(
                "a selector needs a metric name or a matcher that does not match the empty string",
                start,
            )
        return VectorSelector(name, tuple(matchers))

    def matcher(self) -> LabelMatcher:
        label = self.expect_ident("a tag name")
        if not any(self.at(op) for op in ("=", "!=", "=~", "!~")):
            raise self.expected("one of '=', '!=', '=~', '!~'")
        op = cast(MatchOp, self.advance().text)
        if self.tok.kind not in ("string",):
            raise self.expected("a quoted string")
        token = self.advance()
        value = cast(str, token.value)
        if op in ("=~", "!~"):
            try:
                re.compile(value)
            except (re.error, OverflowError, RecursionError, ValueError) as exc:
                raise self.error(f"invalid regular expression: {exc}", token.pos) from None
        return LabelMatcher(label, op, value)

    def label_list(self) -> tuple[str, ...]:
        self.expect("(")
        labels: list[str] = []
        while not self.at(")"):
            labels.append(self.expect_ident("a tag name"))
            if not self.at(","):
                break
            self.advance()
        self.expect(")")
        return tuple(labels)

    def grouping(self) -> Grouping | None:
        if not (self.at("by") or self.at("without")):
            return None
        kind = cast(Literal["by", "without"], self.advance().text)
        return Grouping(kind, self.label_list())

    def arguments(self) -> list[tuple[Expr, int]]:
        """``( expr, ... )`` with each argument's start offset."""
        self.expect("(")
        args: list[tuple[Expr, int]] = []
        while not self.at(")"):
            start = self.tok.pos
            args.append((self.expression(0), start))
            if not self.at(","):
                break
            self.advance()
        self.expect(")")
        return args

    def aggregation(self, op_token: _Token) -> Expr:
        grouping = self.grouping()
        args_start = self.tok.pos
        args = self.arguments()
        if grouping is None:
            grouping = self.grouping()
        name = op_token.text
        percentile = _PERCENTILE_RE.fullmatch(name)
        wanted = 2 if name in _PARAM_AGGREGATIONS else 1
        if len(args) != wanted:
            noun = "argument" if wanted == 1 else "arguments"
            raise self.error(
                f"'{name}' expects {wanted} {noun} but got {len(args)}",
                args[wanted][1] if len(args) > wanted else args_start,
            )
        param = None
        if wanted == 2:
            param = self.check_arg(name, 1, args[0], "scalar")
        expr = self.check_arg(name, wanted, args[-1], "vector")
        if percentile:
            return Percentile(int(percentile.group(1)), expr, grouping)
        return Aggregation(cast(AggregationOp, name), expr, param, grouping)

    def call(self, name_token: _Token) -> Call:
        name = name_token.text
        signature = FUNCTIONS.get(name)
        if signature is None:
            if name in UNSUPPORTED_FUNCTIONS:
                raise self.error(f"function {name} is not supported by Radiator", name_token.pos)
            close = difflib.get_close_matches(name, sorted(FUNCTIONS), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise self.error(f"unknown function {name}{hint}", name_token.pos)
        args_start = self.tok.pos
        args = self.arguments()
        most = len(signature.args)
        least = most - signature.optional
        if not least <= len(args) <= most:
            wanted = str(most) if least == most else f"{least} to {most}"
            noun = "argument" if most == 1 else "arguments"
            position = args[most][1] if len(args) > most else args_start
            raise self.error(
                f"function {name} expects {wanted} {noun} but got {len(args)}", position
            )
        checked = [
            self.check_arg(name, i + 1, arg, kind)
            for i, (arg, kind) in enumerate(zip(args, signature.args, strict=False))
        ]
        return Call(name, tuple(checked))

    def check_arg(self, func: str, number: int, arg: tuple[Expr, int], kind: _ArgType) -> Expr:
        expr, start = arg
        got = value_type(expr)
        if got != kind:
            hint = ""
            if kind == "matrix" and isinstance(expr, VectorSelector):
                hint = f" (add a range, e.g. {func}({format(expr)}[5m]))"
            raise self.error(
                f"{func} expects {_TYPE_NAMES[kind]} as argument {number} but got "
                f"{_TYPE_NAMES[got]}{hint}",
                start,
            )
        return expr


def _needs_nonempty(matcher: LabelMatcher) -> bool:
    """Whether the matcher rules out series that lack the tag (which read as "")."""
    if matcher.op == "=":
        return matcher.value != ""
    if matcher.op == "!=":
        return matcher.value == ""
    matches_empty = re.fullmatch(matcher.value, "") is not None
    return not matches_empty if matcher.op == "=~" else matches_empty


def parse(text: str) -> Expr:
    """Parse a metric query.

    Raises:
        QueryParseError: the text is not a valid query; the error says where and why.
    """
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryParseError(
            f"a query may be at most {MAX_QUERY_LENGTH} characters",
            text=text,
            position=MAX_QUERY_LENGTH,
        )
    return _Parser(text).parse()


# --- formatter --------------------------------------------------------------------------


def format(expr: Expr) -> str:
    """Write ``expr`` as query text; ``parse(format(e)) == e`` for every tree ``parse`` makes."""
    return _format(expr)


def _precedence(expr: Expr) -> int:
    if isinstance(expr, BinaryExpr):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, UnaryExpr):
        return _UNARY_PRECEDENCE
    return _ATOM_PRECEDENCE


def _wrap(expr: Expr, minimum: int) -> str:
    text = _format(expr)
    return f"({text})" if _precedence(expr) < minimum else text


def _format(expr: Expr) -> str:
    if isinstance(expr, NumberLiteral):
        return _format_number(expr.value)
    if isinstance(expr, StringLiteral):
        return _quote(expr.value)
    if isinstance(expr, VectorSelector):
        return _format_selector(expr, None)
    if isinstance(expr, MatrixSelector):
        return _format_selector(expr.selector, expr.range)
    if isinstance(expr, Call):
        return f"{expr.func}({', '.join(_format(arg) for arg in expr.args)})"
    if isinstance(expr, Aggregation | Percentile):
        return _format_aggregation(expr)
    if isinstance(expr, UnaryExpr):
        return f"-{_wrap(expr.expr, _UNARY_PRECEDENCE + 1)}"
    return _format_binary(expr)


def _format_number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _quote(value: str) -> str:
    out = ['"']
    for char in value:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def _format_duration(duration: timedelta) -> str:
    total = duration // timedelta(milliseconds=1)
    sign = "-" if total < 0 else ""
    total = abs(total)
    if total == 0:
        return "0s"
    parts: list[str] = []
    for unit, unit_ms in _DURATION_UNITS_MS.items():
        amount, total = divmod(total, unit_ms)
        if amount:
            parts.append(f"{amount}{unit}")
    return sign + "".join(parts)


def _format_selector(selector: VectorSelector, range_: timedelta | None) -> str:
    text = selector.name or ""
    if selector.matchers or not text:
        inner = ", ".join(f"{m.name}{m.op}{_quote(m.value)}" for m in selector.matchers)
        text += "{" + inner + "}"
    if range_ is not None:
        text += f"[{_format_duration(range_)}]"
    if selector.offset is not None:
        text += f" offset {_format_duration(selector.offset)}"
    return text


def _format_aggregation(expr: Aggregation | Percentile) -> str:
    if isinstance(expr, Percentile):
        name, args = f"p{expr.percent}", [expr.expr]
    else:
        name = expr.op
        args = [expr.expr] if expr.param is None else [expr.param, expr.expr]
    grouping = ""
    if expr.grouping is not None:
        grouping = f" {expr.grouping.kind} ({', '.join(expr.grouping.labels)})"
    separator = " " if grouping else ""
    return f"{name}{grouping}{separator}({', '.join(_format(arg) for arg in args)})"


def _format_binary(expr: BinaryExpr) -> str:
    precedence = _PRECEDENCE[expr.op]
    right_assoc = expr.op == "^"
    lhs = _wrap(expr.lhs, precedence + 1 if right_assoc else precedence)
    # A unary minus may open the right operand of '^' unparenthesised: 2 ^ -1.
    rhs_minimum = _UNARY_PRECEDENCE if right_assoc else precedence + 1
    rhs = _wrap(expr.rhs, rhs_minimum)
    modifiers = " bool" if expr.return_bool else ""
    matching = expr.matching
    if matching is not None:
        modifiers += f" {matching.kind} ({', '.join(matching.labels)})"
        if matching.group is not None:
            modifiers += f" group_{matching.group} ({', '.join(matching.include)})"
    return f"{lhs} {expr.op}{modifiers} {rhs}"
