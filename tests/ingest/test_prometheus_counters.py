"""Cumulative counters to deltas with a duplicate guard and batch rollback."""

from __future__ import annotations

import pytest

from radiator.ingest.prometheus_counters import CounterTracker

TAGS = {"job": "shop"}


def test_first_sample_is_a_baseline_then_increases_are_deltas() -> None:
    batch = CounterTracker().batch()

    assert batch.delta("c_total", TAGS, 10, 1) is None
    assert batch.delta("c_total", TAGS, 15, 2) == 5
    assert batch.delta("c_total", TAGS, 15, 3) == 0


def test_a_new_start_counts_the_first_value_in_full() -> None:
    batch = CounterTracker().batch()

    assert batch.delta("c_total", TAGS, 4, 1, is_new_start=True) == 4


def test_a_lower_value_is_a_reset() -> None:
    batch = CounterTracker().batch()
    batch.delta("c_total", TAGS, 10, 1)

    assert batch.delta("c_total", TAGS, 3, 2) == 3


def test_samples_not_newer_than_the_last_are_duplicates() -> None:
    batch = CounterTracker().batch()
    batch.delta("c_total", TAGS, 10, 5)
    batch.delta("c_total", TAGS, 12, 6)

    assert batch.delta("c_total", TAGS, 11, 6) is None
    assert batch.delta("c_total", TAGS, 10, 5) is None
    assert batch.duplicates == 2
    assert batch.delta("c_total", TAGS, 13, 7) == 1


def test_series_are_told_apart_by_name_and_tags() -> None:
    batch = CounterTracker().batch()
    batch.delta("c_total", {"a": "1"}, 10, 1)
    batch.delta("c_total", {"a": "2"}, 100, 1)

    assert batch.delta("c_total", {"a": "1"}, 11, 2) == 1
    assert batch.delta("c_total", {"a": "2"}, 150, 2) == 50


@pytest.mark.parametrize(
    ("before", "retried", "expected"),
    [
        ([(10, 1)], [(12, 2), (15, 3)], [2, 3]),  # plain increases
        ([(10, 1)], [(4, 2), (6, 3)], [4, 2]),  # a reset inside the rolled-back batch
        ([(0, 1)], [(5, 2)], [5]),  # an increase from zero
        ([], [(7, 2), (9, 3)], [None, 2]),  # a series first seen in the rolled-back batch
    ],
)
def test_a_rolled_back_batch_yields_the_same_deltas_when_retried(
    before: list[tuple[float, int]],
    retried: list[tuple[float, int]],
    expected: list[float | None],
) -> None:
    tracker = CounterTracker()
    setup = tracker.batch()
    for value, when in before:
        setup.delta("c_total", TAGS, value, when)
    failed = tracker.batch()
    first_try = [failed.delta("c_total", TAGS, v, t) for v, t in retried]

    failed.rollback()
    retry = tracker.batch()
    second_try = [retry.delta("c_total", TAGS, v, t) for v, t in retried]

    assert first_try == expected
    assert second_try == expected


def test_a_rolled_back_first_sample_does_not_make_a_later_one_a_reset() -> None:
    tracker = CounterTracker()
    failed = tracker.batch()
    failed.delta("c_total", TAGS, 50, 1)
    failed.rollback()
    batch = tracker.batch()

    assert batch.delta("c_total", TAGS, 20, 2) is None, "still unknown: a baseline"
    assert batch.delta("c_total", TAGS, 25, 3) == 5


def test_memory_is_bounded_by_forgetting_the_least_recent_series() -> None:
    tracker = CounterTracker(max_series=2)
    batch = tracker.batch()
    for name in ("a", "b", "c"):
        batch.delta(name, TAGS, 1, 1)

    assert batch.delta("a", TAGS, 5, 2) is None, "a was forgotten: a new baseline"
    assert batch.delta("c", TAGS, 5, 2) == 4
