"""Counting log records per bucket and group in DuckDB, for log-derived metrics.

Functions here take a DuckDB cursor; ``DuckDBTelemetryStore.count_logs`` hands them one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from radiator.core.telemetry import LogCount, LogCountQuery
from radiator.errors import InvalidInputError

__all__ = ["count_logs"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Integer floor on epoch microseconds, aligned to the Unix epoch (as the store's buckets).
_BUCKET = '(epoch_us("time") - ((epoch_us("time") % $step) + $step) % $step)'
# Columns a rule may group by; anything else is an attribute key.
_COLUMNS = {"service": "coalesce(service, '')", "level": "coalesce(level, '')"}


def _like_pattern(text: str) -> str:
    """A substring ILIKE pattern matching ``text`` literally (``\\`` is the escape)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _json_pointer(key: str) -> str:
    """RFC 6901 pointer to a top-level key, so any key text is addressed literally."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _conditions(query: LogCountQuery) -> tuple[list[str], dict[str, Any]]:
    """WHERE clauses with every user value bound as a parameter, never spliced into SQL."""
    clauses = ['"time" >= $start', '"time" < $end']
    params: dict[str, Any] = {"start": query.range.start, "end": query.range.end}
    if query.services:
        clauses.append("service = ANY($services)")
        params["services"] = list(query.services)
    if query.levels:
        clauses.append("level = ANY($levels)")
        params["levels"] = list(query.levels)
    for i, (key, value) in enumerate(query.attributes):
        clauses.append(f"json_extract_string(attributes, $attr_key_{i}) = $attr_value_{i}")
        params[f"attr_key_{i}"] = _json_pointer(key)
        params[f"attr_value_{i}"] = value
    if query.text:
        clauses.append("message ILIKE $text ESCAPE '\\'")
        params["text"] = _like_pattern(query.text)
    if query.pattern:
        clauses.append("regexp_matches(message, $pattern)")
        params["pattern"] = query.pattern
    return clauses, params


def _groups(query: LogCountQuery) -> tuple[list[str], dict[str, Any]]:
    expressions: list[str] = []
    params: dict[str, Any] = {}
    for i, name in enumerate(query.group_by):
        if name in _COLUMNS:
            expressions.append(_COLUMNS[name])
        else:
            expressions.append(f"coalesce(json_extract_string(attributes, $group_{i}), '')")
            params[f"group_{i}"] = _json_pointer(name)
    return expressions, params


def count_sql(query: LogCountQuery, source: str = "logs") -> tuple[str, dict[str, Any]]:
    """The statement and parameters counting ``query``'s records per bucket and group.

    ``source`` is the table expression to read (the store's ``_source``: live plus archive).
    """
    clauses, params = _conditions(query)
    groups, group_params = _groups(query)
    columns = "".join(f", {expr} AS g{i}" for i, expr in enumerate(groups))
    keys = "".join(f", g{i}" for i in range(len(groups)))
    sql = (
        f"SELECT {_BUCKET} AS bucket{columns}, count(*) FROM {source} "  # noqa: S608
        f"WHERE {' AND '.join(clauses)} GROUP BY bucket{keys} ORDER BY bucket{keys}"
    )
    return sql, {**params, **group_params, "step": query.step // _MICROSECOND}


def count_logs(
    cursor: duckdb.DuckDBPyConnection, query: LogCountQuery, source: str = "logs"
) -> list[LogCount]:
    """Count ``query``'s records per bucket and group, oldest bucket first.

    Raises:
        InvalidInputError: DuckDB cannot compile ``query.pattern`` (field ``pattern``).
    """
    sql, params = count_sql(query, source)
    try:
        rows = cursor.execute(sql, params).fetchall()
    except duckdb.InvalidInputException as exc:
        # With a pattern, DuckDB's input errors come from compiling it (RE2 syntax).
        if query.pattern:
            raise InvalidInputError(
                f"pattern is not a valid regular expression: {exc}", field="pattern"
            ) from exc
        raise
    width = len(query.group_by)
    return [
        LogCount(
            time=_EPOCH + timedelta(microseconds=int(row[0])),
            groups=tuple(str(value) for value in row[1 : 1 + width]),
            count=int(row[1 + width]),
        )
        for row in rows
    ]
