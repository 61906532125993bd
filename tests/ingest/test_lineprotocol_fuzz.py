"""Property tests of the line-protocol decoder: it never raises, accounts for every line,
round-trips what a writer escapes, and its fast path agrees with the full tokenizer."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radiator.ingest import BatchBuilder, SeriesLimiter
from radiator.ingest.lineprotocol import (
    PRECISIONS,
    FieldValue,
    _decode_slow,
    decode_lines,
    parse_line,
)

NOW_US = 1_763_900_000_000_000


class RecordingBuilder(BatchBuilder):
    """Remembers which line each offered point came from and what it was."""

    def __init__(self) -> None:
        super().__init__(NOW_US, SeriesLimiter(1_000_000))
        self.offered: list[tuple[int, str, float, dict[str, str], int | None]] = []

    def series_points(
        self,
        index: int,
        tags: Mapping[str, str],
        values: Iterable[tuple[str, float]],
        kind: str = "gauge",
        time_us: int | None = None,
    ) -> int:
        # ``point`` goes through here too, so every offered point is recorded exactly once.
        items = list(values)
        for name, value in items:
            self.offered.append((index, name, value, dict(tags), time_us))
        return super().series_points(index, tags, items, kind, time_us)


SYNTAX = list(',= "\\#\n\r\tabcpu0123456789.-+eEiutTfF_')
line_text = st.text(alphabet=st.sampled_from(SYNTAX) | st.characters(), max_size=80)
bodies = st.lists(line_text, max_size=12).map("\n".join)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_any_body_is_decoded_without_raising_and_every_line_is_accounted_for(body: str) -> None:
    b = RecordingBuilder()
    decode_lines(body.encode("utf-8", "surrogatepass"), b)

    lines = body.replace("\r\n", "\n").removesuffix("\r").split("\n")
    offered = {index for index, *_ in b.offered}
    rejected = {error.index for error in b.result.errors}
    for number, line in enumerate(lines, 1):
        stripped = line.lstrip(" ")
        if not stripped.strip(" ") or stripped.startswith("#"):
            assert number not in offered | rejected
        else:
            assert number in offered | rejected, (number, line)
    assert offered | rejected <= set(range(1, len(lines) + 1))
    assert b.result.accepted + b.result.rejected >= len(offered | rejected)


@settings(max_examples=300)
@given(
    body=st.lists(
        st.binary(max_size=30) | line_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
        max_size=8,
    )
)
def test_bytes_that_are_not_utf8_reject_only_their_own_lines(body: list[bytes]) -> None:
    raw = b"\n".join(body)
    b = RecordingBuilder()
    decode_lines(raw, b)

    touched = {index for index, *_ in b.offered} | {e.index for e in b.result.errors}
    for number, line in enumerate(raw.split(b"\n"), 1):
        try:
            text = line.decode()
        except UnicodeDecodeError:
            comment = line.lstrip(b" ").startswith(b"#")
            assert (number in {e.index for e in b.result.errors}) is not comment
            continue
        text = text.removesuffix("\r").lstrip(" ")
        blank = not text.strip(" ") or text.startswith("#")
        assert (number in touched) is not blank, (number, line)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(line=line_text, precision=st.sampled_from(sorted(PRECISIONS)))
def test_the_fast_path_decodes_exactly_as_the_full_tokenizer(line: str, precision: str) -> None:
    fast, slow = RecordingBuilder(), RecordingBuilder()
    decode_lines(line.encode("utf-8", "surrogatepass"), fast, precision=precision)
    if "\r" in line or "\n" in line:
        return  # the body splitter sees several lines; the first test covers those
    multiplier, divisor = PRECISIONS[precision]
    if line.encode("utf-8", "surrogatepass") == line.encode("utf-8", "replace"):
        _decode_slow(line, 1, slow, multiplier, divisor, {})
        assert fast.offered == slow.offered
        assert fast.result == slow.result


# -- round trip of what a writer escapes -----------------------------------------------------

names = st.text(st.characters(exclude_characters="\n\r"), min_size=1, max_size=12)


def escape(text: str, specials: str) -> str:
    text = text.replace("\\", "\\\\")
    for char in specials:
        text = text.replace(char, "\\" + char)
    return text


def value_text(value: FieldValue, kind: str) -> str:
    if kind == "u":
        return f"{value}u"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


field_values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(lambda v: (v, "f")),
    st.integers(-(2**63), 2**63 - 1).map(lambda v: (v, "i")),
    st.integers(0, 2**64 - 1).map(lambda v: (v, "u")),
    st.booleans().map(lambda v: (v, "b")),
    st.text(st.characters(exclude_characters="\n"), max_size=20).map(lambda v: (v, "s")),
)


@settings(max_examples=400)
@given(
    measurement=names.filter(lambda m: not m.startswith(("#", " "))),
    tags=st.dictionaries(names, names, max_size=4),
    fields=st.dictionaries(names, field_values, min_size=1, max_size=4),
    timestamp=st.none() | st.integers(-(2**63), 2**63 - 1),
)
def test_escaped_lines_round_trip(
    measurement: str,
    tags: dict[str, str],
    fields: dict[str, tuple[FieldValue, str]],
    timestamp: int | None,
) -> None:
    line = escape(measurement, ", ")
    line += "".join(f",{escape(k, ',= ')}={escape(v, ',= ')}" for k, v in tags.items())
    line += " " + ",".join(f"{escape(k, ',= ')}={value_text(*v)}" for k, v in fields.items())
    if timestamp is not None:
        line += f" {timestamp}"

    parsed = parse_line(line)

    assert parsed.measurement == measurement
    assert parsed.tags == tags
    assert parsed.fields == {k: v for k, (v, _) in fields.items()}
    assert parsed.timestamp == timestamp
    for key, value in parsed.numeric.items():
        assert math.isfinite(value)
        assert not isinstance(fields[key][0], str)
