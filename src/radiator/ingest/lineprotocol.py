"""InfluxDB line protocol (the v1 and v2 write APIs), decoded into a ``BatchBuilder``.

```
measurement[,tag=value...] field=value[,field=value...] [timestamp]
```

Mapping: every numeric or boolean field becomes one gauge point named
``<measurement>.<field>`` carrying the line's tags (booleans are 1 and 0). Tags are stored
sorted by key, as InfluxDB orders a series key, so ``a=1,b=2`` and ``b=2,a=1`` are one
series. String fields are not metrics and are skipped; a line whose fields are all strings
is rejected, so nothing is dropped without a word. A malformed line is rejected whole with
its 1-based line number and the reason; the other lines are still decoded.

Escaping follows the InfluxDB reference: ``\\,`` and ``\\ `` in measurements; ``\\,``,
``\\=`` and ``\\ `` in tag keys, tag values and field keys; ``\\"`` and ``\\\\`` in string
field values; ``\\\\`` is one backslash everywhere and any other backslash is literal.

Speed: most lines hold no backslash, quote or non-ASCII text. Those take a fast path of
``str.split`` and a cache of already parsed series keys (measurement plus tags); anything
else, and anything the fast path is unsure of, goes through ``parse_line``, the full
tokenizer, which is the single authority on what a line means and why it is refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from radiator.ingest.builder import BatchBuilder

__all__ = [
    "PRECISIONS",
    "FieldValue",
    "LineProtocolError",
    "ParsedLine",
    "decode_lines",
    "parse_line",
]

# Timestamp unit -> (multiplier, divisor) to microseconds. The v1 API also knows n, u, m, h.
PRECISIONS: dict[str, tuple[int, int]] = {
    "n": (1, 1000),
    "ns": (1, 1000),
    "u": (1, 1),
    "us": (1, 1),
    "ms": (1000, 1),
    "s": (1_000_000, 1),
    "m": (60_000_000, 1),
    "h": (3_600_000_000, 1),
}

FieldValue = float | int | bool | str

_INT64 = (-(2**63), 2**63 - 1)
_UINT64_MAX = 2**64 - 1
_BOOLS = {
    "t": True,
    "T": True,
    "true": True,
    "True": True,
    "TRUE": True,
    "f": False,
    "F": False,
    "false": False,
    "False": False,
    "FALSE": False,
}
_FLOAT_END = frozenset("0123456789.")
_MAX_SHOWN = 60
# Parsed series keys, per set of extra tags; cleared when full (a Telegraf fleet repeats the
# same series every interval, so hits are the norm).
_CACHE_LIMIT = 50_000
_SeriesEntry = tuple[str, dict[str, str]]
_caches: dict[tuple[tuple[str, str], ...], dict[str, _SeriesEntry]] = {}

# The full tokenizer. A backslash always takes the next character with it into the token;
# which escapes are then removed depends on the element.
_MEASUREMENT = re.compile(r"(?:[^, \\]|\\.?)+")
_KEY = re.compile(r"(?:[^,= \\]|\\.?)+")
_SPACES = re.compile(r" +")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_PLAIN_VALUE = re.compile(r"[^, ]+")
_TIMESTAMP = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_UNSIGNED = re.compile(r"\+?[0-9]+")
_UNESCAPE_MEASUREMENT = re.compile(r"\\([, \\])")
_UNESCAPE_KEY = re.compile(r"\\([,= \\])")
_UNESCAPE_STRING = re.compile(r'\\(["\\])')


class LineProtocolError(ValueError):
    """One line is not valid line protocol; the message says why."""


@dataclass(slots=True)
class ParsedLine:
    """One line, unescaped. ``timestamp`` is as written, in the request's precision."""

    measurement: str
    tags: dict[str, str]
    fields: dict[str, FieldValue]
    timestamp: int | None = None
    numeric: dict[str, float] = field(default_factory=dict)


