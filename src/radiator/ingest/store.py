"""What the ingest pipeline needs from persistence besides the telemetry store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

__all__ = ["WriteAheadLog"]


class WriteAheadLog(Protocol):
    """An ordered, durable log of opaque records.

    - ``append`` returns the record's sequence number: 1 for the first record ever, then one
      more each time, continuing across restarts. When it returns, the record is in the
      operating system (it survives the process being killed); it is also on disk when the
      sync policy is ``always``, or after the next ``sync`` otherwise.
    - ``replay(after)`` yields ``(seq, payload)`` for every record with ``seq > after``, in
      order, and stops quietly at a torn record at the end (an append cut short by a crash).
    - ``truncate(upto)`` allows deleting records with ``seq <= upto``; it may keep some.
    - ``close`` syncs and releases the files. The log is single-process.
    """

    def append(self, payload: bytes) -> int: ...

    def sync(self) -> None: ...

    def replay(self, after: int) -> Iterator[tuple[int, bytes]]: ...

    def truncate(self, upto: int) -> None: ...

    def size_bytes(self) -> int: ...

    def close(self) -> None: ...
