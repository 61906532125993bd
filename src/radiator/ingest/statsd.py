"""StatsD and DogStatsD datagram parsing: bytes in, samples, events and service checks out.

One datagram holds one or more lines separated by ``\\n``::

    name:value[:value…]|type[|@rate][|#tag:v,tag2][|c:container][|T<unix seconds>]
    _e{<title bytes>,<text bytes>}:title|text[|d:ts][|h:host][|p:prio][|t:alert][|#tags]…
    _sc|name|status[|d:ts][|h:host][|#tags][|m:message]

Types: ``c`` counter, ``g`` gauge (a value starting with ``+`` or ``-`` changes the gauge
instead of setting it, as in Etsy's StatsD), ``ms`` timer, ``h`` histogram, ``d``
distribution, ``s`` set (the whole value is one member). Several values separated by ``:``
(DogStatsD's packed form) are several samples, except for sets.

The parser never raises on input: each bad line becomes a ``LineError`` with its 1-based
line number within the datagram, a short ``code`` (used as a self-metric tag) and a reason.
Empty lines are skipped. Fields a newer client adds (``c:``, ``e:``, ``card:``…) are
accepted and ignored. A tag without a value (``#canary``) becomes the tag ``canary=""``; when
a tag name repeats, the last value wins.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

__all__ = [
    "MAX_NAME_LENGTH",
    "LineError",
    "ParseResult",
    "Sample",
    "ServiceCheck",
    "StatsdEvent",
    "StatsdParser",
    "Tags",
    "parse_packet",
]

Tags = tuple[tuple[str, str], ...]
"""Tags sorted by name: hashable, so they can be part of an aggregation key."""

MAX_NAME_LENGTH = 190  # leaves room for ".count", ".status"… within the store's 200
_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_.:\-/]*")
_MAX_TAGS = 63  # the store takes 64; service checks may add ``host``
_MAX_TAG_LENGTH = 1024
_MAX_EVENT_BYTES = 8 * 1024  # DogStatsD clients refuse larger events too
_MAX_VALUES_PER_LINE = 1024
# Parser caches: entries per cache, and the longest key worth keeping (bounds their memory).
_CACHE_SIZE = 32_768
_CACHE_KEY_LENGTH = 512
_METRIC_TYPES = frozenset(("c", "g", "ms", "h", "d", "s"))
_EXTENSION_RE = re.compile(r"[a-z]+:")
_CHECK_STATUSES = {"0": 0, "1": 1, "2": 2, "3": 3}


class Sample(NamedTuple):
    """One metric line (a gauge line with several values gives one per value). ``type`` is
    ``c``, ``g``, ``g+`` (a gauge change), ``ms``, ``h``, ``d`` or ``s``; ``values`` holds
    the numbers (empty for sets, whose member is ``member``); ``time_us`` is the line's own
    timestamp (``|T``), if any."""

    type: str
    name: str
    tags: Tags
    values: tuple[float, ...]
    rate: float = 1.0
    time_us: int | None = None
    member: str = ""


@dataclass(frozen=True, slots=True)
class StatsdEvent:
    title: str
    text: str
    tags: Tags = ()
    time_us: int | None = None
    host: str = ""
    priority: str = ""
    alert_type: str = ""
    aggregation_key: str = ""
    source_type: str = ""


@dataclass(frozen=True, slots=True)
class ServiceCheck:
    """``status``: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""

    name: str
    status: int
    tags: Tags = ()
    time_us: int | None = None
    host: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class LineError:
    """A rejected line: its 1-based number within its datagram, the datagram's 0-based
    position among those parsed together, a short ``code`` and a reason."""

    line: int
    code: str
    reason: str
    datagram: int = 0


@dataclass(slots=True)
class ParseResult:
    """Everything in the datagrams parsed: ``lines`` counts non-empty lines, each of which
    is either accepted or in ``errors``."""

    lines: int = 0
    samples: list[Sample] = field(default_factory=list)
    events: list[StatsdEvent] = field(default_factory=list)
    checks: list[ServiceCheck] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


class _Bad(NamedTuple):
    """A cached verdict on a bad name, tag string or field list (an exception instance
    would collect a traceback every time it is raised again)."""

    code: str
    reason: str


