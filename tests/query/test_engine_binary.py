"""Binary operators: arithmetic and comparisons with vector matching (on, ignoring,
group_left, group_right), set operators, comparison filters vs bool, scalars."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radiator.query.binary import QueryEvaluationError

from .test_engine_reference import (
    LabelKey,
    RefSeries,
    S,
    Scratch,
    as_dict,
    assert_rows_equal,
    at,
    evaluate,
    gauge,
    key,
    row,
    store_with,
)

ARITH: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": lambda a, b: a / b if b else (math.nan if a == 0 else math.copysign(math.inf, a)),
    "%": lambda a, b: math.fmod(a, b) if b else math.nan,
    "^": lambda a, b: _pow(a, b),
}


def _pow(a: float, b: float) -> float:
    if a == 0 and b < 0:
        return math.inf
    with np.errstate(invalid="ignore"):
        return float(np.power(a, b))


COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}

Labels = dict[str, str]


class ManyToManyError(Exception):
    pass


def _sig(labels: Labels, kind: str | None, names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    if kind == "on":
        return tuple((n, labels.get(n, "")) for n in sorted(names))
    return tuple(sorted((k, v) for k, v in labels.items() if k != "__name__" and k not in names))


def reference_binary(
    op: str,
    return_bool: bool,
    kind: str | None,
    names: tuple[str, ...],
    group: str | None,
    include: tuple[str, ...],
    lhs: list[tuple[Labels, float]],
    rhs: list[tuple[Labels, float]],
) -> dict[LabelKey, float]:
    """PromQL's vector-vector binary operation at one instant."""
    if op in ("and", "or", "unless"):
        right_sigs = {_sig(ls, kind, names) for ls, _ in rhs}
        if op == "and":
            kept = [(ls, v) for ls, v in lhs if _sig(ls, kind, names) in right_sigs]
        elif op == "unless":
            kept = [(ls, v) for ls, v in lhs if _sig(ls, kind, names) not in right_sigs]
        else:
            left_sigs = {_sig(ls, kind, names) for ls, _ in lhs}
            kept = lhs + [(ls, v) for ls, v in rhs if _sig(ls, kind, names) not in left_sigs]
        return {frozenset(ls.items()): v for ls, v in kept}
    many, one = (rhs, lhs) if group == "right" else (lhs, rhs)
    one_by_sig: dict[tuple[tuple[str, str], ...], tuple[Labels, float]] = {}
    for ls, v in one:
        sig = _sig(ls, kind, names)
        if sig in one_by_sig:
            raise ManyToManyError
        one_by_sig[sig] = (ls, v)
    if group is None and len({_sig(ls, kind, names) for ls, _ in many}) != len(many):
        raise ManyToManyError
    filtering = op in COMPARE and not return_bool
    out: dict[LabelKey, float] = {}
    for ls, v in many:
        match = one_by_sig.get(_sig(ls, kind, names))
        if match is None:
            continue
        a, b = (v, match[1]) if group != "right" else (match[1], v)
        if op in COMPARE:
            holds = COMPARE[op](a, b)
            if filtering and not holds:
                continue
            value = a if filtering else float(holds)
        else:
            value = ARITH[op](a, b)
        labels = dict(ls) if filtering else {k: x for k, x in ls.items() if k != "__name__"}
        if group is None and kind == "on":
            # Prometheus' resultMetric keeps only the on() labels, for filters too.
            labels = {k: x for k, x in labels.items() if k in names}
        elif group is None and kind == "ignoring":
            labels = {k: x for k, x in labels.items() if k not in names}
        elif group is not None:
            for label in include:
                if label in match[0]:
                    labels[label] = match[0][label]
                else:
                    labels.pop(label, None)
        k = frozenset(labels.items())
        assert k not in out, "the reference does not generate colliding results"
        out[k] = value
    return out


@pytest.fixture(scope="module")
def scratch() -> Iterator[Scratch]:
    shared = Scratch()
    yield shared
    shared.close()


