"""Recent raw points held in memory, grouped by series: the store's "head".

Dashboards mostly look at the last few hours, at raw resolution. Read from the points table,
those points come back interleaved across series (they were written in time order) and must
be sorted by series for every request, which costs more than the read itself. This keeps the
last ``hours`` of points in memory as one sorted (time, value) array per series, so a read
of many series is a slice per series.

Consistency with the table:

- **Appends** are added after their transaction commits, under ``admission`` (which the
  store holds across commit and add), in any order: a batch older than a series' newest
  point is merged into place.
- **Warm-up** (``warm``) loads the table's last ``hours`` in the background. It fixes its
  read snapshot while holding ``admission``, so every append either committed before the
  snapshot (and is loaded) or is added afterwards (held back until the load is done): none
  is lost or counted twice. Until warm-up finishes, nothing is served from memory.
- **Horizon.** Reads are answered only when they start at or after the horizon, the
  earliest time from which every stored point is held. It moves forward with the clock
  (``hours`` behind it), when memory would exceed ``max_bytes`` (the oldest points go
  first), and past any range deleted or rewritten in the table (``forget_through``).
  Points older than the horizon that arrive late are left to the table.

Every method is thread-safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from radiator.core.telemetry import ORDERED_BY_SERIES, RecentStats, Resolution, StepWindows

__all__ = ["Loader", "PointArrays", "RecentPoints", "sketch_keys"]

_log = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
UIntArray = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]

_POINT_BYTES = 16  # an int64 time and a float64 value
# A series' arrays grow by 1/_GROWTH of their size when full, so at most that share of
# memory sits unused beyond the points counted against the limit.
_GROWTH = 4
_MINUTE_US = 60_000_000
# The horizon follows the clock in steps of this fraction of the window (trimming every
# series costs a copy of each, so not on every append).
_TRIM_FRACTION = 16
# Over the memory limit, the oldest points are dropped down to this share of it.
_REFILL_SHARE = 0.9
# The horizon for a memory limit is read from a sample of about this many times.
_HORIZON_SAMPLE = 1_000_000
# Appended batches are spread over their series when a read or trim needs them, or once
# this many batches or points are pending.
_PENDING_BATCHES = 64
_PENDING_POINTS = 1_000_000


def sketch_keys(values: FloatArray, gamma: float, offset: int) -> IntArray:
    """DDSketch keys of finite values, as the store's SQL computes them: ``±(offset +
    ceil(log_gamma |v|))``, 0 for zero."""
    if len(values) and float(values.min()) > 0:  # the usual case: no sign to carry
        exponents: IntArray = np.ceil(np.log(values) / np.log(gamma)).astype(np.int64)
        return exponents + offset
    keys = np.zeros(len(values), dtype=np.int64)
    magnitude = np.abs(values)
    nonzero = magnitude > 0
    exponents = np.ceil(np.log(magnitude[nonzero]) / np.log(gamma)).astype(np.int64)
    keys[nonzero] = np.sign(values[nonzero]).astype(np.int64) * (offset + exponents)
    return keys


class _Series:
    """One series' points sorted by time, in arrays with spare capacity at the end.

    Appends write past ``size``; anything else builds new arrays, so views handed out
    earlier (``view``) never change under a reader.
    """

    __slots__ = ("size", "times", "values")

    def __init__(self) -> None:
        self.times: IntArray = np.empty(0, dtype=np.int64)
        self.values: FloatArray = np.empty(0, dtype=np.float64)
        self.size = 0

    def view(self) -> tuple[IntArray, FloatArray]:
        return self.times[: self.size], self.values[: self.size]

    def extend(self, times: IntArray, values: FloatArray) -> None:
        """Add points sorted by time (equal times keep their order, after existing ones)."""
        if self.size and times[0] < self.times[self.size - 1]:
            old_times, old_values = self.view()
            merged_times = np.concatenate((old_times, times))
            order = np.argsort(merged_times, kind="stable")
            self._replace(merged_times[order], np.concatenate((old_values, values))[order])
            return
        need = self.size + len(times)
        if need > len(self.times):
            capacity = max(need, len(self.times) + len(self.times) // _GROWTH, 64)
            grown_times = np.empty(capacity, dtype=np.int64)
            grown_values = np.empty(capacity, dtype=np.float64)
            grown_times[: self.size] = self.times[: self.size]
            grown_values[: self.size] = self.values[: self.size]
            self.times, self.values = grown_times, grown_values
        self.times[self.size : need] = times
        self.values[self.size : need] = values
        self.size = need

    def drop_before(self, horizon: int) -> int:
        """Drop points before ``horizon``; how many went."""
        times, values = self.view()
        cut = int(np.searchsorted(times, horizon, side="left"))
        if cut:
            self._replace(times[cut:].copy(), values[cut:].copy())
        return cut

    def _replace(self, times: IntArray, values: FloatArray) -> None:
        self.times, self.values, self.size = times, values, len(times)


@dataclass(frozen=True, slots=True)
class _Batch:
    sids: UIntArray
    times: IntArray
    values: FloatArray


PointArrays = tuple[UIntArray, IntArray, FloatArray]
"""Points as (sids, times in epoch µs, values)."""
Loader = Callable[[int], Iterator[PointArrays]]
"""``loader(lo_us)``: called with ``admission`` held, fixes its read snapshot before it
returns (the store runs a first query in a new transaction), then yields (sids, times,
values) of the table's points at or after ``lo_us``, in any order and any number of parts."""


