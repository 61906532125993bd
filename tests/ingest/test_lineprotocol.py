"""InfluxDB line protocol: the tokenizer, the mapping onto points, precision and rejections."""

from __future__ import annotations

from typing import Any

import pytest

from radiator.core.schema import SCHEMAS
from radiator.core.telemetry import Signal
from radiator.ingest import BatchBuilder, SeriesLimiter
from radiator.ingest.lineprotocol import (
    PRECISIONS,
    LineProtocolError,
    decode_lines,
    parse_line,
)

NOW_US = 1_763_900_000_000_000  # 2025-11-23T12:13:20Z
NOW_S = NOW_US // 1_000_000


def builder(limit: int = 10_000) -> BatchBuilder:
    return BatchBuilder(NOW_US, SeriesLimiter(limit))


def points(b: BatchBuilder) -> list[dict[str, Any]]:
    """The builder's accepted points as rows (tags as dicts, time in microseconds)."""
    tables = b.tables()
    if Signal.POINTS not in tables:
        return []
    table = tables[Signal.POINTS]
    assert table.schema == SCHEMAS[Signal.POINTS]
    rows = table.to_pylist()
    for row, micros in zip(rows, table.column("time").cast("int64").to_pylist(), strict=True):
        row["tags"] = dict(row["tags"])
        row["time"] = micros
    return rows


def decode(body: str | bytes, **kwargs: Any) -> tuple[BatchBuilder, list[dict[str, Any]]]:
    b = builder()
    decode_lines(body.encode() if isinstance(body, str) else body, b, **kwargs)
    return b, points(b)


# -- the escaping table of the InfluxDB line protocol reference -----------------------------

ESCAPES = [
    # measurement: commas and spaces
    (r"cpu\,01 v=1", "cpu,01", {}, "v"),
    (r"cpu\ load v=1", "cpu load", {}, "v"),
    (r"cpu=x v=1", "cpu=x", {}, "v"),  # '=' needs no escape in a measurement
    (r"cpu\=x v=1", r"cpu\=x", {}, "v"),  # so its backslash stays
    # tag keys and values: commas, equals signs and spaces
    (r"cpu,tag\ key=tag\ value v=1", "cpu", {"tag key": "tag value"}, "v"),
    (r"cpu,tag\,key=tag\,value v=1", "cpu", {"tag,key": "tag,value"}, "v"),
    (r"cpu,tag\=key=tag\=value v=1", "cpu", {"tag=key": "tag=value"}, "v"),
    # field keys: commas, equals signs and spaces
    (r"cpu field\ key=1", "cpu", {}, "field key"),
    (r"cpu field\,key=1", "cpu", {}, "field,key"),
    (r"cpu field\=key=1", "cpu", {}, "field=key"),
    # backslashes: two make one, a lone one is literal
    (r"cpu,t=a\b v=1", "cpu", {"t": r"a\b"}, "v"),
    (r"cpu,t=a\\b v=1", "cpu", {"t": "a\\b"}, "v"),
    (r"cpu,t=a\\\b v=1", "cpu", {"t": "a\\\\b"}, "v"),
    (r"cpu,t=a\\\\b v=1", "cpu", {"t": "a\\\\b"}, "v"),
    (r"cpu,t=a\\\\\b v=1", "cpu", {"t": "a\\\\\\b"}, "v"),
    (r"cpu,t=a\\ v=1", "cpu", {"t": "a\\"}, "v"),
    # unicode is fine anywhere
    ("température,ville=Zürich°C v=1", "température", {"ville": "Zürich°C"}, "v"),
]


@pytest.mark.parametrize(("line", "measurement", "tags", "field"), ESCAPES)
def test_escaping_follows_the_influx_reference(
    line: str, measurement: str, tags: dict[str, str], field: str
) -> None:
    parsed = parse_line(line)

    assert parsed.measurement == measurement
    assert parsed.tags == tags
    assert list(parsed.fields) == [field]


STRINGS = [
    (r'cpu s="a \"quoted\" word"', 'a "quoted" word'),
    (r'cpu s="back\\slash"', "back\\slash"),
    (r'cpu s="lone \ backslash"', "lone \\ backslash"),
    (r'cpu s="keeps \n as written"', "keeps \\n as written"),
    ('cpu s="commas, = signs and  spaces"', "commas, = signs and  spaces"),
    ('cpu s=""', ""),
    (r'cpu s="ends in a backslash\\"', "ends in a backslash\\"),
]


@pytest.mark.parametrize(("line", "value"), STRINGS)
def test_string_fields_unescape_quotes_and_backslashes(line: str, value: str) -> None:
    assert parse_line(line).fields == {"s": value}


