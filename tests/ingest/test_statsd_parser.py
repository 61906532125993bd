"""StatsD and DogStatsD lines: every type, rate, tags, timestamps, events, service checks, and
a rejection with line number and reason for each kind of bad line."""

from __future__ import annotations

import pytest

from radiator.ingest.statsd import (
    MAX_NAME_LENGTH,
    LineError,
    Sample,
    ServiceCheck,
    StatsdEvent,
    StatsdParser,
    parse_packet,
)


def one(line: str) -> Sample:
    result = parse_packet(line.encode())
    assert result.errors == []
    (sample,) = result.samples
    return sample


def error_of(line: str | bytes) -> LineError:
    result = parse_packet(line.encode() if isinstance(line, str) else line)
    assert result.samples == [] and result.events == [] and result.checks == []
    (error,) = result.errors
    return error


@pytest.mark.parametrize(
    ("line", "kind", "values"),
    [
        ("hits:1|c", "c", (1.0,)),
        ("hits:2.5|c", "c", (2.5,)),
        ("hits:-3|c", "c", (-3.0,)),
        ("queue:17|g", "g", (17.0,)),
        ("latency:12.5|ms", "ms", (12.5,)),
        ("size:512|h", "h", (512.0,)),
        ("payload:1e3|d", "d", (1000.0,)),
    ],
)
def test_each_metric_type_is_parsed(line: str, kind: str, values: tuple[float, ...]) -> None:
    sample = one(line)
    assert (sample.type, sample.values, sample.rate, sample.tags) == (kind, values, 1.0, ())


def test_set_member_is_the_whole_value_even_with_colons() -> None:
    sample = one("users:user:42|s")
    assert (sample.type, sample.name, sample.member, sample.values) == ("s", "users", "user:42", ())


@pytest.mark.parametrize(("line", "delta"), [("queue:+4|g", 4.0), ("queue:-4|g", -4.0)])
def test_signed_gauge_is_a_change_not_a_value(line: str, delta: float) -> None:
    sample = one(line)
    assert (sample.type, sample.values) == ("g+", (delta,))


def test_sample_rate_and_dogstatsd_tags() -> None:
    sample = one("api.requests:1|c|@0.25|#service:api,env:prod,route:/v1/pay")
    assert sample.rate == 0.25
    assert sample.tags == (("env", "prod"), ("route", "/v1/pay"), ("service", "api"))


def test_tag_without_value_is_an_empty_tag_and_the_last_duplicate_wins() -> None:
    sample = one("x:1|c|#canary,zone:a,zone:b,url:http://h:80/p")
    assert dict(sample.tags) == {"canary": "", "zone": "b", "url": "http://h:80/p"}


def test_tag_order_does_not_matter() -> None:
    assert one("x:1|c|#b:2,a:1").tags == one("x:1|c|#a:1,b:2").tags


def test_timestamp_container_and_unknown_extensions() -> None:
    sample = one("x:3|g|#a:b|c:abc123|card:low|e:it-123|T1763900000")
    assert sample.time_us == 1_763_900_000_000_000
    assert sample.tags == (("a", "b"),)


def test_packed_values_are_several_samples() -> None:
    timer = one("latency:1:2:3.5|d|@0.5")
    assert (timer.values, timer.rate) == ((1.0, 2.0, 3.5), 0.5)
    gauges = parse_packet(b"queue:5:+2:-1|g").samples
    assert [(g.type, g.values) for g in gauges] == [("g", (5.0,)), ("g+", (2.0,)), ("g+", (-1.0,))]


def test_several_lines_per_datagram_with_crlf_and_blank_lines() -> None:
    result = parse_packet(b"a:1|c\r\n\nb:2|g\n\nc:3|ms\n")
    assert [s.name for s in result.samples] == ["a", "b", "c"]
    assert result.lines == 3
    assert result.errors == []


def test_names_may_use_dots_dashes_colons_and_slashes() -> None:
    assert one("svc-a.http/latency_ms:1|ms").name == "svc-a.http/latency_ms"


@pytest.mark.parametrize(
    ("line", "code", "reason"),
    [
        ("nocolon", "syntax", "expected name:value|type"),
        ("name|c", "syntax", "expected ':'"),
        ("x:1|q", "type", "unknown type 'q'"),
        ("x:1|", "type", "unknown type ''"),
        ("x:abc|c", "value", "'abc' is not a number"),
        ("x:nan|c", "value", "not a finite number"),
        ("x:inf|ms", "value", "not a finite number"),
        ("x:1:oops|ms", "value", "'oops' is not a number"),
        ("x:|c", "value", "empty value"),
        ("x:|s", "value", "empty value"),
        ("x:1|c|@0", "rate", "not in (0, 1]"),
        ("x:1|c|@1.5", "rate", "not in (0, 1]"),
        ("x:1|c|@half", "value", "sample rate 'half' is not a number"),
        ("x:1|c|#:v", "tags", "empty name"),
        ("x:1|c|Tsoon", "timestamp", "not whole Unix seconds"),
        ("x:1|c|T-5", "timestamp", "not whole Unix seconds"),
        ("x:+1|g|T1763900000", "timestamp", "cannot carry a timestamp"),
        ("x:1|c|!!", "syntax", "unknown field '!!'"),
        (":1|c", "name", "empty metric name"),
        ("1abc:1|c", "name", "invalid metric name '1abc'"),
        ("my metric:1|c", "name", "invalid metric name"),
        ("_e{5}:hello|", "event", "two whole numbers"),
        ("_e{5,3}:hi|abc", "event", "do not match the lengths"),
        ("_e{0,0}:|", "event", "title is empty"),
        ("_e{2,1}:hi|xyz", "event", "expected '|' after the event text"),
        ("_e{2,1}:hi|x|zz", "event", "unknown event field 'zz'"),
        ("_e{2,1}:hi|x|d:yesterday", "timestamp", "not whole Unix seconds"),
        ("_sc|app.up", "service_check", "expected _sc|name|status"),
        ("_sc|app.up|7", "service_check", "not 0, 1, 2 or 3"),
        ("_sc|bad name|0", "name", "invalid metric name"),
    ],
)
def test_bad_lines_are_rejected_with_a_code_and_reason(line: str, code: str, reason: str) -> None:
    error = error_of(line)
    assert (error.line, error.code) == (1, code)
    assert reason in error.reason


