"""Cumulative OTLP streams: start times decide baselines, restarts and stale points."""

from __future__ import annotations

from radiator.ingest.otlp_cumulative import CumulativeStreams


def minus(current: float, previous: float) -> float | None:
    return None if current < previous else current - previous


def step(streams: CumulativeStreams, start: int, time: int, value: float) -> float | None:
    session = streams.session()
    delta = session.delta("s", start, time, value, minus)
    session.commit()
    return delta


def test_first_sight_counts_in_full_only_when_the_stream_started_after_watching_began() -> None:
    assert step(CumulativeStreams(since_ns=100), 100, 150, 7) == 7
    assert step(CumulativeStreams(since_ns=100), 99, 150, 7) is None
    assert step(CumulativeStreams(since_ns=0), 0, 150, 7) is None  # start unknown


def test_deltas_follow_the_previous_point_of_the_same_start() -> None:
    streams = CumulativeStreams(since_ns=0)
    step(streams, 10, 20, 5)

    assert step(streams, 10, 30, 9) == 4
    assert step(streams, 10, 40, 2) == 2  # went down without a new start: a reset


def test_stale_points_are_ignored_and_do_not_move_the_state() -> None:
    streams = CumulativeStreams(since_ns=0)
    step(streams, 10, 30, 9)

    assert step(streams, 10, 30, 9) is None  # the same export again
    assert step(streams, 10, 25, 7) is None  # an older one
    assert step(streams, 5, 40, 20) is None  # an older start
    assert step(streams, 10, 40, 12) == 3


def test_uncommitted_sessions_change_nothing() -> None:
    streams = CumulativeStreams(since_ns=0)
    step(streams, 10, 20, 5)
    session = streams.session()

    assert session.delta("s", 10, 30, 9, minus) == 4
    assert session.delta("s", 10, 40, 10, minus) == 1  # a session sees its own updates

    assert step(streams, 10, 30, 9) == 4


def test_the_least_recently_updated_streams_are_forgotten_beyond_the_bound() -> None:
    streams = CumulativeStreams(since_ns=0, max_streams=2)
    session = streams.session()
    for key in ("a", "b", "c"):
        session.delta(key, 1, 2, 1.0, minus)
    session.commit()

    assert len(streams) == 2
    again = streams.session()
    assert again.delta("a", 1, 3, 5.0, minus) == 5.0  # forgotten: counts in full again
    assert again.delta("c", 1, 3, 5.0, minus) == 4.0
