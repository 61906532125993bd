"""The native JSON batch format: per-item validation, indexes in rejections, and fuzzing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radiator.core.telemetry import Signal
from radiator.ingest import BatchBuilder, NativeFormatError, SeriesLimiter, decode_native

NOW_US = int(datetime(2026, 11, 23, 12, tzinfo=UTC).timestamp() * 1_000_000)


def decode(body: object) -> BatchBuilder:
    builder = BatchBuilder(NOW_US, SeriesLimiter(100))
    decode_native(json.dumps(body).encode(), builder)
    return builder


def test_every_signal_is_decoded_with_its_fields() -> None:
    builder = decode(
        {
            "points": [
                {
                    "name": "a.b",
                    "value": 2,
                    "kind": "counter",
                    "tags": {"x": "1"},
                    "time": "2026-11-23T11:00:00Z",
                }
            ],
            "events": [
                {
                    "kind": "deploy",
                    "title": "v2",
                    "service": "checkout",
                    "attributes": {"version": "2"},
                }
            ],
            "logs": [{"message": "boom", "level": "error", "trace_id": "abc"}],
            "spans": [
                {
                    "trace_id": "t",
                    "span_id": "s",
                    "name": "GET /",
                    "duration_ms": 4.5,
                    "start": 1763895600.25,
                }
            ],
        }
    )
    assert builder.result.accepted == 4
    tables = builder.tables()
    points = tables[Signal.POINTS].to_pylist()
    assert points[0]["time"] == datetime(2026, 11, 23, 11, tzinfo=UTC)
    assert points[0]["tags"] == [("x", "1")]
    assert tables[Signal.LOGS].to_pylist()[0]["level"] == "ERROR"
    assert tables[Signal.SPANS].to_pylist()[0]["start"] == datetime.fromtimestamp(
        1763895600.25, UTC
    )


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"name": "ok", "value": "x"}, "Expected `float`"),
        ({"name": "has space", "value": 1}, "invalid metric name"),
        ({"name": "ok", "value": 1, "kind": "meter"}, "kind must be one of"),
        ({"name": "ok", "value": 1, "unknown": 1}, "unknown field `unknown`"),
        ({"name": "ok", "value": 1, "time": 4102444800}, "in the future"),
        ({"name": "ok", "value": 1, "tags": {"k": 1}}, "Expected `str`"),
    ],
)
def test_a_bad_point_is_rejected_by_index_and_the_rest_kept(
    item: dict[str, object], reason: str
) -> None:
    builder = decode({"points": [{"name": "good", "value": 1}, item, {"name": "good", "value": 2}]})
    assert builder.result.accepted == 2
    (error,) = builder.result.errors
    assert (error.signal, error.index) == ("points", 1)
    assert reason in error.reason


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"pts": []}', b'{"points": 3}'])
def test_a_body_that_is_not_a_batch_is_refused_as_a_whole(body: bytes) -> None:
    with pytest.raises(NativeFormatError):
        decode_native(body, BatchBuilder(NOW_US))


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers()
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
_item = st.dictionaries(
    st.sampled_from(
        [
            "name",
            "value",
            "kind",
            "tags",
            "time",
            "title",
            "message",
            "level",
            "trace_id",
            "span_id",
            "duration_ms",
            "start",
            "attributes",
            "x",
        ]
    ),
    _json,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["points", "events", "logs", "spans"]),
        st.lists(_item, max_size=5),
        max_size=4,
    )
)
def test_arbitrary_batches_never_raise_and_account_for_every_item(
    body: dict[str, list[object]],
) -> None:
    builder = BatchBuilder(NOW_US)
    decode_native(json.dumps(body).encode(), builder)
    total = sum(len(items) for items in body.values())
    assert builder.result.accepted + builder.result.rejected == total
    builder.tables()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_are_refused_cleanly(body: bytes) -> None:
    builder = BatchBuilder(NOW_US)
    try:
        decode_native(body, builder)
    except NativeFormatError:
        return
    builder.tables()
