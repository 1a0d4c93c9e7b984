"""A per-endpoint write-ahead log of raw SSE events, in segment files.

Layout of one endpoint's directory::

    LOCK          flock()ed around every write (and by a new writer taking over)
    GENERATION    the generation of the current writer (fencing, see below)
    COMMITTED     {"seq": n, "id": "..."}: what Spark has committed (atomic rename)
    <first seq>.seg  frames, appended; a frame never spans two segments

A frame is a 32-byte header (magic, first seq, arrival ms, event count, payload
length, CRC-32 of the payload) and a msgpack list of SSEEvents. Events are
numbered from 0 without gaps: ``seq`` is an event's position in the stream, and
an offset (seq, id) says "every event before seq; the SSE id to resume after them".

Exactly one writer. A writer bumps GENERATION under the lock when it opens, and
checks it under the same lock before each append; a writer from a killed run
(pyspark's Python workers can outlive the JVM) therefore never appends once a
new one has opened. Opening also truncates a torn last frame (a kill mid-write):
only whole frames are ever reported to Spark, after an fsync.
"""

from __future__ import annotations

import fcntl
import json
import os
import struct
import threading
import zlib
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import msgspec

from laminar.errors import LaminarError
from laminar.sse.event import SSEEvent

MAGIC = b"LMW1"
HEADER = struct.Struct("<4sQQIII")  # magic, first seq, arrival ms, count, length, crc32
SEGMENT_BYTES = 8 << 20
_SUFFIX = ".seg"
_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(list[SSEEvent])


class WalError(LaminarError):
    """The write-ahead log is missing events Spark asks for, or is unusable."""


class Fenced(WalError):
    """A newer writer has taken over this log; this one must stop."""


@dataclass(frozen=True, slots=True)
class Position:
    """Every event before ``seq`` is in the log; ``id`` is the SSE id to resume after them."""

    seq: int
    id: str

    def as_dict(self) -> dict[str, object]:
        return {"seq": self.seq, "id": self.id}

    @classmethod
    def from_dict(cls, value: dict) -> Position:
        return cls(int(value["seq"]), str(value.get("id") or ""))


def segment_name(first_seq: int) -> str:
    return f"{first_seq:020d}{_SUFFIX}"


def list_segments(directory: str) -> list[int]:
    """First seqs of the directory's segments, in order ([] when it does not exist)."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(int(n[: -len(_SUFFIX)]) for n in names if n.endswith(_SUFFIX))


def _frames(path: str) -> Iterator[tuple[int, int, int, int, int, int]]:
    """(offset, first seq, arrival ms, count, length, crc) of each whole frame of a segment."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        offset = 0
        while offset + HEADER.size <= size:
            handle.seek(offset)
            magic, first, arrival, count, length, crc = HEADER.unpack(handle.read(HEADER.size))
            if magic != MAGIC or offset + HEADER.size + length > size:
                return
            yield offset, first, arrival, count, length, crc
            offset += HEADER.size + length