class _LineInvalidError(Exception):
    """Internal: one line is bad. Never leaves this module."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


_Spec = tuple[str, Tags, float, int | None]  # type, tags, sample rate, timestamp
_K = TypeVar("_K")
_V = TypeVar("_V")
_new = tuple.__new__  # builds a Sample without the Python-level __new__ (hot path)


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _LineInvalidError("value", f"{what} {text[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise _LineInvalidError("value", f"{what} {text[:40]!r} is not a finite number")
    return value


def _timestamp(text: str) -> int:
    """Unix seconds (an integer) as microseconds."""
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise _LineInvalidError("timestamp", f"timestamp {text[:40]!r} is not whole Unix seconds")
    return int(text) * 1_000_000


def _is_extension(field_text: str) -> bool:
    return _EXTENSION_RE.match(field_text) is not None


class StatsdParser:
    """Parses datagrams; remembers recently seen names and tag strings so the common case
    (the same series again) skips validation. Not thread-safe: one per receiving thread."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}  # name -> "" when valid, else the reason
        # (name, everything after the value) -> what it means, or (code, reason) when bad
        self._specs: dict[tuple[str, str], _Spec | _Bad] = {}
        self._tags: dict[str, Tags | _Bad] = {}

    def parse(self, data: bytes) -> ParseResult:
        """Parse one datagram."""
        return self.parse_many((data,))

    def parse_many(self, datagrams: Sequence[bytes]) -> ParseResult:
        """Parse datagrams received together, as one text (much cheaper than one by one when
        each datagram holds a single line); errors still name datagram and line."""
        result = ParseResult()
        data = datagrams[0] if len(datagrams) == 1 else b"\n".join(datagrams)
        try:
            lines: list[str] | list[str | None] = data.decode("utf-8").split("\n")
        except UnicodeDecodeError:
            lines = [_decode(raw) for raw in data.split(b"\n")]
        if b"\r" in data:  # one CR before the line end belongs to the line end (CRLF)
            lines = [line[:-1] if line and line[-1] == "\r" else line for line in lines]
        errors = result.errors
        samples = result.samples
        metric = self._metric
        count = 0
        for number, line in enumerate(lines, 1):
            if not line:
                if line is None:
                    count += 1
                    errors.append(LineError(number, "encoding", "line is not valid UTF-8"))
                continue
            count += 1
            try:
                if line[0] != "_":
                    metric(line, samples)
                elif line.startswith("_e{"):
                    result.events.append(self._event(line))
                elif line.startswith("_sc|"):
                    result.checks.append(self._check(line))
                else:
                    metric(line, samples)
            except _LineInvalidError as exc:
                errors.append(LineError(number, exc.code, exc.reason))
        result.lines = count
        if errors and len(datagrams) > 1:
            result.errors = _locate(errors, datagrams)
        return result

    # -- metrics ---------------------------------------------------------------------------

    def _metric(self, line: str, out: list[Sample]) -> None:
        head, sep, rest = line.partition("|")
        if not sep:
            raise _LineInvalidError("syntax", "expected name:value|type")
        name, sep, raw = head.partition(":")
        if not sep:
            raise _LineInvalidError("syntax", "expected ':' between the name and the value")
        # Everything but the value repeats from line to line: validate it once.
        spec = self._specs.get((name, rest))
        if spec is None:
            spec = self._spec(name, rest)
        if isinstance(spec, _Bad):
            raise _LineInvalidError(*spec)
        kind, tags, rate, time_us = spec
        if not raw:
            raise _LineInvalidError("value", "empty value")
        if kind == "s":
            out.append(_new(Sample, ("s", name, tags, (), rate, time_us, raw)))
        elif kind == "g":
            self._gauges(name, tags, raw, time_us, out)
        elif ":" in raw:
            parts = raw.split(":")
            if len(parts) > _MAX_VALUES_PER_LINE:
                raise _LineInvalidError(
                    "value", f"more than {_MAX_VALUES_PER_LINE} values in one line"
                )
            values = tuple(_number(part, "value") for part in parts)
            out.append(_new(Sample, (kind, name, tags, values, rate, time_us, "")))
        else:
            try:
                value = float(raw)
            except ValueError:
                raise _LineInvalidError("value", f"value {raw[:40]!r} is not a number") from None
            if value - value != 0.0:  # inf and nan
                raise _LineInvalidError("value", f"value {raw[:40]!r} is not a finite number")
            out.append(_new(Sample, (kind, name, tags, (value,), rate, time_us, "")))

    def _spec(self, name: str, rest: str) -> _Spec | _Bad:
        spec: _Spec | _Bad
        try:
            spec = self._parse_spec(name, rest)
        except _LineInvalidError as exc:
            spec = _Bad(exc.code, exc.reason)
        _remember(self._specs, (name, rest), spec, len(name) + len(rest))
        return spec

    def _parse_spec(self, name: str, rest: str) -> _Spec:
        self._check_name(name)
        fields = rest.split("|")
        kind = fields[0]
        if kind not in _METRIC_TYPES:
            raise _LineInvalidError("type", f"unknown type {kind[:20]!r} (c, g, ms, h, d or s)")
        rate = 1.0
        tags: Tags = ()
        time_us: int | None = None
        for extra in fields[1:]:
            first = extra[:1]
            if first == "@":
                rate = _number(extra[1:], "sample rate")
                if not 0.0 < rate <= 1.0:
                    raise _LineInvalidError(
                        "rate", f"sample rate {extra[1:][:20]!r} is not in (0, 1]"
                    )
            elif first == "#":
                tags = self._tags_of(extra[1:])
            elif first == "T":
                time_us = _timestamp(extra[1:])
            elif not _is_extension(extra):
                raise _LineInvalidError("syntax", f"unknown field {extra[:40]!r}")
        return kind, tags, rate, time_us

    @staticmethod
    def _gauges(name: str, tags: Tags, raw: str, time_us: int | None, out: list[Sample]) -> None:
        parts = raw.split(":")
        if len(parts) > _MAX_VALUES_PER_LINE:
            raise _LineInvalidError("value", f"more than {_MAX_VALUES_PER_LINE} values in one line")
        samples = []
        for part in parts:
            value = _number(part, "value")
            if part[:1] in ("+", "-"):
                if time_us is not None:
                    raise _LineInvalidError(
                        "timestamp", "a gauge change (+N or -N) cannot carry a timestamp"
                    )
                samples.append(Sample("g+", name, tags, (value,), 1.0, None))
            else:
                samples.append(Sample("g", name, tags, (value,), 1.0, time_us))
        out.extend(samples)

    def _check_name(self, name: str) -> None:
        problem = self._names.get(name)
        if problem is None:
            problem = ""
            if not name:
                problem = "empty metric name"
            elif len(name) > MAX_NAME_LENGTH:
                problem = f"metric name longer than {MAX_NAME_LENGTH} characters"
            elif not _NAME_RE.fullmatch(name):
                problem = (
                    f"invalid metric name {name[:80]!r} (letters, digits and _ . : - /, "
                    "not starting with a digit)"
                )
            _remember(self._names, name, problem, len(name))
        if problem:
            raise _LineInvalidError("name", problem)

    def _tags_of(self, text: str) -> Tags:
        known = self._tags.get(text)
        if known is None:
            try:
                known = _parse_tags(text)
            except _LineInvalidError as exc:
                known = _Bad(exc.code, exc.reason)
            _remember(self._tags, text, known, len(text))
        if isinstance(known, _Bad):
            raise _LineInvalidError(*known)
        return known

    # -- events and service checks ---------------------------------------------------------

    def _event(self, line: str) -> StatsdEvent:
        close = line.find("}:")
        if close < 0:
            raise _LineInvalidError("event", "expected _e{title length,text length}:title|text")
        sizes = line[3:close].split(",")
        if len(sizes) != 2 or not all(s.isascii() and s.isdigit() for s in sizes):
            raise _LineInvalidError("event", "event lengths must be two whole numbers: _e{5,4}:")
        title_len, text_len = int(sizes[0]), int(sizes[1])
        if title_len + text_len > _MAX_EVENT_BYTES:
            raise _LineInvalidError("event", f"event is longer than {_MAX_EVENT_BYTES} bytes")
        body = line[close + 2 :].encode("utf-8")
        end = title_len + 1 + text_len
        if len(body) < end or body[title_len : title_len + 1] != b"|":
            raise _LineInvalidError("event", "event title and text do not match the lengths given")
        try:
            title = body[:title_len].decode("utf-8").replace("\\n", "\n")
            text = body[title_len + 1 : end].decode("utf-8").replace("\\n", "\n")
            rest = body[end:].decode("utf-8")
        except UnicodeDecodeError:
            raise _LineInvalidError("event", "event lengths cut a character in two") from None
        if not title:
            raise _LineInvalidError("event", "event title is empty")
        if rest and not rest.startswith("|"):
            raise _LineInvalidError("event", "expected '|' after the event text")
        found: dict[str, str] = {}
        tags: Tags = ()
        time_us: int | None = None
        for extra in rest.split("|")[1:]:
            key, value = extra[:2], extra[2:]
            if extra.startswith("#"):
                tags = self._tags_of(extra[1:])
            elif key == "d:":
                time_us = _timestamp(value)
            elif key in ("h:", "p:", "t:", "k:", "s:"):
                found[key] = value
            elif not _is_extension(extra):
                raise _LineInvalidError("event", f"unknown event field {extra[:40]!r}")
        return StatsdEvent(
            title,
            text,
            tags,
            time_us,
            host=found.get("h:", ""),
            priority=found.get("p:", ""),
            alert_type=found.get("t:", ""),
            aggregation_key=found.get("k:", ""),
            source_type=found.get("s:", ""),
        )

    def _check(self, line: str) -> ServiceCheck:
        fields = line.split("|")
        if len(fields) < 3:
            raise _LineInvalidError("service_check", "expected _sc|name|status")
        name, raw_status = fields[1], fields[2]
        self._check_name(name)
        status = _CHECK_STATUSES.get(raw_status)
        if status is None:
            raise _LineInvalidError(
                "service_check", f"status {raw_status[:20]!r} is not 0, 1, 2 or 3"
            )
        tags: Tags = ()
        time_us: int | None = None
        host = message = ""
        for position, extra in enumerate(fields[3:], 3):
            if extra.startswith("m:"):
                # The message is last and may itself contain '|'.
                message = "|".join(fields[position:])[2:].replace("m\\:", "m:")
                message = message.replace("\\n", "\n")
                break
            if extra.startswith("#"):
                tags = self._tags_of(extra[1:])
            elif extra.startswith("d:"):
                time_us = _timestamp(extra[2:])
            elif extra.startswith("h:"):
                host = extra[2:]
                if len(host) > _MAX_TAG_LENGTH:
                    raise _LineInvalidError("service_check", "host name is too long")
            elif not _is_extension(extra):
                raise _LineInvalidError(
                    "service_check", f"unknown service check field {extra[:40]!r}"
                )
        return ServiceCheck(name, status, tags, time_us, host, message)


