"""Scraping Prometheus endpoints: one job per configured target, at the target's interval.

This module does the HTTP (httpx); parsing and mapping are ``radiator.ingest.prometheus``.
Like Prometheus, every scrape writes ``up`` (1 or 0), ``scrape_duration_seconds`` and
``scrape_samples_scraped`` for its target, failed scrapes included; a scrape never raises.
"""

from __future__ import annotations

import logging
import ssl
import time
from dataclasses import dataclass
from typing import Protocol

import httpx

from radiator import __version__
from radiator.config import ScrapeTarget
from radiator.errors import OverloadedError
from radiator.ingest import BatchBuilder, IngestResult
from radiator.ingest.prometheus import ACCEPT, decode_exposition, scrape_health
from radiator.ingest.prometheus_counters import CounterTracker
from radiator.jobs.scheduler import Scheduler
from radiator.runtime import Runtime

__all__ = [
    "MAX_SCRAPE_BYTES",
    "PROTOCOL",
    "IngestSink",
    "ScrapeOutcome",
    "Scraper",
    "instance_of",
    "schedule_scrape_jobs",
]

PROTOCOL = "prometheus"
MAX_SCRAPE_BYTES = 64 * 1024 * 1024  # a larger exposition fails the scrape (up=0)
_log = logging.getLogger(__name__)


class IngestSink(Protocol):
    """Where scrapes go: ``radiator.ingest.IngestPipeline``. ``submit`` raises
    ``OverloadedError`` when it cannot take the batch (nothing of it was taken then)."""

    def builder(self) -> BatchBuilder: ...

    def submit(self, builder: BatchBuilder, protocol: str) -> IngestResult: ...


class _ScrapeFailedError(Exception):
    """The endpoint answered, but not with an exposition Radiator can take."""


@dataclass(frozen=True, slots=True)
class ScrapeOutcome:
    """What one scrape did: ``error`` is empty when ``up``; ``content_type`` is the
    format the target answered in."""

    up: bool
    duration_s: float
    samples: int
    accepted: int
    rejected: int
    error: str = ""
    content_type: str = ""


def instance_of(url: str) -> str:
    """The ``instance`` tag of a target: host and port of its URL (never credentials)."""
    return httpx.URL(url).netloc.decode("ascii")


class Scraper:
    """Scrapes one target and submits its samples; keeps the target's counter state."""

    def __init__(
        self,
        target: ScrapeTarget,
        ingest: IngestSink,
        *,
        max_bytes: int = MAX_SCRAPE_BYTES,
    ) -> None:
        self.target = target
        self.labels = {"job": target.job, "instance": instance_of(target.url), **target.labels}
        self._ingest = ingest
        self._max_bytes = max_bytes
        self._counters = CounterTracker()
        self._since_us: int | None = None
        self._ssl = ssl.create_default_context()
        self._was_up: bool | None = None

    @property
    def name(self) -> str:
        return f"scrape:{self.target.job}:{self.labels['instance']}"

    def run(self) -> None:
        """The job's work: one scrape."""
        self.scrape()

    def scrape(self) -> ScrapeOutcome:
        """Fetch, parse and submit one scrape; failures become ``up`` = 0, never raises for
        an unreachable, slow or broken target or a full ingest buffer."""
        started = time.perf_counter()
        builder = self._ingest.builder()
        scrape_us = builder.now_us
        counters = self._counters.batch()
        samples, error, content_type = 0, "", ""
        try:
            text, content_type = self._fetch(started + self.target.timeout)
            samples = decode_exposition(
                text,
                content_type,
                builder,
                counters,
                target=self.labels,
                scrape_us=scrape_us,
                since_us=self._since_us,
            )
        except (httpx.HTTPError, _ScrapeFailedError, ValueError, LookupError) as exc:
            error = _describe(exc)
            counters.rollback()
            builder = self._ingest.builder()  # nothing of a failed scrape is kept
        duration = time.perf_counter() - started
        up = not error
        scrape_health(
            builder, self.labels, up=up, duration_s=duration, samples=samples, scrape_us=scrape_us
        )
        try:
            result = self._ingest.submit(builder, PROTOCOL)
        except OverloadedError as exc:
            counters.rollback()  # the next scrape yields this scrape's increase again
            _log.warning("%s: dropped one scrape: %s", self.name, exc.message)
            return ScrapeOutcome(up, duration, samples, 0, 0, error or exc.message, content_type)
        if up:
            self._since_us = scrape_us
        self._note(up, error)
        return ScrapeOutcome(
            up, duration, samples, result.accepted, result.rejected, error, content_type
        )

    def _fetch(self, deadline: float) -> tuple[str, str]:
        """The body and Content-Type of one GET, within the scrape timeout overall."""
        timeout = self.target.timeout
        headers = {
            "Accept": ACCEPT,
            "User-Agent": f"Radiator/{__version__}",
            "X-Prometheus-Scrape-Timeout-Seconds": f"{timeout:g}",
        }
        with (
            httpx.Client(timeout=timeout, verify=self._ssl, follow_redirects=True) as client,
            client.stream("GET", self.target.url, headers=headers) as response,
        ):
            response.raise_for_status()
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self._max_bytes:
                    raise _ScrapeFailedError(f"the body exceeds {self._max_bytes} bytes")
                if time.perf_counter() > deadline:
                    raise _ScrapeFailedError(f"the scrape took longer than {timeout:g} s")
                chunks.append(chunk)
            text = b"".join(chunks).decode(response.encoding or "utf-8")
            return text, response.headers.get("content-type", "")

    def _note(self, up: bool, error: str) -> None:
        """Log when a target goes down or comes back, not on every failed scrape."""
        if up != self._was_up:
            if up:
                _log.info("%s is up", self.name)
            else:
                _log.warning("%s is down: %s", self.name, error)
        self._was_up = up


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code} from {exc.request.url}"
    if isinstance(exc, _ScrapeFailedError):
        return str(exc)
    if isinstance(exc, UnicodeDecodeError | LookupError):
        return f"the body cannot be decoded as text: {exc}"
    if isinstance(exc, ValueError):
        return f"the exposition does not parse: {exc}"
    return f"{type(exc).__name__}: {exc}"


def schedule_scrape_jobs(scheduler: Scheduler, runtime: Runtime) -> list[Scraper]:
    """One job per configured scrape target, each at its own interval."""
    scrapers = [Scraper(target, runtime.ingest) for target in runtime.settings.scrape_targets]
    for scraper in scrapers:
        scheduler.every(scraper.target.interval_seconds, scraper.name, scraper.run)
    return scrapers
