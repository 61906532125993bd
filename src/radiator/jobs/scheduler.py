"""A small thread-based scheduler for periodic background work.

The work itself lives in the domains; a job here is a name, an interval and a callable.
Each run's duration and failure are recorded so Radiator's own jobs are visible in itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Job", "JobStats", "Scheduler"]

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class JobStats:
    runs: int = 0
    failures: int = 0
    last_duration_s: float = 0.0
    last_error: str = ""


@dataclass(slots=True)
class Job:
    name: str
    interval: float
    work: Callable[[], None]
    run_on_stop: bool = False
    wake: threading.Event | None = None
    stats: JobStats = field(default_factory=JobStats)


class Scheduler:
    """Runs each job every ``interval`` seconds on its own daemon thread.

    ``stop`` wakes every thread, waits for running work to finish and then runs the jobs
    marked ``run_on_stop`` once more, so buffered data is flushed on graceful shutdown.
    """

    def __init__(self) -> None:
        self._jobs: list[Job] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def every(
        self,
        seconds: float,
        name: str,
        work: Callable[[], None],
        *,
        run_on_stop: bool = False,
        wake: threading.Event | None = None,
    ) -> Job:
        """Run ``work`` every ``seconds``, or sooner whenever ``wake`` is set."""
        job = Job(name, seconds, work, run_on_stop, wake)
        self._jobs.append(job)
        return job

    def start(self) -> None:
        self._stopping.clear()
        for job in self._jobs:
            thread = threading.Thread(target=self._loop, args=(job,), name=f"job-{job.name}")
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        for job in self._jobs:
            if job.wake is not None:
                job.wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        for job in self._jobs:
            if job.run_on_stop:
                self.run_once(job)

    def run_once(self, job: Job) -> None:
        started = time.perf_counter()
        try:
            job.work()
        except Exception as exc:  # a failing job must not kill its thread
            job.stats.failures += 1
            job.stats.last_error = f"{exc.__class__.__name__}: {exc}"
            _log.exception("background job %s failed", job.name)
        finally:
            job.stats.runs += 1
            job.stats.last_duration_s = time.perf_counter() - started

    def _loop(self, job: Job) -> None:
        while True:
            if job.wake is not None:
                job.wake.wait(job.interval)
                job.wake.clear()
            else:
                self._stopping.wait(job.interval)
            if self._stopping.is_set():
                return
            self.run_once(job)
