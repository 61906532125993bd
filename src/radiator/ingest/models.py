"""What an ingest call reports back: how much was accepted, what was rejected and why."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["MAX_REPORTED_ERRORS", "IngestResult", "Rejection"]

MAX_REPORTED_ERRORS = 100


@dataclass(frozen=True, slots=True)
class Rejection:
    """One item refused: ``index`` is the item's position (0-based) in its list, or the
    1-based line number for line protocols."""

    signal: str
    index: int
    reason: str


@dataclass(slots=True)
class IngestResult:
    accepted: int = 0
    rejected: int = 0
    errors: list[Rejection] = field(default_factory=list)

    def reject(self, signal: str, index: int, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(Rejection(signal, index, reason))

    def merge(self, other: IngestResult) -> None:
        self.accepted += other.accepted
        for error in other.errors:
            if len(self.errors) < MAX_REPORTED_ERRORS:
                self.errors.append(error)
        self.rejected += other.rejected