# -- field types ------------------------------------------------------------------------------

TYPED = [
    ("v=1", 1.0),
    ("v=-1.5", -1.5),
    ("v=1.5e3", 1500.0),
    ("v=-2E-2", -0.02),
    ("v=.5", 0.5),
    ("v=5.", 5.0),
    ("v=+3", 3.0),
    ("v=12i", 12),
    ("v=-12i", -12),
    ("v=9223372036854775807i", 2**63 - 1),
    ("v=-9223372036854775808i", -(2**63)),
    ("v=0u", 0),
    ("v=18446744073709551615u", 2**64 - 1),
    *[(f"v={word}", True) for word in ("t", "T", "true", "True", "TRUE")],
    *[(f"v={word}", False) for word in ("f", "F", "false", "False", "FALSE")],
]


@pytest.mark.parametrize(("fields", "value"), TYPED)
def test_every_field_type_parses_to_its_value(fields: str, value: object) -> None:
    parsed = parse_line(f"cpu {fields}")

    assert parsed.fields == {"v": value}
    assert type(parsed.fields["v"]) is type(value)


def test_numeric_fields_and_booleans_become_gauges_named_measurement_dot_field() -> None:
    b, rows = decode(
        'cpu,host=a,region=eu usage=12.5,count=3i,big=7u,up=true,down=F,state="ok" '
        f"{NOW_S}000000000"
    )

    assert b.result.rejected == 0
    assert [(r["name"], r["value"], r["kind"]) for r in rows] == [
        ("cpu.usage", 12.5, "gauge"),
        ("cpu.count", 3.0, "gauge"),
        ("cpu.big", 7.0, "gauge"),
        ("cpu.up", 1.0, "gauge"),
        ("cpu.down", 0.0, "gauge"),
    ]
    assert all(r["tags"] == {"host": "a", "region": "eu"} for r in rows)
    assert all(r["time"] == NOW_US for r in rows)


def test_a_line_with_only_string_fields_is_rejected_with_a_reason() -> None:
    b, rows = decode('syslog,host=a message="disk full",severity="err"\nsyslog v=1')

    assert [r["name"] for r in rows] == ["syslog.v"]
    [error] = b.result.errors
    assert error.index == 1
    assert "only string fields" in error.reason


# -- precision and timestamps ------------------------------------------------------------------

PRECISION_STAMPS = {
    "n": NOW_S * 10**9,
    "ns": NOW_S * 10**9,
    "u": NOW_S * 10**6,
    "us": NOW_S * 10**6,
    "ms": NOW_S * 10**3,
    "s": NOW_S,
    "m": NOW_S // 60,
    "h": NOW_S // 3600,
}


@pytest.mark.parametrize("precision", sorted(PRECISIONS))
def test_timestamps_are_read_in_the_requested_precision(precision: str) -> None:
    stamp = PRECISION_STAMPS[precision]
    _, [row] = decode(f"cpu v=1 {stamp}", precision=precision)

    multiplier, divisor = PRECISIONS[precision]
    assert row["time"] == stamp * multiplier // divisor
    assert abs(row["time"] - NOW_US) < 3600 * 10**6


def test_nanoseconds_are_the_default_and_sub_microsecond_digits_are_dropped() -> None:
    _, [row] = decode(f"cpu v=1 {NOW_US}789")

    assert row["time"] == NOW_US


def test_a_line_without_timestamp_gets_the_server_time() -> None:
    _, [row] = decode("cpu v=1")

    assert row["time"] == NOW_US


def test_an_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="precision"):
        decode_lines(b"cpu v=1", builder(), precision="fortnight")


def test_timestamps_out_of_range_are_rejected_per_point_with_the_line_number() -> None:
    b, rows = decode(f"cpu v=1 -1000\ncpu v=2 {(NOW_S + 7200) * 10**9}\ncpu v=3")

    assert [r["value"] for r in rows] == [3.0]
    assert [(e.index, e.reason) for e in b.result.errors] == [
        (1, "timestamp is before 1970"),
        (2, "timestamp is more than an hour in the future"),
    ]


# -- lines, comments and rejections ----------------------------------------------------------


def test_comments_blank_lines_and_crlf_are_handled() -> None:
    body = "# a comment\n\n   \ncpu v=1\r\n  # indented comment\r\n  cpu v=2  \r\n"
    b, rows = decode(body)

    assert b.result.rejected == 0
    assert [r["value"] for r in rows] == [1.0, 2.0]


