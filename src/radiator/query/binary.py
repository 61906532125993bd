"""Binary operators: arithmetic, comparisons and set operators, with vector matching."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from radiator.errors import InvalidInputError
from radiator.query.ast import COMPARISON_OPS, SET_OPS, BinaryExpr, VectorMatching
from radiator.query.values import NAME, FloatArray, LabelSet, SeriesSet, label_key

__all__ = ["QueryEvaluationError", "apply_binary"]


class QueryEvaluationError(InvalidInputError):
    """A query that parsed but cannot be evaluated (e.g. many-to-many matching)."""

    code = "query_evaluation"


def _arith(op: str) -> Callable[[FloatArray, FloatArray], FloatArray]:
    table: dict[str, Callable[[FloatArray, FloatArray], FloatArray]] = {
        "+": np.add,
        "-": np.subtract,
        "*": np.multiply,
        "/": np.divide,
        "%": np.fmod,
        "^": np.power,
        "==": lambda a, b: (a == b).astype(np.float64),
        "!=": lambda a, b: (a != b).astype(np.float64),
        ">": lambda a, b: (a > b).astype(np.float64),
        "<": lambda a, b: (a < b).astype(np.float64),
        ">=": lambda a, b: (a >= b).astype(np.float64),
        "<=": lambda a, b: (a <= b).astype(np.float64),
    }
    return table[op]


def _compute(op: str, lhs: FloatArray, rhs: FloatArray) -> FloatArray:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = _arith(op)(lhs, rhs)
    return np.where(np.isnan(lhs) | np.isnan(rhs), np.nan, out)


def _result(
    op: str, expr: BinaryExpr, lhs: FloatArray, rhs: FloatArray, keep: FloatArray
) -> FloatArray:
    """Arithmetic gives the computed value; a comparison filters ``keep`` or gives 0/1."""
    computed = _compute(op, lhs, rhs)
    if op in COMPARISON_OPS and not expr.return_bool:
        return np.where(computed == 1.0, keep, np.nan)
    return computed


def _signature(labels: LabelSet, matching: VectorMatching | None) -> tuple[tuple[str, str], ...]:
    if matching is not None and matching.kind == "on":
        return label_key({k: labels.get(k, "") for k in matching.labels})
    ignored = set(matching.labels) if matching is not None else set()
    return label_key({k: v for k, v in labels.items() if k != NAME and k not in ignored})


def _scalar_side(
    op: str, expr: BinaryExpr, vector: SeriesSet, scalar: FloatArray, left: bool
) -> SeriesSet:
    rows = vector.values
    lhs, rhs = (rows, scalar[None, :]) if left else (scalar[None, :], rows)
    out = _result(op, expr, lhs, rhs, rows)
    keep_name = op in COMPARISON_OPS and not expr.return_bool
    result = SeriesSet(vector.labels, out, vector.kinds)
    return (result if keep_name else result.without_name()).dropping_empty()


def _index(
    side: SeriesSet, matching: VectorMatching | None, what: str
) -> dict[tuple[tuple[str, str], ...], list[int]]:
    """Series of ``side`` by signature; several may share one if they never overlap in time
    (matching is decided per step, so a replaced series and its successor both match)."""
    found: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for i, labels in enumerate(side.labels):
        sig = _signature(labels, matching)
        members = found.setdefault(sig, [])
        present = ~np.isnan(side.values[i])
        if any((present & ~np.isnan(side.values[j])).any() for j in members):
            raise QueryEvaluationError(
                f"many-to-many matching not allowed: several series on the {what} side "
                f"have the labels {dict(sig)}; use on(...) or ignoring(...) to say which "
                "labels identify a match, or aggregate that side first"
            )
        members.append(i)
    return found


def _set_op(op: str, lhs: SeriesSet, rhs: SeriesSet, matching: VectorMatching | None) -> SeriesSet:
    rhs_present: dict[tuple[tuple[str, str], ...], np.ndarray] = {}
    for labels, row in zip(rhs.labels, rhs.values, strict=True):
        sig = _signature(labels, matching)
        mask = ~np.isnan(row)
        rhs_present[sig] = rhs_present.get(sig, np.zeros_like(mask)) | mask
    steps = lhs.values.shape[1]
    none = np.zeros(steps, dtype=bool)
    if op in ("and", "unless"):
        rows = []
        for labels, row in zip(lhs.labels, lhs.values, strict=True):
            present = rhs_present.get(_signature(labels, matching), none)
            rows.append(np.where(present if op == "and" else ~present, row, np.nan))
        return SeriesSet.stack(lhs.labels, rows, steps).dropping_empty()
    lhs_present: dict[tuple[tuple[str, str], ...], np.ndarray] = {}
    for labels, row in zip(lhs.labels, lhs.values, strict=True):
        sig = _signature(labels, matching)
        lhs_present[sig] = lhs_present.get(sig, none) | ~np.isnan(row)
    extra = [
        np.where(lhs_present.get(_signature(labels, matching), none), np.nan, row)
        for labels, row in zip(rhs.labels, rhs.values, strict=True)
    ]
    result = SeriesSet.stack([*lhs.labels, *rhs.labels], [*lhs.values, *extra], steps)
    return result.dropping_empty()


def _vector_vector(op: str, expr: BinaryExpr, lhs: SeriesSet, rhs: SeriesSet) -> SeriesSet:
    matching = expr.matching
    if op in SET_OPS:
        return _set_op(op, lhs, rhs, matching)
    group = matching.group if matching is not None else None
    many, one = (rhs, lhs) if group == "right" else (lhs, rhs)
    one_index = _index(one, matching, "right" if group != "right" else "left")
    if group is None:
        _index(many, matching, "left")
    keep_name = op in COMPARISON_OPS and not expr.return_bool
    out: dict[tuple[tuple[str, str], ...], tuple[LabelSet, FloatArray]] = {}
    for i, many_labels in enumerate(many.labels):
        for j in one_index.get(_signature(many_labels, matching), []):
            a, b = (
                (many.values[i], one.values[j])
                if group != "right"
                else (one.values[j], many.values[i])
            )
            labels = _result_labels(many_labels, one.labels[j], matching, keep_name)
            _merge(out, labels, _result(op, expr, a, b, a))
    merged = list(out.values())
    return SeriesSet.stack(
        [labels for labels, _ in merged], [row for _, row in merged], lhs.values.shape[1]
    ).dropping_empty()


def _merge(
    out: dict[tuple[tuple[str, str], ...], tuple[LabelSet, FloatArray]],
    labels: LabelSet,
    row: FloatArray,
) -> None:
    """Add a result row; rows with equal labels at different steps become one series."""
    key = label_key(labels)
    if key not in out:
        out[key] = (labels, row)
        return
    previous = out[key][1]
    if (~np.isnan(previous) & ~np.isnan(row)).any():
        raise QueryEvaluationError(
            f"the result would hold two series with the labels {labels}; use on(...), "
            "ignoring(...) or group_left/group_right (...) so each result is distinct"
        )
    out[key] = (labels, np.where(np.isnan(previous), row, previous))


def _result_labels(
    many: LabelSet, one: LabelSet, matching: VectorMatching | None, keep_name: bool
) -> LabelSet:
    labels = dict(many) if keep_name else {k: v for k, v in many.items() if k != NAME}
    if matching is None:
        return labels
    if matching.group is None and matching.kind == "on":
        # As Prometheus: one-to-one matching on(...) keeps only those labels, filter or not.
        return {k: v for k, v in labels.items() if k in matching.labels}
    if matching.group is None:
        return {k: v for k, v in labels.items() if k not in matching.labels}
    for key in matching.include:
        if key in one:
            labels[key] = one[key]
        else:
            labels.pop(key, None)
    return labels


def apply_binary(
    expr: BinaryExpr, lhs: FloatArray | SeriesSet, rhs: FloatArray | SeriesSet
) -> FloatArray | SeriesSet:
    """Evaluate ``lhs op rhs`` where each side is a scalar array or a series set."""
    op = expr.op
    if isinstance(lhs, SeriesSet) and isinstance(rhs, SeriesSet):
        return _vector_vector(op, expr, lhs, rhs)
    if isinstance(lhs, SeriesSet):
        assert not isinstance(rhs, SeriesSet)
        return _scalar_side(op, expr, lhs, rhs, left=True)
    if isinstance(rhs, SeriesSet):
        return _scalar_side(op, expr, rhs, lhs, left=False)
    return _compute(op, lhs, rhs)