def _checked_last_id(path: str, offset: int, length: int, crc: int) -> str | None:
    """The last event id of a frame, or None when its payload fails its CRC."""
    with open(path, "rb") as handle:
        handle.seek(offset + HEADER.size)
        payload = handle.read(length)
    if zlib.crc32(payload) != crc:
        return None
    events = _DECODER.decode(payload)
    return events[-1].id if events else ""


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.tmp.{os.getpid()}.{threading.get_ident()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_directory(os.path.dirname(path))


def _fsync_directory(directory: str) -> None:
    """Make a file created or renamed in ``directory`` survive a power loss."""
    fd = os.open(directory or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class WalWriter:
    """The single writer of one endpoint's log (see the module docstring). Thread-safe."""

    def __init__(self, directory: str, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        os.makedirs(directory, exist_ok=True)
        self._mutex = threading.Lock()
        self._lock_fd = os.open(os.path.join(directory, "LOCK"), os.O_RDWR | os.O_CREAT, 0o644)
        self._fd: int | None = None
        self._segment_first = 0
        self._segment_size = 0
        self._ends: list[int] = []  # end seq of each frame not yet committed
        self._ids: list[str] = []  # the id after each of those frames
        with self._locked():
            self.generation = self._read_generation() + 1
            _write_atomic(self._path("GENERATION"), str(self.generation))
            self.committed = self._read_committed()
            self._recover()

    # -- state on disk -------------------------------------------------------------------

    def _path(self, name: str) -> str:
        return os.path.join(self.directory, name)

    def _read_generation(self) -> int:
        try:
            with open(self._path("GENERATION"), encoding="utf-8") as handle:
                return int(handle.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _read_committed(self) -> Position | None:
        try:
            with open(self._path("COMMITTED"), encoding="utf-8") as handle:
                return Position.from_dict(json.load(handle))
        except (FileNotFoundError, ValueError, KeyError):
            return None

    def _recover(self) -> None:
        """Index the whole frames of every segment; cut a torn tail; open the last segment."""
        segments = list_segments(self.directory)
        self.fresh = self.committed is None and not segments  # never written, or lost
        base = self.committed or Position(0, "")
        self.start = base  # the first event the log holds (before any append)
        self.end = base
        for first in segments:
            path = self._path(segment_name(first))
            good = 0
            for offset, first_seq, _arrival, count, length, crc in _frames(path):
                last_id = _checked_last_id(path, offset, length, crc)
                if last_id is None and first == segments[-1]:
                    break  # a whole header over a torn payload (a power loss): drop it
                good = offset + HEADER.size + length
                if not self._ends:
                    self.start = Position(first_seq, base.id if first_seq == base.seq else "")
                self._ends.append(first_seq + count)
                self._ids.append(last_id or "")
            if first == segments[-1]:
                with open(path, "r+b") as handle:
                    handle.truncate(good)  # a frame torn by a kill: never reported, drop it
                self._segment_first, self._segment_size = first, good
        if self._ends:
            self.end = Position(self._ends[-1], self._ids[-1])
        if segments:
            self._fd = os.open(self._path(segment_name(segments[-1])), os.O_WRONLY | os.O_APPEND)

    def _locked(self) -> _FileLock:
        return _FileLock(self._lock_fd)

    # -- writing ------------------------------------------------------------------------------

    def reset(self, position: Position) -> None:
        """Drop the log and start it anew at ``position``: Spark's offset, when the log
        does not hold it (the log was lost, or belongs to another checkpoint). Ingest
        then resumes from the server after ``position.id``."""
        with self._mutex, self._locked():
            if self._read_generation() != self.generation:
                raise Fenced(f"WAL {self.directory} was taken over by a newer reader")
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            for first in list_segments(self.directory):
                os.unlink(self._path(segment_name(first)))
            self._ends.clear()
            self._ids.clear()
            self.start = self.end = position

    def holds(self, position: Position) -> bool:
        """Whether the log can serve events from ``position`` on."""
        with self._mutex:
            return self.start.seq <= position.seq <= self.end.seq

    def append(self, events: Sequence[SSEEvent], arrival_ms: int) -> Position:
        """Append one frame; raises Fenced when a newer writer has opened the log."""
        if not events:
            return self.end
        payload = _ENCODER.encode(list(events))
        with self._mutex, self._locked():
            if self._read_generation() != self.generation:
                raise Fenced(f"WAL {self.directory} was taken over by a newer reader")
            first = self.end.seq
            if self._fd is None or self._segment_size >= self.segment_bytes:
                self._rotate(first)
            header = HEADER.pack(
                MAGIC, first, arrival_ms, len(events), len(payload), zlib.crc32(payload)
            )
            assert self._fd is not None
            frame = header + payload
            try:
                written = os.write(self._fd, frame)
                if written != len(frame):
                    raise OSError(f"short write ({written} of {len(frame)} bytes)")
            except OSError:
                # (disk full): cut the torn frame off, so the log ends on a whole frame
                os.ftruncate(self._fd, self._segment_size)
                raise
            self._segment_size += len(frame)
            last_id = events[-1].id
            self._ends.append(first + len(events))
            self._ids.append(last_id)
            self.end = Position(first + len(events), last_id)
            return self.end

    def _rotate(self, first: int) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
        path = self._path(segment_name(first))
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        _fsync_directory(self.directory)  # an offset Spark gets may point into this file
        self._segment_first, self._segment_size = first, 0

    def sync(self) -> Position:
        """Flush the log to disk and return its end: what may be reported to Spark."""
        with self._mutex:
            if self._fd is not None:
                os.fsync(self._fd)
            return self.end

    def position_at_most(self, start: int, max_events: int) -> Position:
        """The furthest frame boundary at most ``max_events`` after ``start`` (at least one
        frame when there is one: frames are never split)."""
        with self._mutex:
            i = bisect_right(self._ends, start)  # first frame ending after start
            if i >= len(self._ends):
                return self.end
            j = bisect_right(self._ends, start + max_events) - 1
            j = max(j, i)
            return Position(self._ends[j], self._ids[j])

    def commit(self, position: Position) -> None:
        """Spark has committed every event before ``position.seq``: forget them."""
        with self._mutex, self._locked():
            if self._read_generation() != self.generation:
                return  # a newer writer owns the log now
            _write_atomic(self._path("COMMITTED"), json.dumps(position.as_dict()))
            self.committed = position
            cut = bisect_right(self._ends, position.seq)
            del self._ends[:cut], self._ids[:cut]
            if self._fd is not None and position.seq >= self.end.seq:
                os.close(self._fd)  # the current segment is all committed: the next starts anew
                self._fd = None
            segments = list_segments(self.directory)
            for i, first in enumerate(segments):
                if i + 1 < len(segments):
                    done = segments[i + 1] <= position.seq
                else:  # the last segment: the open one, unless it was closed just above
                    done = self._fd is None and position.seq >= self.end.seq
                if done:
                    os.unlink(self._path(segment_name(first)))
            self.start = max(self.start, position, key=lambda p: p.seq)

    def close(self) -> None:
        with self._mutex:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._lock_fd >= 0:
                os.close(self._lock_fd)
                self._lock_fd = -1


class _FileLock:
    __slots__ = ("_fd",)

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def __enter__(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)


def read_range(
    directory: str, start: int, end: int, chunk_events: int = 16384
) -> Iterator[tuple[list[SSEEvent], list[int]]]:
    """The events [start, end) of a log and their arrival times (epoch ms), in chunks."""
    segments = list_segments(directory)
    if start >= end:
        return
    begin = max(0, bisect_right(segments, start) - 1)
    events: list[SSEEvent] = []
    arrival: list[int] = []
    seq = start
    for first in segments[begin:]:
        if first >= end:
            break
        path = os.path.join(directory, segment_name(first))
        with open(path, "rb") as handle:
            for offset, first_seq, arrival_ms, count, length, crc in _frames(path):
                if first_seq + count <= seq:
                    continue
                if first_seq >= end:
                    break
                if first_seq > seq:
                    break  # a gap: reported below
                handle.seek(offset + HEADER.size)
                payload = handle.read(length)
                if zlib.crc32(payload) != crc:
                    raise WalError(f"WAL {path}: frame at byte {offset} is corrupt")
                frame = _DECODER.decode(payload)
                take = frame[seq - first_seq : end - first_seq]
                events.extend(take)
                arrival.extend([arrival_ms] * len(take))
                seq += len(take)
                if len(events) >= chunk_events:
                    yield events, arrival
                    events, arrival = [], []
                if seq >= end:
                    break
        if seq >= end:
            break
    if seq < end:
        raise WalError(
            f"WAL {directory} lacks events {seq}..{end - 1} that Spark asks for: it was deleted "
            "or is not visible here (in a cluster, wal_path must be on storage every executor "
            "can read)"
        )
    if events:
        yield events, arrival


__all__ = ["Fenced", "Position", "WalError", "WalWriter", "list_segments", "read_range"]
