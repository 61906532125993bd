"""Metric, log, event and trace queries.

The metric query language (docs/query.md) is parsed here; its evaluation is not built yet.
"""

from __future__ import annotations

from radiator.query.ast import (
    Aggregation,
    BinaryExpr,
    Call,
    Expr,
    Grouping,
    LabelMatcher,
    MatrixSelector,
    NumberLiteral,
    Percentile,
    StringLiteral,
    UnaryExpr,
    VectorMatching,
    VectorSelector,
)
from radiator.query.parser import (
    FUNCTIONS,
    UNSUPPORTED_FUNCTIONS,
    QueryParseError,
    format,
    parse,
    value_type,
)

__all__ = [
    "FUNCTIONS",
    "UNSUPPORTED_FUNCTIONS",
    "Aggregation",
    "BinaryExpr",
    "Call",
    "Expr",
    "Grouping",
    "LabelMatcher",
    "MatrixSelector",
    "NumberLiteral",
    "Percentile",
    "QueryParseError",
    "StringLiteral",
    "UnaryExpr",
    "VectorMatching",
    "VectorSelector",
    "format",
    "parse",
    "value_type",
]