class RecentPoints:
    """The last ``hours`` of raw points per series, at most ``max_bytes`` of them."""

    def __init__(
        self,
        hours: float,
        max_bytes: int,
        clock: Callable[[], float] = time.time,
        admission: threading.Lock | None = None,
    ) -> None:
        if hours <= 0 or max_bytes <= 0:
            raise ValueError("RecentPoints needs a positive window and memory limit")
        self.window_us = int(hours * 3_600_000_000)
        self.max_bytes = max_bytes
        self._clock = clock
        # Held by the store across an append's commit and its ``add``, and by warm-up while
        # it fixes its snapshot: see the module docstring. The store passes the lock it
        # holds around every commit, so appends that began before it kept recent points
        # are ordered with the snapshot too.
        self.admission = admission or threading.Lock()
        self._lock = threading.Lock()
        self._series: dict[int, _Series] = {}
        # Appended batches not yet spread over their series: adding one costs a filter, and
        # spreading many at once costs one step per series, not one per series and batch.
        self._pending: list[_Batch] = []
        self._pending_points = 0
        self._points = 0  # held, pending included
        self._horizon = 0  # points before it are not held
        self._ready = False  # warm-up is done: reads are answered
        self._failed = False  # warm-up or an append failed: nothing is answered again
        self._held: list[_Batch] | None = None  # appends arriving during warm-up
        self._closed = threading.Event()

    # -- writing -------------------------------------------------------------------------

    def add(self, sids: UIntArray, times: IntArray, values: FloatArray) -> None:
        """Points just committed to the table (call with ``admission`` held)."""
        if not len(sids):
            return
        batch = _Batch(sids, times, values)
        with self._lock:
            if self._held is not None:
                self._held.append(batch)
            elif self._ready:
                try:
                    self._add_pending(batch)
                    self._settle()
                except Exception:
                    # The append has committed and must not fail now; without these points
                    # memory would answer wrongly, so it stops answering at all.
                    _log.exception("recent points failed to take an append; reads use the store")
                    self._ready = False
                    self._failed = True
                    self._drop_all()

    def warm(self, loader: Loader) -> bool:
        """Load the table's recent points, then answer reads; False if closed meanwhile.

        Appends committed while it loads are held back and added at the end. If the
        loader fails, nothing is held and reads keep using the table.
        """
        try:
            with self.admission:
                with self._lock:
                    if self._ready or self._closed.is_set():
                        return self._ready
                    # A horizon moved by ``forget_through`` meanwhile stays where it is.
                    self._horizon = max(self._horizon, self._now_us() - self.window_us)
                    self._held = []
                parts = loader(self._horizon)
            for sids, times, values in parts:
                if self._closed.is_set():
                    return False
                with self._lock:
                    self._insert(_Batch(sids, times, values))
                    self._settle(follow_clock=False)
            with self._lock:
                for batch in self._held or ():
                    self._insert(batch)
                self._held = None
                self._ready = not self._closed.is_set()
                self._settle()
            return self._ready
        finally:
            with self._lock:
                if not self._ready:  # failed or closed: hold nothing
                    self._failed = not self._closed.is_set()
                    self._held = None
                    self._drop_all()

    def forget_through(self, end_us: int) -> None:
        """Points before ``end_us`` were deleted or rewritten in the table: stop answering
        for them (the horizon moves to ``end_us`` if it was earlier)."""
        with self._lock:
            if end_us > self._horizon:
                self._move_horizon(end_us)

    def close(self) -> None:
        """Stop a warm-up under way and drop everything."""
        self._closed.set()
        with self._lock:
            self._ready = False
            self._drop_all()

    def _drop_all(self) -> None:
        self._series.clear()
        self._pending.clear()
        self._pending_points = 0
        self._points = 0

    def _kept(self, batch: _Batch) -> _Batch:
        """The points of ``batch`` at or after the horizon."""
        keep = batch.times >= self._horizon
        if keep.all():
            return batch
        return _Batch(batch.sids[keep], batch.times[keep], batch.values[keep])

    def _add_pending(self, batch: _Batch) -> None:
        kept = self._kept(batch)
        if not len(kept.sids):
            return
        self._pending.append(kept)
        self._pending_points += len(kept.sids)
        self._points += len(kept.sids)
        if len(self._pending) >= _PENDING_BATCHES or self._pending_points >= _PENDING_POINTS:
            self._spread()

    def _spread(self) -> None:
        """Put the pending batches' points into their series (before any read or trim)."""
        if not self._pending:
            return
        batches, self._pending, self._pending_points = self._pending, [], 0
        merged = _Batch(
            np.concatenate([b.sids for b in batches]),
            np.concatenate([b.times for b in batches]),
            np.concatenate([b.values for b in batches]),
        )
        self._points -= len(merged.sids)
        self._insert(merged)

    def _insert(self, batch: _Batch) -> None:
        kept = self._kept(batch)
        sids, times, values = kept.sids, kept.times, kept.values
        if not len(sids):
            return
        order = np.lexsort((times, sids))
        sids, times, values = sids[order], times[order], values[order]
        starts = np.flatnonzero(np.concatenate(([True], sids[1:] != sids[:-1])))
        ends = np.append(starts[1:], len(sids))
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            sid = int(sids[a])
            series = self._series.get(sid)
            if series is None:
                series = self._series[sid] = _Series()
            series.extend(times[a:b], values[a:b])
        self._points += len(sids)

    def _settle(self, follow_clock: bool = True) -> None:
        """Move the horizon with the clock and within the memory limit."""
        due = self._now_us() - self.window_us
        if follow_clock and due - self._horizon > self.window_us // _TRIM_FRACTION:
            self._move_horizon(due)
        if self._points * _POINT_BYTES > self.max_bytes:
            self._move_horizon(self._horizon_for(int(self.max_bytes * _REFILL_SHARE)))

    def _horizon_for(self, budget: int) -> int:
        """About the earliest time from which the points held fit in ``budget`` bytes: the
        time of the right rank in an even sample of every series' times."""
        self._spread()
        views = [s.view()[0] for s in self._series.values() if s.size]
        total = sum(len(t) for t in views)
        drop = total - budget // _POINT_BYTES
        if drop <= 0:
            return self._horizon
        stride = max(1, total // _HORIZON_SAMPLE)
        sample = np.concatenate([t[::stride] for t in views])
        rank = min(-(-drop // stride), len(sample) - 1)
        return max(int(np.partition(sample, rank)[rank]), self._horizon)

    def _move_horizon(self, horizon: int) -> None:
        self._spread()
        self._horizon = horizon
        emptied = []
        for sid, series in self._series.items():
            self._points -= series.drop_before(horizon)
            if not series.size:
                emptied.append(sid)
        for sid in emptied:
            del self._series[sid]

    def _now_us(self) -> int:
        return int(self._clock() * 1_000_000)

    # -- reading -------------------------------------------------------------------------

    def covers(self, lo_us: int) -> bool:
        """Whether reads starting at ``lo_us`` would be answered."""
        with self._lock:
            return self._ready and lo_us >= self._horizon

    def stats(self) -> RecentStats:
        with self._lock:
            self._spread()
            return RecentStats(
                ready=self._ready,
                series=len(self._series),
                points=self._points,
                bytes=self._points * _POINT_BYTES,
                max_bytes=self.max_bytes,
                horizon_us=self._horizon if self._ready else None,
                failed=self._failed,
            )

    def _slices(
        self, sids: Sequence[int], lo_us: int, hi_us: int
    ) -> tuple[IntArray, IntArray, FloatArray] | None:
        """Points per requested series with time in [lo_us, hi_us), by series then time;
        None when the range starts before the horizon."""
        times_parts: list[IntArray] = []
        values_parts: list[FloatArray] = []
        lengths = np.zeros(len(sids), dtype=np.int64)
        with self._lock:
            if not self._ready or lo_us < self._horizon:
                return None
            self._spread()
            for position, sid in enumerate(sids):
                series = self._series.get(sid)
                if series is None:
                    continue
                times, values = series.view()
                a = int(np.searchsorted(times, lo_us, side="left"))
                b = int(np.searchsorted(times, hi_us, side="left"))
                if b > a:
                    times_parts.append(times[a:b])
                    values_parts.append(values[a:b])
                    lengths[position] = b - a
        if not times_parts:
            return lengths, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        return lengths, np.concatenate(times_parts), np.concatenate(values_parts)

    def count(self, sids: Sequence[int], lo_us: int, hi_us: int) -> int | None:
        """Points of ``sids`` with time in [lo_us, hi_us); None when not held."""
        with self._lock:
            if not self._ready or lo_us < self._horizon:
                return None
            self._spread()
            total = 0
            for sid in sids:
                series = self._series.get(sid)
                if series is not None:
                    times = series.view()[0]
                    total += int(np.searchsorted(times, hi_us, side="left")) - int(
                        np.searchsorted(times, lo_us, side="left")
                    )
            return total

    def points(
        self, sids: Sequence[int], lo_us: int, hi_us: int, windows: StepWindows | None
    ) -> pa.Table | None:
        """Raw points as the store's ``fetch_cells`` gives them at ``RAW`` (sid, series,
        time, value), ordered by series then time; None when not held."""
        found = self._slices(sids, lo_us, hi_us)
        if found is None:
            return None
        lengths, times, values = found
        series_of = np.repeat(np.arange(len(sids), dtype=np.int64), lengths)
        if windows is not None:
            keep = _in_windows(times, windows, 0)
            series_of, times, values = series_of[keep], times[keep], values[keep]
        return _table(sids, series_of, times, {"value": values})

    def sketch_entries(
        self,
        sids: Sequence[int],
        lo_us: int,
        hi_us: int,
        resolution: Resolution,
        windows: StepWindows | None,
        gamma: float,
        offset: int,
    ) -> pa.Table | None:
        """Sketch entries as the store's ``fetch_sketches`` gives them (sid, series, time,
        key, count) for cells starting in [lo_us, hi_us), one entry of count 1 per finite
        point, ordered by series then time; None when not held."""
        size = 0 if resolution is Resolution.RAW else resolution.seconds * 1_000_000
        if size:
            lo_us, hi_us = -(-lo_us // size) * size, -(-hi_us // size) * size
        found = self._slices(sids, lo_us, hi_us)
        if found is None:
            return None
        lengths, times, values = found
        series_of = np.repeat(np.arange(len(sids), dtype=np.int64), lengths)
        starts = (times // size) * size if size else times
        keep = np.isfinite(values)
        if windows is not None:
            keep &= _in_windows(starts, windows, size)
        series_of, starts, values = series_of[keep], starts[keep], values[keep]
        keys = sketch_keys(values, gamma, offset)
        counts = np.ones(len(keys), dtype=np.uint64)
        return _table(sids, series_of, starts, {"key": keys, "count": counts})


def _in_windows(starts: IntArray, windows: StepWindows, size: int) -> npt.NDArray[np.bool_]:
    """Cells starting at ``starts`` (of ``size`` µs) that end in one of the windows (the
    SQL condition of ``duckdb_metrics.CellsRequest.in_windows``)."""
    distance = (windows.anchor_us - size - starts) % windows.step_us
    return np.asarray(distance < windows.range_us)


def _table(
    sids: Sequence[int],
    series_of: IntArray,
    times: IntArray,
    columns: dict[str, npt.NDArray[np.generic]],
) -> pa.Table:
    sid_array = np.asarray(sids, dtype=np.uint64)
    data = {
        "sid": pa.array(sid_array[series_of] if len(sid_array) else np.empty(0, np.uint64)),
        "series": pa.array(series_of),
        "time": pa.array(times),
        **{name: pa.array(values) for name, values in columns.items()},
    }
    return pa.table(data).replace_schema_metadata(ORDERED_BY_SERIES)