def test_too_long_names_and_tags_are_rejected() -> None:
    assert error_of(f"{'a' * (MAX_NAME_LENGTH + 1)}:1|c").code == "name"
    assert one(f"{'a' * MAX_NAME_LENGTH}:1|c").name == "a" * MAX_NAME_LENGTH
    assert error_of(f"x:1|c|#k:{'v' * 1025}").code == "tags"
    many = ",".join(f"t{i}:v" for i in range(64))
    assert error_of(f"x:1|c|#{many}").code == "tags"


def test_invalid_utf8_rejects_only_its_line() -> None:
    result = parse_packet(b"a:1|c\nb\xff:1|c\nc:2|c")
    assert [s.name for s in result.samples] == ["a", "c"]
    assert [(e.line, e.code) for e in result.errors] == [(2, "encoding")]


def test_bad_lines_do_not_spoil_the_rest_of_the_datagram() -> None:
    result = parse_packet(b"ok.one:1|c\nbroken\nok.two:2|g\nx:y|ms\nok.three:3|ms")
    assert [s.name for s in result.samples] == ["ok.one", "ok.two", "ok.three"]
    assert [(e.line, e.code) for e in result.errors] == [(2, "syntax"), (4, "value")]
    assert result.lines == 5


def test_datagrams_parsed_together_keep_their_own_line_numbers() -> None:
    datagrams = [b"a:1|c", b"b:1|c\nbad one", b"", b"c:1|c\n\nd:x|c", b"e:1|c"]
    result = StatsdParser().parse_many(datagrams)
    assert [s.name for s in result.samples] == ["a", "b", "c", "e"]
    assert [(e.datagram, e.line) for e in result.errors] == [(1, 2), (3, 3)]
    assert result.lines == 6


def test_a_cached_verdict_is_given_again_for_the_same_bad_line() -> None:
    parser = StatsdParser()
    for _ in range(3):
        (error,) = parser.parse(b"x:1|zz").errors
        assert error.code == "type"
    for _ in range(3):
        (error,) = parser.parse(b"x:1|c|#:bad").errors
        assert error.code == "tags"


# -- DogStatsD events and service checks ----------------------------------------------------


def test_event_with_every_field() -> None:
    title, text = "Deploy checkout 1.4.2", "Rolled out by CI\\nall green"
    line = (
        f"_e{{{len(title)},{len(text)}}}:{title}|{text}|d:1763900000|h:web-1|p:low|t:success"
        "|k:deploy-42|s:jenkins|#kind:deploy,service:checkout,env:prod|c:abc"
    )
    result = parse_packet(line.encode())
    assert result.errors == []
    (event,) = result.events
    assert event == StatsdEvent(
        title=title,
        text="Rolled out by CI\nall green",
        tags=(("env", "prod"), ("kind", "deploy"), ("service", "checkout")),
        time_us=1_763_900_000_000_000,
        host="web-1",
        priority="low",
        alert_type="success",
        aggregation_key="deploy-42",
        source_type="jenkins",
    )


def test_event_lengths_are_utf8_bytes_and_text_may_hold_pipes() -> None:
    title, text = "Überfall", "a|b|c"
    line = f"_e{{{len(title.encode())},{len(text)}}}:{title}|{text}|#x:1"
    (event,) = parse_packet(line.encode()).events
    assert (event.title, event.text, event.tags) == (title, text, (("x", "1"),))


def test_service_check_with_message_containing_pipes() -> None:
    line = "_sc|db.can_connect|2|d:1763900000|h:db-1|#env:prod|m:timeout | after 5s m\\: retry"
    (check,) = parse_packet(line.encode()).checks
    assert check == ServiceCheck(
        name="db.can_connect",
        status=2,
        tags=(("env", "prod"),),
        time_us=1_763_900_000_000_000,
        host="db-1",
        message="timeout | after 5s m: retry",
    )


def test_events_larger_than_dogstatsd_allows_are_rejected() -> None:
    text = "x" * 8200
    error = error_of(f"_e{{5,{len(text)}}}:title|{text}")
    assert (error.code, error.reason) == ("event", "event is longer than 8192 bytes")