BAD_LINES = [
    ("cpu", "missing fields"),
    ("cpu ", "missing fields"),
    ("cpu,host=a", "missing fields"),
    (",host=a v=1", "missing measurement"),
    ("cpu,host v=1", "has no '=value'"),
    ("cpu,host= v=1", "empty value"),
    ("cpu,=a v=1", "missing tag key"),
    ("cpu, v=1", "missing tag key"),
    ("cpu,a=b=c v=1", "unescaped '='"),
    ("cpu v", "has no '=value'"),
    ("cpu =1", "missing field key"),
    ("cpu v=", "empty value"),
    ("cpu v=1,", "missing field key"),
    ("cpu v=abc", "invalid field value"),
    ("cpu v=1_000", "invalid field value"),
    ("cpu v=nan", "invalid field value"),
    ("cpu v=inf", "invalid field value"),
    ("cpu v=1e999", "out of range"),
    ("cpu v=0x10", "invalid field value"),
    ("cpu v=1.5i", "invalid integer"),
    ("cpu v=9223372036854775808i", "out of the 64-bit range"),
    ("cpu v=-1u", "invalid unsigned"),
    ("cpu v=18446744073709551616u", "out of the 64-bit range"),
    ('cpu v="unterminated', "not closed"),
    ('cpu v="a"b', "unexpected 'b'"),
    ("cpu v=1 abc", "invalid timestamp"),
    ("cpu v=1 12 13", "invalid timestamp"),
    ("cpu v=1 1.5", "invalid timestamp"),
    ("cpu v=\u0661", "invalid field value"),  # Arabic-Indic 1: Python's float() takes it
    ("cpu v=\t1", "invalid field value"),  # and ignores surrounding whitespace
    ("cpu v=1\t", "invalid field value"),
    ("cpu v=1i\t", "invalid field value"),
    ("cpu v=\t1i", "invalid integer"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_malformed_lines_raise_with_a_reason(line: str, reason: str) -> None:
    with pytest.raises(LineProtocolError, match=reason.replace("(", r"\(")):
        parse_line(line)


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_a_malformed_line_is_rejected_whole_by_number_and_the_rest_is_kept(
    line: str, reason: str
) -> None:
    b, rows = decode(f"# header\ncpu ok=1\n{line}\ncpu ok=2")

    assert [r["value"] for r in rows] == [1.0, 2.0]
    assert b.result.rejected == 1
    [error] = b.result.errors
    assert error.signal == "points"
    assert error.index == 3
    assert reason in error.reason


def test_invalid_utf8_rejects_only_its_line() -> None:
    b, rows = decode(b"cpu v=1\ncpu,host=\xff\xfe v=2\ncpu v=3")

    assert [r["value"] for r in rows] == [1.0, 3.0]
    assert [(e.index, e.reason) for e in b.result.errors] == [(2, "line is not valid UTF-8")]


def test_names_the_builder_refuses_are_rejected_per_field_with_the_line_number() -> None:
    b, rows = decode("cpu ok=1,bad%name=2\n1cpu v=3")

    assert [r["name"] for r in rows] == ["cpu.ok"]
    assert [e.index for e in b.result.errors] == [1, 2]
    assert all("invalid metric name" in e.reason for e in b.result.errors)


def test_extra_tags_are_added_unless_the_line_has_that_tag() -> None:
    _, rows = decode("cpu,host=a v=1\ncpu,db=own v=2\ncpu,t=x\\ y v=3", tags={"db": "telegraf"})

    assert [r["tags"] for r in rows] == [
        {"host": "a", "db": "telegraf"},
        {"db": "own"},
        {"t": "x y", "db": "telegraf"},
    ]


def test_series_keys_seen_before_decode_to_the_same_points() -> None:
    body = "cpu,host=a,region=eu user=1,system=2i 1763900000000000000\n" * 3
    first = decode(body)[1]
    second = decode(body)[1]

    assert first == second
    assert len(first) == 6


def test_duplicate_keys_keep_the_last_value() -> None:
    parsed = parse_line("cpu,h=a,h=b v=1,v=2")

    assert parsed.tags == {"h": "b"}
    assert parsed.fields == {"v": 2.0}


def test_tags_are_stored_sorted_by_key_whichever_path_a_line_takes() -> None:
    _, rows = decode(
        'cpu,b=2,a=1 v=1\ncpu,a=1,b=2 v=2\ncpu,b=2,a=1 v=3,s="text"',
        tags={"db": "x"},
    )

    assert [list(r["tags"].items()) for r in rows] == [[("a", "1"), ("b", "2"), ("db", "x")]] * 3
