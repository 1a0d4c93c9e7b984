"""Micro-batches: event lists from a source, grouped up to buffer_size / buffer_timeout_ms.

A reader task pulls the source's network reads into a small bounded queue, so
the socket is read while the previous batch is processed, yet a slow consumer
stops the reads (back-pressure) instead of growing a queue. A batch is emitted
when it holds ``buffer_size`` events or ``max_bytes`` bytes of them (so memory is
bounded by bytes whatever the events' size), or ``buffer_timeout_ms`` after its
first event arrived, or when the source ends. With ``eager_first``, the first batch
goes out with the first network read: a query's first rows are not held back by the
timeout (the time to a first row is what a user waits on at start-up).

Bytes are measured by ``byte_counter``, a running total the source keeps (for
SSE: the decoded bytes fed to the decoder), read once per network read: no
per-event cost. Every queue entry is one network read, itself bounded in bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

import pyarrow as pa

from laminar import arrow_compute as pc

T = TypeVar("T")

# Network reads in flight between the socket and the batcher (each <= ~256 KiB).
READ_AHEAD = 16


@dataclass(slots=True)
class Batch(Generic[T]):
    """Events of one micro-batch, with the arrival time (epoch ms) of each.

    ``runs`` holds the same times run-length encoded — one ``(ms, events)`` per
    network read — for consumers that work per read or on whole arrays.
    """

    items: list[T]
    arrival_ms: list[int]
    runs: list[tuple[int, int]] = field(default_factory=list)


def arrival_array(runs: list[tuple[int, int]]) -> pa.Array:
    """Per-event arrival times (int64 epoch ms) from their runs, expanded in C."""
    ends = list(itertools.accumulate(count for _, count in runs))
    encoded = pa.RunEndEncodedArray.from_arrays(
        pa.array(ends, pa.int32()), pa.array([ms for ms, _ in runs], pa.int64())
    )
    return pc.run_end_decode(encoded)


_END = object()


class MicroBatcher(Generic[T]):
    """Groups the lists yielded by ``source`` into batches (see the module docstring)."""

    def __init__(
        self,
        source: AsyncIterator[list[T]],
        *,
        buffer_size: int,
        buffer_timeout_ms: int,
        read_ahead: int = READ_AHEAD,
        eager_first: bool = False,
        max_bytes: int | None = None,
        byte_counter: Callable[[], int] | None = None,
    ) -> None:
        if buffer_size < 1:
            raise ValueError("buffer_size must be at least 1")
        self._source = source
        self._size = buffer_size
        self._max_bytes = max_bytes if byte_counter is not None else None
        self._bytes_now = byte_counter
        self._timeout = buffer_timeout_ms / 1000
        self._queue: asyncio.Queue[tuple[list[T], int, int] | object] = asyncio.Queue(read_ahead)
        self._reader: asyncio.Task[None] | None = None
        self._carry: tuple[list[T], int, int] | None = None
        self._ended = False
        self._error: BaseException | None = None
        self._first = eager_first  # the next batch goes out without waiting

    async def _read(self) -> None:
        counter = self._bytes_now
        seen = counter() if counter is not None else 0
        try:
            async for items in self._source:
                if items:
                    size = 0
                    if counter is not None:
                        total = counter()
                        size, seen = total - seen, total
                    await self._queue.put((items, int(time.time() * 1000), size))
        except asyncio.CancelledError:
            raise  # the consumer is closing us: nobody is left to tell
        except Exception as exc:  # handed to the consumer, which re-raises it
            await self._queue.put(exc)
            return
        await self._queue.put(_END)

    def __aiter__(self) -> AsyncIterator[Batch[T]]:
        return self._batches()

    async def _batches(self) -> AsyncIterator[Batch[T]]:
        self._reader = asyncio.create_task(self._read(), name="laminar-source-reader")
        try:
            while True:
                if self._error is not None:
                    raise self._error
                if self._ended and self._carry is None:
                    return
                batch = await self._next_batch()
                if batch.items:
                    yield batch
        finally:
            await self.aclose()

    async def _next_batch(self) -> Batch[T]:
        items: list[T] = []
        arrival: list[int] = []
        runs: list[tuple[int, int]] = []
        deadline: float | None = None
        loop = asyncio.get_running_loop()
        max_bytes = self._max_bytes
        nbytes = 0
        while len(items) < self._size and (max_bytes is None or nbytes < max_bytes):
            if self._carry is not None:
                got: object = self._carry
                self._carry = None
            elif self._ended:
                break
            elif deadline is None:
                got = await self._queue.get()
            else:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
                # cancellation that races with the get, hanging shutdown.
                try:
                    async with asyncio.timeout(remaining):
                        got = await self._queue.get()
                except TimeoutError:
                    break
            if got is _END:
                self._ended = True
                break
            if isinstance(got, BaseException):
                self._ended = True
                if items:  # deliver what arrived before the failure first
                    self._error = got
                    break
                raise got
            chunk, ms, size = cast("tuple[list[T], int, int]", got)
            room = self._size - len(items)
            if len(chunk) > room:
                part = size * room // len(chunk)
                self._carry = (chunk[room:], ms, size - part)
                chunk, size = chunk[:room], part
            nbytes += size
            items.extend(chunk)
            arrival.extend([ms] * len(chunk))
            runs.append((ms, len(chunk)))
            if deadline is None:
                deadline = loop.time() + (0.0 if self._first else self._timeout)
        self._first = False
        return Batch(items, arrival, runs)

    @property
    def occupancy(self) -> float:
        """How full the read-ahead queue is, 0..1 (near 1: the consumer is the bottleneck)."""
        return min(self._queue.qsize() / self._queue.maxsize, 1.0)

    async def aclose(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