def _side(draw: st.DrawFn, name: str, extra: bool) -> list[RefSeries]:
    combos = draw(
        st.lists(
            st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["200", "500", ""])),
            max_size=5,
            unique=True,
        )
    )
    out = []
    for service, status in combos:
        tags = {"service": service, **({"status": status} if status else {})}
        if extra and draw(st.booleans()):
            tags["team"] = draw(st.sampled_from(["red", "blue"]))
        value = draw(st.integers(-6, 6)) / 2
        out.append(gauge(name, [(at(0), value)], **tags))
    return out


MATCHINGS = [
    ("", None, (), None, ()),
    ("on (service)", "on", ("service",), None, ()),
    ("on (service, status)", "on", ("service", "status"), None, ()),
    ("ignoring (status)", "ignoring", ("status",), None, ()),
    ("ignoring (team)", "ignoring", ("team",), None, ()),
    ("on (service) group_left", "on", ("service",), "left", ()),
    ("on (service) group_left (team)", "on", ("service",), "left", ("team",)),
    ("ignoring (status) group_left (team)", "ignoring", ("status",), "left", ("team",)),
    ("on (service) group_right", "on", ("service",), "right", ()),
    ("on (service) group_right (team)", "on", ("service",), "right", ("team",)),
    ("on ()", "on", (), None, ()),
]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    op=st.sampled_from([*ARITH, *COMPARE, "and", "or", "unless"]),
    return_bool=st.booleans(),
    matching=st.sampled_from(MATCHINGS),
)
def test_vector_matching_matches_reference(
    scratch: Scratch,
    data: st.DataObject,
    op: str,
    return_bool: bool,
    matching: tuple[str, str | None, tuple[str, ...], str | None, tuple[str, ...]],
) -> None:
    text, kind, names, group, include = matching
    set_op = op in ("and", "or", "unless")
    if set_op and group is not None:
        group, text = None, text.split(" group_")[0]
    return_bool = return_bool and op in COMPARE
    left_name, right_name = scratch.name("left"), scratch.name("right")
    lhs = _side(data.draw, left_name, extra=group == "right")
    rhs = _side(data.draw, right_name, extra=group != "right")
    scratch.add([*lhs, *rhs])
    query = f"{left_name} {op}{' bool' if return_bool else ''} {text} {right_name}"
    try:
        want = reference_binary(
            op,
            return_bool,
            kind,
            names,
            group,
            include,
            [(s.labels, s.points[0][1]) for s in lhs],
            [(s.labels, s.points[0][1]) for s in rhs],
        )
    except ManyToManyError:
        with pytest.raises(QueryEvaluationError, match=r"many-to-many|matching"):
            evaluate(scratch.store, query, at(10), at(10), S)
        return
    got = as_dict(evaluate(scratch.store, query, at(10), at(10), S))
    assert_rows_equal(got, {k: [v] for k, v in want.items() if not math.isnan(v)}, rel=1e-12)


def test_arithmetic_with_scalars_on_either_side() -> None:
    store = store_with([gauge("v", [(at(0), x)], i=str(i)) for i, x in enumerate([-3.0, 2.0, 5.0])])
    cases = {
        "v * 2": [-6.0, 4.0, 10.0],
        "10 - v": [13.0, 8.0, 5.0],
        "v % 3": [0.0, 2.0, 2.0],
        "-v % 4": [3.0, -2.0, -1.0],  # remainder takes the dividend's sign (unary minus first)
        "2 ^ v": [0.125, 4.0, 32.0],
        "v / 0": [-math.inf, math.inf, math.inf],
    }
    for query, expected in cases.items():
        got = as_dict(evaluate(store, query, at(1), at(1), S))
        assert got.keys() == {key(i="0"), key(i="1"), key(i="2")}, query
        assert [got[key(i=str(i))][0] for i in range(3)] == expected, query