def _locate(errors: list[LineError], datagrams: Sequence[bytes]) -> list[LineError]:
    """Turn line numbers within the joined datagrams into (datagram, line) pairs."""
    starts = []  # lines before each datagram
    seen = 0
    for data in datagrams:
        starts.append(seen)
        seen += data.count(b"\n") + 1
    located = []
    for error in errors:
        index = bisect.bisect_right(starts, error.line - 1) - 1
        located.append(LineError(error.line - starts[index], error.code, error.reason, index))
    return located


def _remember(cache: dict[_K, _V], key: _K, value: _V, length: int) -> None:
    if length > _CACHE_KEY_LENGTH:
        return
    if len(cache) >= _CACHE_SIZE:
        cache.clear()  # crude, but a working set this large is rare and re-learnt quickly
    cache[key] = value


def _decode(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _parse_tags(text: str) -> Tags:
    found: dict[str, str] = {}
    for item in text.split(","):
        if not item:
            continue  # "#a:1,,b:2" and a trailing comma are harmless
        key, _, value = item.partition(":")
        if not key:
            raise _LineInvalidError("tags", f"tag {item[:40]!r} has an empty name")
        if len(key) > _MAX_TAG_LENGTH or len(value) > _MAX_TAG_LENGTH:
            raise _LineInvalidError(
                "tags", f"tag {key[:40]!r} is longer than {_MAX_TAG_LENGTH} characters"
            )
        found[key] = value
    if len(found) > _MAX_TAGS:
        raise _LineInvalidError("tags", f"more than {_MAX_TAGS} tags")
    return tuple(sorted(found.items()))


def parse_packet(data: bytes) -> ParseResult:
    """Parse one datagram with a fresh parser (the listener keeps one parser instead)."""
    return StatsdParser().parse(data)
