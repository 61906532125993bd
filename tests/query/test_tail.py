"""The live tail's event stream over a real DuckDB store, driven by a simulated clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from radiator.core.schema import logs_batch
from radiator.core.telemetry import LogFilter, LogRow, Signal, TelemetryStore
from radiator.core.types import LogLevel, LogRecord, TimeRange
from radiator.errors import OverloadedError
from radiator.query.tail import TailOptions, TailSlots, tail_events
from radiator.storage.telemetry import open_telemetry_store

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
OPTIONS = TailOptions(poll_seconds=0.5, heartbeat_seconds=15, grace=timedelta(seconds=5))
BASE = LogFilter(range=TimeRange(T0, T0 + timedelta(seconds=1)))


@pytest.fixture
def store() -> Iterator[TelemetryStore]:
    telemetry = open_telemetry_store("duckdb", ":memory:")
    yield telemetry
    telemetry.close()


def _add(store: TelemetryStore, seconds: float, message: str, service: str = "api") -> None:
    record = LogRecord(T0 + timedelta(seconds=seconds), service, LogLevel.ERROR, message)
    store.append(Signal.LOGS, logs_batch([record]))


class Simulation:
    """A clock that ``sleep`` advances, and writes scheduled for simulated moments."""

    def __init__(self, store: TelemetryStore, until: float) -> None:
        self.store = store
        self.now = T0
        self.until = T0 + timedelta(seconds=until)
        self.plan: list[tuple[float, Callable[[], None]]] = []

    def at(self, seconds: float, action: Callable[[], None]) -> None:
        self.plan.append((seconds, action))

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        due = [item for item in self.plan if T0 + timedelta(seconds=item[0]) <= self.now]
        for item in due:
            self.plan.remove(item)
            item[1]()

    async def disconnected(self) -> bool:
        return self.now >= self.until

    async def fetch(self, query: LogFilter) -> list[LogRow]:
        return self.store.query_logs(query)

    def run(self, base: LogFilter = BASE, backfill: int = 0) -> list[str]:
        async def collect() -> list[str]:
            stream = tail_events(
                self.fetch,
                base,
                backfill=backfill,
                render=lambda row: orjson.dumps({"message": row.message}).decode(),
                clock=self.clock,
                sleep=self.sleep,
                disconnected=self.disconnected,
                options=OPTIONS,
            )
            return [event async for event in stream]

        return asyncio.run(collect())


def _messages(events: list[str]) -> list[str]:
    return [
        orjson.loads(event.split("data: ", 1)[1])["message"]
        for event in events
        if event.startswith("event: log")
    ]


def test_backfill_sends_the_newest_records_oldest_first_then_only_new_ones(
    store: TelemetryStore,
) -> None:
    for i in range(5):
        _add(store, -5 + i, f"old {i}")
    sim = Simulation(store, until=5)
    sim.at(1, lambda: _add(store, 0.8, "new 1"))
    sim.at(2, lambda: _add(store, 1.9, "new 2"))
    sim.at(3, lambda: _add(store, 2.5, "new 3"))

    events = sim.run(backfill=2)

    assert events[0] == ": tail started\n\n"
    assert events[3] == 'event: ready\ndata: {"backfilled": 2}\n\n'
    assert _messages(events) == ["old 3", "old 4", "new 1", "new 2", "new 3"]


def test_without_backfill_only_records_after_the_start_are_sent(store: TelemetryStore) -> None:
    _add(store, -1, "before")
    sim = Simulation(store, until=3)
    sim.at(1, lambda: _add(store, 0.5, "after"))

    assert _messages(sim.run()) == ["after"]


def test_a_record_late_within_the_grace_period_is_sent_and_an_older_one_is_not(
    store: TelemetryStore,
) -> None:
    sim = Simulation(store, until=20)
    sim.at(10, lambda: _add(store, 9.5, "on time"))
    sim.at(12, lambda: _add(store, 8, "late by 4s"))
    sim.at(14, lambda: _add(store, 2, "late by 12s"))

    assert _messages(sim.run()) == ["on time", "late by 4s"]


def test_a_record_stamped_in_the_future_does_not_hide_the_next_ones(
    store: TelemetryStore,
) -> None:
    sim = Simulation(store, until=6)
    sim.at(1, lambda: _add(store, 3600, "from the future"))
    sim.at(2, lambda: _add(store, 1.5, "now"))

    assert _messages(sim.run()) == ["from the future", "now"]


def test_filters_of_the_base_query_apply(store: TelemetryStore) -> None:
    sim = Simulation(store, until=3)
    sim.at(1, lambda: _add(store, 0.5, "checkout failed", service="checkout"))
    sim.at(1, lambda: _add(store, 0.6, "search failed", service="search"))
    base = LogFilter(range=BASE.range, services=("search",), text="FAILED")

    assert _messages(sim.run(base)) == ["search failed"]


def test_heartbeat_comment_every_fifteen_seconds_of_quiet(store: TelemetryStore) -> None:
    events = Simulation(store, until=31).run()

    assert events.count(": heartbeat\n\n") == 2
    assert _messages(events) == []


def test_a_busy_poll_sends_every_new_record_once(store: TelemetryStore) -> None:
    sim = Simulation(store, until=4)
    batch = [
        LogRecord(T0 + timedelta(seconds=1, microseconds=i), "api", LogLevel.INFO, f"r{i}")
        for i in range(300)
    ]
    sim.at(1, lambda: store.append(Signal.LOGS, logs_batch(batch)))

    assert _messages(sim.run()) == [f"r{i}" for i in range(300)]


def test_slots_refuse_more_tails_than_the_limit_until_one_ends() -> None:
    slots = TailSlots(2)
    slots.acquire()
    slots.acquire()
    with pytest.raises(OverloadedError, match="log_tail_max_streams"):
        slots.acquire()
    slots.release()
    slots.acquire()
    assert slots.active == 2
