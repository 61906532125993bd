"""W3C trace context: parsing ``traceparent``, child spans, and the current span."""

from __future__ import annotations

import pytest

from radiator.sdk import (
    Client,
    MockTransport,
    TraceContext,
    current_trace,
    outgoing_headers,
    parse_traceparent,
    span,
)

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_traceparent_is_parsed() -> None:
    context = parse_traceparent(VALID, "rojo=00f067aa0ba902b7")

    assert context == TraceContext(
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
        sampled=True,
        tracestate="rojo=00f067aa0ba902b7",
    )


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  # no flags
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero parent
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # short trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  # v00 has 4 fields
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",  # not hex
    ],
)
def test_invalid_traceparents_are_ignored(header: str) -> None:
    assert parse_traceparent(header) is None


def test_future_versions_are_read_by_their_first_four_fields() -> None:
    header = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-ever"
    context = parse_traceparent(header)

    assert context is not None
    assert context.sampled is False


def test_a_child_keeps_the_trace_and_names_its_parent() -> None:
    parent = TraceContext.new()
    child = parent.child()

    assert child.trace_id == parent.trace_id
    assert child.parent_id == parent.span_id
    assert child.span_id != parent.span_id
    assert child.traceparent == f"00-{parent.trace_id}-{child.span_id}-01"


def test_spans_nest_and_the_current_one_is_propagated(
    client: Client, transport: MockTransport
) -> None:
    assert current_trace() is None
    assert outgoing_headers() == {}
    with span("outer", client=client) as outer:
        with span("inner", client=client, table="orders") as inner:
            assert current_trace() == inner
            assert outgoing_headers() == {"traceparent": inner.traceparent}
        assert current_trace() == outer
    assert current_trace() is None
    client.flush()

    inner_sent, outer_sent = transport.items("spans")
    assert inner_sent["parent_id"] == outer_sent["span_id"]
    assert outer_sent["parent_id"] == ""
    assert inner_sent["trace_id"] == outer_sent["trace_id"]
    assert inner_sent["attributes"] == {"table": "orders", "environment": "test"}
    assert inner_sent["status"] == "ok"
    assert inner_sent["duration_ms"] >= 0


def test_a_span_whose_block_raises_is_an_error(client: Client, transport: MockTransport) -> None:
    with pytest.raises(ValueError, match="bad"), span("parse", client=client):
        raise ValueError("bad")
    client.flush()

    (sent,) = transport.items("spans")
    assert sent["status"] == "error"
    assert sent["attributes"]["exception.type"] == "ValueError"
