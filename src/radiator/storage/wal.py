"""A segmented, checksummed write-ahead log on local files.

Layout: one directory of segment files named by the sequence number of their first record
(``00000000000000000001.wal``). A record is a 16-byte header — sequence number (u64), payload
length (u32), CRC-32 of the payload (u32), little-endian — followed by the payload. A record
is written with a single ``write`` on an ``O_APPEND`` descriptor, so a killed process leaves
at worst one torn record at the very end, which ``open`` cuts off.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

from radiator.errors import StorageError

__all__ = ["FileWriteAheadLog", "SyncPolicy"]

SyncPolicy = Literal["always", "interval", "never"]
_HEADER = struct.Struct("<QII")
_SUFFIX = ".wal"
_log = logging.getLogger(__name__)


def _segment_name(first_seq: int) -> str:
    return f"{first_seq:020d}{_SUFFIX}"


def _read_records(path: Path) -> Iterator[tuple[int, bytes, int]]:
    """Yield ``(seq, payload, end_offset)`` of each intact record; stop at the first bad one."""
    with path.open("rb") as handle:
        offset = 0
        while True:
            header = handle.read(_HEADER.size)
            if len(header) < _HEADER.size:
                return
            seq, length, crc = _HEADER.unpack(header)
            payload = handle.read(length)
            if len(payload) < length or zlib.crc32(payload) != crc:
                return
            offset += _HEADER.size + length
            yield seq, payload, offset


class FileWriteAheadLog:
    """``WriteAheadLog`` in a directory of segment files; thread-safe, single-process."""

    def __init__(
        self,
        directory: Path,
        *,
        sync: SyncPolicy = "interval",
        segment_bytes: int = 64 << 20,
        start_after: int = 0,
    ) -> None:
        """Open (or create) the log in ``directory``.

        ``start_after`` is the highest sequence number already stored downstream (the
        telemetry store's checkpoint): new records are numbered above it even if the log's
        files were lost, so replay never mistakes a new record for an old one.
        """
        self.directory = directory
        self.policy = sync
        self.segment_bytes = segment_bytes
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)
        self._segments = sorted(directory.glob(f"*{_SUFFIX}"))
        self._next_seq = 1
        self._handle: BinaryIO | None = None
        self._active_size = 0
        self._dirty = False
        if self._segments:
            self._recover_tail(self._segments[-1])
        if self._handle is None or self._next_seq <= start_after:
            self._next_seq = max(self._next_seq, start_after + 1)
            self._open_segment(self._next_seq)

    # -- opening -------------------------------------------------------------------------

    def _recover_tail(self, last: Path) -> None:
        good_end = 0
        last_seq = int(last.stem) - 1
        for seq, _payload, end in _read_records(last):
            last_seq, good_end = seq, end
        if good_end < last.stat().st_size:
            _log.warning("write-ahead log %s: cutting a torn record at byte %d", last, good_end)
            with last.open("r+b") as handle:
                handle.truncate(good_end)
        self._next_seq = last_seq + 1
        self._handle = last.open("ab", buffering=0)
        self._active_size = good_end

    def _open_segment(self, first_seq: int) -> None:
        if self._handle is not None:
            self._flush_to_disk()
            self._handle.close()
        path = self.directory / _segment_name(first_seq)
        self._handle = path.open("ab", buffering=0)
        if path not in self._segments:
            self._segments.append(path)
        self._active_size = 0
        self._fsync_directory()

    def _fsync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- the log ---------------------------------------------------------------------------

    def append(self, payload: bytes) -> int:
        with self._lock:
            if self._handle is None:
                raise StorageError("the write-ahead log is closed")
            if self._active_size >= self.segment_bytes:
                self._open_segment(self._next_seq)
            seq = self._next_seq
            record = _HEADER.pack(seq, len(payload), zlib.crc32(payload)) + payload
            try:
                self._handle.write(record)
                if self.policy == "always":
                    os.fsync(self._handle.fileno())
            except OSError as exc:
                raise StorageError(f"cannot write the write-ahead log: {exc}") from exc
            self._next_seq += 1
            self._active_size += len(record)
            self._dirty = True
            return seq

    def sync(self) -> None:
        with self._lock:
            self._flush_to_disk()

    def _flush_to_disk(self) -> None:
        if self._handle is not None and self._dirty and self.policy != "never":
            os.fsync(self._handle.fileno())
        self._dirty = False

    def replay(self, after: int) -> Iterator[tuple[int, bytes]]:
        with self._lock:
            segments = list(self._segments)
        for path in segments:
            if not path.exists():
                continue
            for seq, payload, _end in _read_records(path):
                if seq > after:
                    yield seq, payload

    def truncate(self, upto: int) -> None:
        """Delete whole segments whose records all have ``seq <= upto`` (never the active one)."""
        with self._lock:
            keep_from = 0
            for i in range(len(self._segments) - 1):
                next_first = int(self._segments[i + 1].stem)
                if next_first - 1 <= upto:
                    keep_from = i + 1
            for path in self._segments[:keep_from]:
                path.unlink(missing_ok=True)
            self._segments = self._segments[keep_from:]

    def size_bytes(self) -> int:
        with self._lock:
            return sum(p.stat().st_size for p in self._segments if p.exists())

    @property
    def next_seq(self) -> int:
        return self._next_seq

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._flush_to_disk()
                self._handle.close()
                self._handle = None
