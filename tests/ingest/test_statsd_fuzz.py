"""Fuzzing the StatsD parser and aggregator: arbitrary bytes never raise, every non-empty line
is accepted or rejected with its line number, and whatever is accepted the store accepts."""

from __future__ import annotations

import math
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radiator.ingest import BatchBuilder, SeriesLimiter
from radiator.ingest.selfmetrics import SelfMetrics
from radiator.ingest.statsd import ParseResult, StatsdParser, parse_packet
from radiator.ingest.statsd_aggregate import StatsdAggregator

NOW_US = 1_763_900_000_000_000
# RADIATOR_FUZZ_EXAMPLES=20000 for a longer hunt.
FUZZ = settings(
    max_examples=int(os.environ.get("RADIATOR_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Pieces of real lines, so random combinations reach deep into the parser.
_PIECES = [
    "a", "x.y", "_e{", "_sc|", "}:", ":", "|", "|c", "|g", "|ms", "|h", "|d", "|s", "|@",
    "|@0.5", "|#", "#", ",", "k:v", "|T", "T17639", "|c:", "card:", "|d:", "|h:", "|m:",
    "1", "-", "+", "1.5", "1e308", "nan", "inf", "0", "\n", "\r\n", "\\n", " ", "é", "\x00",
    "{", "}", "5,3", "12", "_",
]  # fmt: skip
line_text = st.lists(st.sampled_from(_PIECES) | st.text(max_size=6), max_size=14).map("".join)
packets = st.binary(max_size=300) | line_text.map(str.encode)


def nonempty_lines(data: bytes) -> list[int]:
    """1-based numbers of the lines the parser must account for (a CR before the line end
    is part of the line end)."""
    return [n for n, line in enumerate(data.split(b"\n"), 1) if line.removesuffix(b"\r")]


def outputs(result: ParseResult) -> int:
    return len(result.samples) + len(result.events) + len(result.checks)


@FUZZ
@given(packets)
def test_every_nonempty_line_is_accepted_or_rejected_with_its_number(data: bytes) -> None:
    result = parse_packet(data)
    numbered = nonempty_lines(data)
    assert result.lines == len(numbered)
    error_lines = [error.line for error in result.errors]
    assert len(set(error_lines)) == len(error_lines)
    assert set(error_lines) <= set(numbered)
    assert all(error.reason and error.code for error in result.errors)
    # Line by line, the verdict is the same as for the whole datagram.
    lines = data.split(b"\n")
    for number in numbered:
        alone = parse_packet(lines[number - 1])
        if number in error_lines:
            assert len(alone.errors) == 1 and outputs(alone) == 0
        else:
            assert alone.errors == [] and outputs(alone) >= 1


@FUZZ
@given(st.lists(packets, min_size=1, max_size=6))
def test_datagrams_parsed_together_report_the_same_errors_as_one_by_one(
    datagrams: list[bytes],
) -> None:
    together = StatsdParser().parse_many(datagrams)
    apart = [parse_packet(data) for data in datagrams]
    expected = [
        (index, error.line, error.code) for index, r in enumerate(apart) for error in r.errors
    ]
    assert [(e.datagram, e.line, e.code) for e in together.errors] == expected
    assert together.samples == [s for r in apart for s in r.samples]
    assert together.lines == sum(r.lines for r in apart)


@FUZZ
@given(st.lists(packets, min_size=1, max_size=8))
def test_what_the_parser_accepts_the_store_accepts(datagrams: list[bytes]) -> None:
    aggregator = StatsdAggregator(SelfMetrics(), max_keys=50)
    aggregator.add_many(datagrams)
    builder = BatchBuilder(NOW_US, SeriesLimiter(10_000))
    aggregator.drain_into(builder)
    aggregator.drain_into(builder)  # gauges are written again
    for error in builder.result.errors:
        # Only timestamps the parser cannot judge (no clock) and sums past the float range.
        assert "timestamp" in error.reason or "finite" in error.reason, error
    builder.tables()


@FUZZ
@given(
    name=st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_.\-/]{0,30}", fullmatch=True),
    kind=st.sampled_from(["c", "ms", "h", "d"]),
    values=st.lists(
        st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=4
    ),
    rate=st.sampled_from([None, 1.0, 0.5, 0.01]),
    tags=st.dictionaries(
        st.text(st.characters(blacklist_characters=",:|\n\r#", codec="utf-8"), min_size=1),
        st.text(st.characters(blacklist_characters=",|\n\r", codec="utf-8")),
        max_size=5,
    ),
)
def test_valid_lines_round_trip(
    name: str, kind: str, values: list[float], rate: float | None, tags: dict[str, str]
) -> None:
    line = f"{name}:{':'.join(repr(v) for v in values)}|{kind}"
    if rate is not None:
        line += f"|@{rate}"
    if tags:
        line += "|#" + ",".join(f"{k}:{v}" for k, v in tags.items())
    result = parse_packet(line.encode())
    assert result.errors == [], line
    (sample,) = result.samples
    assert sample.name == name and sample.type == kind
    assert sample.values == tuple(values)
    assert sample.rate == (rate or 1.0)
    assert dict(sample.tags) == tags
    assert all(math.isfinite(v) for v in sample.values)
