"""The typed, immutable syntax tree of Radiator's metric query language.

Nodes are frozen dataclasses compared by value; they carry no source positions so that two
spellings of one query (``sum(x) by (a)`` and ``sum by (a) (x)``) give equal trees.
Parentheses leave no node: the tree's shape already says how operands group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

__all__ = [
    "AGGREGATION_OPS",
    "ARITHMETIC_OPS",
    "COMPARISON_OPS",
    "SET_OPS",
    "Aggregation",
    "AggregationOp",
    "BinaryExpr",
    "BinaryOp",
    "Call",
    "Expr",
    "Grouping",
    "LabelMatcher",
    "MatchOp",
    "MatrixSelector",
    "NumberLiteral",
    "Percentile",
    "StringLiteral",
    "UnaryExpr",
    "ValueType",
    "VectorMatching",
    "VectorSelector",
]

MatchOp = Literal["=", "!=", "=~", "!~"]
BinaryOp = Literal[
    "+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<=", "and", "or", "unless"
]
AggregationOp = Literal[
    "sum", "avg", "min", "max", "count", "stddev", "stdvar", "topk", "bottomk", "quantile"
]
ValueType = Literal["scalar", "string", "vector", "matrix"]

ARITHMETIC_OPS: frozenset[str] = frozenset({"+", "-", "*", "/", "%", "^"})
COMPARISON_OPS: frozenset[str] = frozenset({"==", "!=", ">", "<", ">=", "<="})
SET_OPS: frozenset[str] = frozenset({"and", "or", "unless"})
AGGREGATION_OPS: frozenset[str] = frozenset(
    {"sum", "avg", "min", "max", "count", "stddev", "stdvar", "topk", "bottomk", "quantile"}
)


@dataclass(frozen=True, slots=True)
class NumberLiteral:
    """A float: ``1``, ``2.5e3``, ``0x1f``, ``Inf``, ``NaN``. The parser never makes a
    negative one: ``-1`` is ``UnaryExpr("-", NumberLiteral(1.0))``."""

    value: float


@dataclass(frozen=True, slots=True)
class StringLiteral:
    value: str


@dataclass(frozen=True, slots=True)
class LabelMatcher:
    """One tag condition; regular expressions (``=~``, ``!~``) must match the whole value."""

    name: str
    op: MatchOp
    value: str


@dataclass(frozen=True, slots=True)
class VectorSelector:
    """``name{matchers} offset d``: the latest point of every matching series."""

    name: str | None
    matchers: tuple[LabelMatcher, ...] = ()
    offset: timedelta | None = None


@dataclass(frozen=True, slots=True)
class MatrixSelector:
    """``selector[range]``: every point of each matching series within the range.

    The offset, if any, is the one on ``selector`` (written after the brackets).
    """

    selector: VectorSelector
    range: timedelta


@dataclass(frozen=True, slots=True)
class Call:
    """A function call; arity and argument types were checked by the parser."""

    func: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Grouping:
    """``by (labels)`` keeps only these tags; ``without (labels)`` drops them."""

    kind: Literal["by", "without"]
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Aggregation:
    """``op [grouping] ([param,] expr)``; ``param`` is set only for topk, bottomk, quantile."""

    op: AggregationOp
    expr: Expr
    param: Expr | None = None
    grouping: Grouping | None = None


@dataclass(frozen=True, slots=True)
class Percentile:
    """Radiator's ``pNN [grouping] (expr)`` shortcut, ``percent`` in 1..99.

    Its meaning depends on what ``expr`` selects (see docs/query.md): quantile estimated
    from histogram buckets, a timer's stored ``.pNN`` statistic, or the quantile across the
    vector's values.
    """

    percent: int
    expr: Expr
    grouping: Grouping | None = None

    @property
    def quantile(self) -> float:
        return self.percent / 100


@dataclass(frozen=True, slots=True)
class VectorMatching:
    """``on``/``ignoring (labels)`` with an optional ``group_left``/``group_right (include)``."""

    kind: Literal["on", "ignoring"]
    labels: tuple[str, ...]
    group: Literal["left", "right"] | None = None
    include: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BinaryExpr:
    op: BinaryOp
    lhs: Expr
    rhs: Expr
    return_bool: bool = False
    matching: VectorMatching | None = None


@dataclass(frozen=True, slots=True)
class UnaryExpr:
    """Unary minus (a unary plus is dropped by the parser)."""

    op: Literal["-"]
    expr: Expr


Expr = (
    NumberLiteral
    | StringLiteral
    | VectorSelector
    | MatrixSelector
    | Call
    | Aggregation
    | Percentile
    | BinaryExpr
    | UnaryExpr
)