def test_comparison_filters_keep_name_and_value_but_bool_gives_zero_or_one() -> None:
    store = store_with([gauge("cpu", [(at(0), x)], host=h) for h, x in [("a", 0.5), ("b", 0.95)]])
    filtered = as_dict(evaluate(store, "cpu > 0.9", at(1), at(1), S))
    assert filtered == {key(__name__="cpu", host="b"): pytest.approx([0.95])}
    flipped = as_dict(evaluate(store, "0.9 < cpu", at(1), at(1), S))
    assert flipped == {key(__name__="cpu", host="b"): pytest.approx([0.95])}
    as_bool = as_dict(evaluate(store, "cpu > bool 0.9", at(1), at(1), S))
    assert as_bool == {key(host="a"): pytest.approx([0.0]), key(host="b"): pytest.approx([1.0])}


def test_scalar_operations_and_precedence() -> None:
    store = store_with([])
    cases = {
        "1 + 2 * 3": 7.0,
        "2 ^ 3 ^ 2": 512.0,
        "-2 ^ 2": -4.0,
        "(1 + 2) * 3": 9.0,
        "1 > bool 0": 1.0,
        "1 == bool 2": 0.0,
        "7 % 4": 3.0,
        "0x1f": 31.0,
    }
    for query, expected in cases.items():
        got = evaluate(store, query, at(0), at(20), 10 * S)
        assert isinstance(got, np.ndarray), query
        assert list(got) == [expected] * 3, query


def test_many_to_one_without_group_modifier_is_refused() -> None:
    store = store_with(
        [
            gauge("errors", [(at(0), 1.0)], service="a", path="/x"),
            gauge("errors", [(at(0), 2.0)], service="a", path="/y"),
            gauge("owners", [(at(0), 1.0)], service="a", team="red"),
        ]
    )
    with pytest.raises(QueryEvaluationError, match="many-to-many"):
        evaluate(store, "errors / on (service) owners", at(1), at(1), S)
    got = as_dict(
        evaluate(store, "errors / on (service) group_left (team) owners", at(1), at(1), S)
    )
    assert got == {
        key(service="a", path="/x", team="red"): pytest.approx([1.0]),
        key(service="a", path="/y", team="red"): pytest.approx([2.0]),
    }
    mirrored = as_dict(
        evaluate(store, "owners * on (service) group_right (team) errors", at(1), at(1), S)
    )
    assert mirrored == {
        key(service="a", path="/x", team="red"): pytest.approx([1.0]),
        key(service="a", path="/y", team="red"): pytest.approx([2.0]),
    }


def test_matching_is_decided_per_step() -> None:
    """Two right series with the same signature at different steps each match their own
    step: PromQL matches per evaluation step, so neither hides the other."""
    store = store_with(
        [
            gauge("load", [(at(0), 10.0), (at(600), 20.0)], service="a"),
            gauge("size", [(at(0), 2.0)], service="a", pod="1"),
            gauge("size", [(at(600), 4.0)], service="a", pod="2"),
        ]
    )
    got = as_dict(evaluate(store, "load / on (service) size", at(60), at(660), 600 * S))
    assert {k: row(v) for k, v in got.items()} == {key(service="a"): [5.0, 5.0]}


def test_set_operators_across_steps() -> None:
    store = store_with(
        [
            gauge("up", [(at(0), 1.0), (at(600), 1.0)], host="a"),
            gauge("up", [(at(0), 1.0)], host="b"),
            gauge("deploying", [(at(600), 1.0)], host="a", who="ci"),
            gauge("deploying", [(at(0), 1.0)], host="c", who="ci"),
        ]
    )
    grid = (at(60), at(660), 600 * S)
    anded = as_dict(evaluate(store, "up and on (host) deploying", *grid))
    assert {k: row(v) for k, v in anded.items()} == {key(__name__="up", host="a"): [None, 1.0]}
    unless = as_dict(evaluate(store, "up unless on (host) deploying", *grid))
    assert {k: row(v) for k, v in unless.items()} == {
        key(__name__="up", host="a"): [1.0, None],
        key(__name__="up", host="b"): [1.0, None],
    }
    ored = as_dict(evaluate(store, "up or on (host) deploying", *grid))
    assert {k: row(v) for k, v in ored.items()} == {
        key(__name__="up", host="a"): [1.0, 1.0],
        key(__name__="up", host="b"): [1.0, None],
        key(__name__="deploying", host="c", who="ci"): [1.0, None],
    }
