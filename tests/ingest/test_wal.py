"""The file write-ahead log: ordering, torn tails, truncation and restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from radiator.storage.wal import FileWriteAheadLog


def test_records_replay_in_order_with_their_sequence_numbers(tmp_path: Path) -> None:
    wal = FileWriteAheadLog(tmp_path)
    seqs = [wal.append(f"record {i}".encode()) for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert list(wal.replay(after=2)) == [(3, b"record 2"), (4, b"record 3"), (5, b"record 4")]
    wal.close()


def test_numbering_continues_after_a_restart(tmp_path: Path) -> None:
    wal = FileWriteAheadLog(tmp_path)
    wal.append(b"a")
    wal.append(b"b")
    wal.close()
    reopened = FileWriteAheadLog(tmp_path)
    assert reopened.append(b"c") == 3
    assert [seq for seq, _ in reopened.replay(0)] == [1, 2, 3]
    reopened.close()


def test_a_torn_record_at_the_end_is_cut_off(tmp_path: Path) -> None:
    wal = FileWriteAheadLog(tmp_path)
    wal.append(b"complete")
    wal.append(b"also complete")
    wal.close()
    (segment,) = tmp_path.glob("*.wal")
    data = segment.read_bytes()
    segment.write_bytes(data[:-5])  # the process died in the middle of the last write

    reopened = FileWriteAheadLog(tmp_path)
    assert list(reopened.replay(0)) == [(1, b"complete")]
    assert reopened.append(b"next") == 2
    assert list(reopened.replay(0)) == [(1, b"complete"), (2, b"next")]
    reopened.close()


def test_a_corrupted_record_stops_replay_instead_of_returning_garbage(tmp_path: Path) -> None:
    wal = FileWriteAheadLog(tmp_path)
    wal.append(b"good")
    wal.append(b"will be corrupted")
    wal.close()
    (segment,) = tmp_path.glob("*.wal")
    data = bytearray(segment.read_bytes())
    data[-3] ^= 0xFF
    segment.write_bytes(bytes(data))
    reopened = FileWriteAheadLog(tmp_path)
    assert list(reopened.replay(0)) == [(1, b"good")]
    reopened.close()


def test_truncate_deletes_only_segments_fully_below_the_checkpoint(tmp_path: Path) -> None:
    wal = FileWriteAheadLog(tmp_path, segment_bytes=1024 * 1024)
    wal.segment_bytes = 100  # tiny segments for the test: one record each
    for i in range(5):
        wal.append(bytes(120) + bytes([i]))
    assert len(list(tmp_path.glob("*.wal"))) == 5
    wal.truncate(upto=3)
    remaining = sorted(p.name for p in tmp_path.glob("*.wal"))
    assert remaining == [f"{n:020d}.wal" for n in (4, 5)]
    assert [seq for seq, _ in wal.replay(0)] == [4, 5]
    wal.close()


def test_numbering_starts_above_the_store_checkpoint_when_the_log_was_lost(
    tmp_path: Path,
) -> None:
    wal = FileWriteAheadLog(tmp_path, start_after=41)
    assert wal.append(b"x") == 42
    wal.close()


@pytest.mark.parametrize("policy", ["always", "interval", "never"])
def test_every_sync_policy_keeps_records_readable(tmp_path: Path, policy: str) -> None:
    wal = FileWriteAheadLog(tmp_path, sync=policy)  # type: ignore[arg-type]
    wal.append(b"x")
    wal.sync()
    assert wal.size_bytes() > 0
    wal.close()
    reopened = FileWriteAheadLog(tmp_path)
    assert list(reopened.replay(0)) == [(1, b"x")]
    reopened.close()