def _shown(text: str) -> str:
    return repr(text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…")


def _number(raw: str) -> FieldValue:
    """A field value that is not a string: float, ``i`` integer, ``u`` unsigned or boolean."""
    boolean = _BOOLS.get(raw)
    if boolean is not None:
        return boolean
    last = raw[-1]
    if last == "i":
        if not _INTEGER.fullmatch(raw, 0, len(raw) - 1):
            raise LineProtocolError(f"invalid integer field value {_shown(raw)}")
        number = int(raw[:-1])
        if not _INT64[0] <= number <= _INT64[1]:
            raise LineProtocolError(f"integer {_shown(raw)} is out of the 64-bit range")
        return number
    if last == "u":
        if not _UNSIGNED.fullmatch(raw, 0, len(raw) - 1):
            raise LineProtocolError(f"invalid unsigned field value {_shown(raw)}")
        number = int(raw[:-1])
        if number > _UINT64_MAX:
            raise LineProtocolError(f"unsigned {_shown(raw)} is out of the 64-bit range")
        return number
    if not _FLOAT.fullmatch(raw):
        raise LineProtocolError(
            f"invalid field value {_shown(raw)}: not a number, boolean or quoted string"
        )
    value = float(raw)
    if not math.isfinite(value):
        raise LineProtocolError(f"float {_shown(raw)} is out of range")
    return value


def _tags(line: str, at: int, tags: dict[str, str]) -> int:
    """Parse ``,key=value`` pairs starting at the comma at ``at``; returns the index after."""
    end = len(line)
    while at < end and line[at] == ",":
        key = _KEY.match(line, at + 1)
        if key is None:
            raise LineProtocolError("missing tag key after ','")
        at = key.end()
        if at >= end or line[at] != "=":
            raise LineProtocolError(f"tag {_shown(key.group())} has no '=value'")
        value = _KEY.match(line, at + 1)
        if value is None:
            raise LineProtocolError(f"tag {_shown(key.group())} has an empty value")
        at = value.end()
        if at < end and line[at] == "=":
            raise LineProtocolError(
                f"tag value {_shown(value.group())} has an unescaped '=' (write it as '\\=')"
            )
        tags[_UNESCAPE_KEY.sub(r"\1", key.group())] = _UNESCAPE_KEY.sub(r"\1", value.group())
    return at


def _fields(line: str, at: int, fields: dict[str, FieldValue]) -> int:
    """Parse ``key=value[,key=value...]`` at ``at``; returns the index after the last one."""
    end = len(line)
    while True:
        key = _KEY.match(line, at)
        if key is None:
            raise LineProtocolError("missing field key")
        name = _UNESCAPE_KEY.sub(r"\1", key.group())
        at = key.end()
        if at >= end or line[at] != "=":
            raise LineProtocolError(f"field {_shown(name)} has no '=value'")
        at += 1
        if at < end and line[at] == '"':
            text = _STRING.match(line, at)
            if text is None:
                raise LineProtocolError(f"string value of field {_shown(name)} is not closed")
            fields[name] = _UNESCAPE_STRING.sub(r"\1", text.group(1))
            at = text.end()
        else:
            raw = _PLAIN_VALUE.match(line, at)
            if raw is None:
                raise LineProtocolError(f"field {_shown(name)} has an empty value")
            fields[name] = _number(raw.group())
            at = raw.end()
        if at >= end or line[at] == " ":
            return at
        if line[at] != ",":  # a closed string followed by something other than , or space
            raise LineProtocolError(f"unexpected {line[at]!r} after the value of {_shown(name)}")
        at += 1


def parse_line(line: str) -> ParsedLine:
    """Parse one line (without its newline) completely.

    Raises:
        LineProtocolError: the line is malformed; the message names the problem.
    """
    line = line.lstrip(" ")
    measurement = _MEASUREMENT.match(line)
    if measurement is None:
        raise LineProtocolError("missing measurement")
    parsed = ParsedLine(_UNESCAPE_MEASUREMENT.sub(r"\1", measurement.group()), {}, {})
    at = _tags(line, measurement.end(), parsed.tags)
    gap = _SPACES.match(line, at)
    if gap is None or gap.end() == len(line):
        raise LineProtocolError("missing fields (measurement[,tags] field=value [timestamp])")
    at = _fields(line, gap.end(), parsed.fields)
    gap = _SPACES.match(line, at)
    if gap is not None and gap.end() < len(line):
        stamp = _TIMESTAMP.match(line, gap.end())
        rest = line[gap.end() :].rstrip(" ")
        if stamp is None or stamp.end() != gap.end() + len(rest):
            raise LineProtocolError(f"invalid timestamp {_shown(rest)}: expected an integer")
        parsed.timestamp = int(stamp.group())
    for name, value in parsed.fields.items():
        if not isinstance(value, str):
            parsed.numeric[name] = float(value)
    return parsed


def _series(key: str, extra: Mapping[str, str]) -> _SeriesEntry | None:
    """Fast parse of a series key without backslashes or quotes; None when it needs the
    tokenizer (which then finds the error, if there is one)."""
    measurement, comma, rest = key.partition(",")
    if not measurement:
        return None
    tags: dict[str, str] = {}
    if comma:
        for pair in rest.split(","):
            name, _, value = pair.partition("=")
            if not name or not value or "=" in value:
                return None
            tags[name] = value
    for name, value in extra.items():
        tags.setdefault(name, value)
    return measurement, dict(sorted(tags.items()))


def _lines(body: bytes, builder: BatchBuilder) -> list[str]:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        lines = []
        for number, raw in enumerate(body.split(b"\n"), 1):
            try:
                lines.append(raw.decode())
            except UnicodeDecodeError:
                if not raw.lstrip(b" ").startswith(b"#"):  # comments may hold anything
                    builder.result.reject("points", number, "line is not valid UTF-8")
                lines.append("")
        return [line[:-1] if line.endswith("\r") else line for line in lines]
    if "\r" in text:
        text = text.replace("\r\n", "\n").removesuffix("\r")
    return text.split("\n")


def decode_lines(
    body: bytes,
    builder: BatchBuilder,
    *,
    precision: str = "ns",
    tags: Mapping[str, str] | None = None,
) -> None:
    """Decode a line-protocol body into ``builder``; malformed lines become rejections
    (``signal`` "points", ``index`` the 1-based line number).

    Args:
        body: UTF-8 text, lines separated by ``\\n`` (``\\r\\n`` works too).
        builder: receives one point per numeric or boolean field.
        precision: unit of the timestamps, a key of ``PRECISIONS``.
        tags: added to every point whose line lacks that tag key (e.g. ``{"db": "telegraf"}``).

    Raises:
        ValueError: ``precision`` is not a key of ``PRECISIONS``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; use one of {sorted(PRECISIONS)}")
    multiplier, divisor = PRECISIONS[precision]
    extra = dict(tags or {})
    cache = _caches.setdefault(tuple(sorted(extra.items())), {})
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    add_series = builder.series_points
    isfinite = math.isfinite
    float_end = _FLOAT_END
    for number, line in enumerate(_lines(body, builder), 1):
        if not line:
            continue
        first = line[0]
        if first == "#":
            continue
        if first == " " or "\\" in line or '"' in line or not line.isascii():
            _decode_slow(line, number, builder, multiplier, divisor, extra)
            continue
        parts = line.split(" ")
        if len(parts) == 2:
            key, text = parts
            when = None
        elif len(parts) == 3 and parts[2].isdigit():
            key, text, stamp = parts
            when = int(stamp) * multiplier // divisor
        else:
            _decode_slow(line, number, builder, multiplier, divisor, extra)
            continue
        entry = cache.get(key)
        if entry is None:
            entry = _series(key, extra)
            if entry is None:
                _decode_slow(line, number, builder, multiplier, divisor, extra)
                continue
            cache[key] = entry
        measurement, series_tags = entry
        values: dict[str, float] = {}
        for item in text.split(","):
            name, _, raw = item.partition("=")
            # Plain floats are decoded here; everything else (and every doubt) goes to the
            # tokenizer's value parser.
            if not name or not raw:
                break
            last = raw[-1]
            if last in float_end and raw[0] > " " and "_" not in raw:
                try:
                    value = float(raw)
                except ValueError:
                    break
                if not isfinite(value):
                    break
                values[name] = value
            elif last == "i" and len(raw) < 20 and raw[:-1].isdigit():
                # Non-negative integers below 10**18 fit int64; float() rounds them exactly
                # as float(int()) would.
                values[name] = float(raw[:-1])
            else:
                try:
                    typed = _number(raw)
                except LineProtocolError:
                    break
                values[name] = float(typed)  # never a string here: the line has no quotes
        else:
            prefix = measurement + "."
            add_series(
                number,
                series_tags,
                [(prefix + name, value) for name, value in values.items()],
                "gauge",
                when,
            )
            continue
        _decode_slow(line, number, builder, multiplier, divisor, extra)


def _decode_slow(
    line: str,
    number: int,
    builder: BatchBuilder,
    multiplier: int,
    divisor: int,
    extra: Mapping[str, str],
) -> None:
    if not line.strip(" ") or line.lstrip(" ").startswith("#"):
        return
    try:
        parsed = parse_line(line)
    except LineProtocolError as exc:
        builder.result.reject("points", number, str(exc))
        return
    if not parsed.numeric:
        builder.result.reject(
            "points",
            number,
            "only string fields: Radiator stores numbers and booleans as metrics, not strings",
        )
        return
    when = None if parsed.timestamp is None else parsed.timestamp * multiplier // divisor
    for key, tag in extra.items():
        parsed.tags.setdefault(key, tag)
    tags = dict(sorted(parsed.tags.items()))
    prefix = parsed.measurement + "."
    builder.series_points(
        number,
        tags,
        [(prefix + name, value) for name, value in parsed.numeric.items()],
        "gauge",
        when,
    )
