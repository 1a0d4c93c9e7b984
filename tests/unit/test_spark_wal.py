"""The Spark source's write-ahead log: positions, torn tails, fencing, commit."""

from __future__ import annotations

import os

import pytest

from laminar.spark.wal import Fenced, Position, WalError, WalWriter, list_segments, read_range
from laminar.sse.event import SSEEvent


def events(first: int, last: int) -> list[SSEEvent]:
    return [SSEEvent("message", f'{{"n": {n}}}', str(n)) for n in range(first, last + 1)]


def ids(directory: str, start: int, end: int) -> list[str]:
    return [e.id for chunk, _ in read_range(directory, start, end) for e in chunk]


def test_append_read_and_positions(tmp_path):
    wal = WalWriter(str(tmp_path), segment_bytes=100)
    wal.append(events(1, 3), 1000)
    wal.append(events(4, 10), 2000)
    assert wal.sync() == Position(10, "10")
    assert ids(str(tmp_path), 0, 10) == [str(n) for n in range(1, 11)]
    assert ids(str(tmp_path), 2, 5) == ["3", "4", "5"]  # a slice across frames
    chunks = list(read_range(str(tmp_path), 2, 5))
    assert [a for _, arrival in chunks for a in arrival] == [1000, 2000, 2000]
    assert wal.position_at_most(0, 4) == Position(3, "3")  # frames are never split
    assert wal.position_at_most(0, 1) == Position(3, "3")  # but one frame at least
    assert len(list_segments(str(tmp_path))) == 2  # rotated past 100 bytes
    wal.close()


def test_reopen_cuts_a_torn_frame_and_resumes(tmp_path):
    wal = WalWriter(str(tmp_path))
    wal.append(events(1, 5), 1)
    wal.close()
    (segment,) = list_segments(str(tmp_path))
    path = os.path.join(tmp_path, f"{segment:020d}.seg")
    with open(path, "ab") as handle:
        handle.write(b"LMW1\x00\x01garbage")  # a kill in the middle of a write
    again = WalWriter(str(tmp_path))
    assert again.end == Position(5, "5")
    again.append(events(6, 7), 2)
    assert ids(str(tmp_path), 0, 7) == [str(n) for n in range(1, 8)]
    again.close()


def test_reopen_cuts_a_frame_whose_payload_fails_its_crc(tmp_path):
    wal = WalWriter(str(tmp_path))
    wal.append(events(1, 5), 1)
    wal.append(events(6, 8), 2)
    wal.close()
    (segment,) = list_segments(str(tmp_path))
    path = os.path.join(tmp_path, f"{segment:020d}.seg")
    with open(path, "r+b") as handle:  # the last frame's header survived, its bytes did not
        handle.seek(-4, os.SEEK_END)
        handle.write(b"\x00\x00\x00\x00")
    again = WalWriter(str(tmp_path))
    assert again.end == Position(5, "5")
    again.append(events(6, 7), 3)
    assert ids(str(tmp_path), 0, 7) == [str(n) for n in range(1, 8)]
    again.close()


def test_a_newer_writer_fences_the_old_one(tmp_path):
    old = WalWriter(str(tmp_path))
    old.append(events(1, 2), 1)
    new = WalWriter(str(tmp_path))
    with pytest.raises(Fenced):
        old.append(events(3, 4), 1)  # a straggler of a killed run never appends
    new.append(events(3, 4), 1)
    assert ids(str(tmp_path), 0, 4) == ["1", "2", "3", "4"]
    old.close()
    new.close()


def test_commit_deletes_committed_segments(tmp_path):
    wal = WalWriter(str(tmp_path), segment_bytes=100)
    for first in range(1, 40, 3):
        wal.append(events(first, first + 2), 1)
    before = list_segments(str(tmp_path))
    wal.commit(Position(30, "30"))
    after = list_segments(str(tmp_path))
    assert len(after) < len(before)
    assert ids(str(tmp_path), 30, 39) == [str(n) for n in range(31, 40)]
    with pytest.raises(WalError, match="lacks events"):
        ids(str(tmp_path), 0, 39)
    wal.commit(Position(39, "39"))
    assert list_segments(str(tmp_path)) == []
    wal.close()
    reopened = WalWriter(str(tmp_path))
    assert reopened.end == Position(39, "39")  # from COMMITTED
    reopened.close()


def test_reset_starts_anew_at_sparks_offset(tmp_path):
    wal = WalWriter(str(tmp_path))
    assert not wal.holds(Position(50, "50"))
    wal.reset(Position(50, "50"))
    wal.append(events(51, 52), 1)
    assert wal.end == Position(52, "52")
    assert ids(str(tmp_path), 50, 52) == ["51", "52"]
    wal.close()
