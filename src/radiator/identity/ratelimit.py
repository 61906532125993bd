"""Failed-login throttling: a sliding window of failures per (username, address)."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from datetime import datetime, timedelta

from radiator.core.clock import Clock, system_clock

__all__ = ["LoginLimiter"]

_SWEEP_AT = 10_000


class LoginLimiter:
    """Blocks a key after ``max_failures`` failures within ``window``; thread-safe.

    Keys are tracked both per username+address and per address alone (with a looser
    limit), so guessing many usernames from one address is throttled too.
    """

    def __init__(self, max_failures: int, window: timedelta, clock: Clock = system_clock) -> None:
        self._max = max_failures
        self._window = window
        self._clock = clock
        self._failures: defaultdict[str, deque[datetime]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._sweep_at = _SWEEP_AT

    def _keys(self, username: str, address: str) -> list[tuple[str, int]]:
        return [(f"u:{username.lower()}|{address}", self._max), (f"a:{address}", self._max * 4)]

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key, limit in self._keys(username, address):
                times = self._prune(key, now)
                if len(times) >= limit:
                    wait = max(wait, (times[0] + self._window - now).total_seconds())
        return wait

    def fail(self, username: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key, _ in self._keys(username, address):
                self._prune(key, now).append(now)
            if len(self._failures) > self._sweep_at:
                self._sweep(now)

    def _sweep(self, now: datetime) -> None:
        """Forget keys whose failures have all aged out, so spraying many usernames cannot
        grow memory without bound; the threshold doubles with what remains."""
        for key in list(self._failures):
            if not self._prune(key, now):
                del self._failures[key]
        self._sweep_at = max(_SWEEP_AT, 2 * len(self._failures))

    def __len__(self) -> int:
        """How many (user, address) and address keys are tracked."""
        return len(self._failures)

    def succeed(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop(self._keys(username, address)[0][0], None)

    def _prune(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures[key]
        while times and times[0] + self._window <= now:
            times.popleft()
        return times
