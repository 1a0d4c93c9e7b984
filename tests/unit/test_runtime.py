"""The runtime's pieces: micro-batching, windowed de-duplication, partitioning."""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import AsyncIterator

import pytest

from laminar.runtime.batching import MicroBatcher, arrival_array
from laminar.runtime.dedup import WindowDeduplicator
from laminar.runtime.partition import partition_indices, partition_of


async def feed(chunks: list[list[int]], delay: float = 0.0, fail: Exception | None = None):
    for chunk in chunks:
        if delay:
            await asyncio.sleep(delay)
        yield chunk
    if fail is not None:
        raise fail


async def collect(batcher: MicroBatcher) -> list[list[int]]:
    return [b.items async for b in batcher]


async def test_batches_fill_up_to_buffer_size_and_split_big_reads() -> None:
    batcher = MicroBatcher(feed([[1, 2, 3], [4, 5, 6, 7, 8], [9]]), buffer_size=4,
                           buffer_timeout_ms=1000)
    assert await collect(batcher) == [[1, 2, 3, 4], [5, 6, 7, 8], [9]]


async def test_timeout_flushes_a_partial_batch() -> None:
    release = asyncio.Event()

    async def slow() -> AsyncIterator[list[int]]:
        yield [1]
        await release.wait()  # no more events until the first batch is out
        yield [2]

    batcher = MicroBatcher(slow(), buffer_size=100, buffer_timeout_ms=50)
    it = batcher.__aiter__()
    first = await asyncio.wait_for(it.__anext__(), 30)  # only the timeout can end it
    assert first.items == [1]
    release.set()
    assert (await it.__anext__()).items == [2]
    with pytest.raises(StopAsyncIteration):
        await it.__anext__()


async def test_arrival_times_recorded_per_event_and_per_read() -> None:
    batcher = MicroBatcher(feed([[1, 2], [3]], delay=0.01), buffer_size=10, buffer_timeout_ms=500)
    [batch] = [b async for b in batcher]
    assert len(batch.arrival_ms) == 3
    assert abs(batch.arrival_ms[0] - time.time() * 1000) < 5000
    assert [count for _, count in batch.runs] == [2, 1]  # one run per network read
    assert arrival_array(batch.runs).to_pylist() == batch.arrival_ms


async def test_source_error_after_events_delivers_them_first() -> None:
    batcher = MicroBatcher(feed([[1, 2]], fail=RuntimeError("boom")), buffer_size=10,
                           buffer_timeout_ms=1000)
    it = batcher.__aiter__()
    assert (await it.__anext__()).items == [1, 2]
    with pytest.raises(RuntimeError, match="boom"):
        await it.__anext__()


async def test_read_ahead_is_bounded() -> None:
    produced = 0

    async def endless() -> AsyncIterator[list[int]]:
        nonlocal produced
        while True:
            produced += 1
            yield [produced]

    batcher = MicroBatcher(endless(), buffer_size=1, buffer_timeout_ms=10, read_ahead=4)
    it = batcher.__aiter__()
    await it.__anext__()
    await asyncio.sleep(0.05)  # a stalled consumer: the reader must stop, not race ahead
    assert produced <= 4 + 3
    await batcher.aclose()


def test_dedup_within_window() -> None:
    dedup = WindowDeduplicator(window_ms=1000)
    assert dedup.keep_mask(["a", "b", "a", None, None], [0, 1, 2, 3, 4]) == [
        True, True, False, True, True,
    ]
    assert dedup.keep_mask(["a"], [999]) == [False]
    assert dedup.keep_mask(["a"], [1000]) == [True]  # the window counts from the first sighting


def test_dedup_memory_is_bounded_by_the_window() -> None:
    dedup = WindowDeduplicator(window_ms=100)
    for t in range(10_000):
        dedup.keep_mask([f"k{t}"], [t])
    assert len(dedup) <= 101


def test_dedup_snapshot_restore() -> None:
    dedup = WindowDeduplicator(window_ms=1000)
    dedup.keep_mask(["a", "b"], [10, 20])
    again = WindowDeduplicator(window_ms=1000)
    again.restore(dedup.snapshot())
    assert again.keep_mask(["a", "c"], [30, 30]) == [False, True]


def test_partitions_are_stable_and_keep_order() -> None:
    keys = ["post", "like", "post", "comment", "like", "post"]
    groups = partition_indices(keys, 4)
    assert sorted(i for g in groups for i in g) == list(range(6))
    for group in groups:
        assert group == sorted(group)  # order kept within a partition
    # the same key lands in the same partition in every process (crc32, not salted hash())
    assert partition_of("post", 4) == zlib.crc32(b"post") % 4
    for index, key in enumerate(keys):
        assert index in groups[partition_of(key, 4)]
    assert partition_indices(keys, 1) == [list(range(6))]


def test_replay_detector_counts_replays_and_gaps_after_a_reconnect() -> None:
    from laminar.runtime.replay import ReplayDetector

    warnings: list[str] = []
    detector = ReplayDetector(warnings.append, memory=1000)
    detector.observe([str(i) for i in range(1, 11)])
    detector.reconnected()
    detector.observe(["4", "5", "6", "11", "12"])  # the server started over at 4
    assert detector.replayed == 3 and detector.gaps == 0
    detector.reconnected()
    detector.observe(["20", "21"])  # resumed after 12, continued at 20
    assert detector.gaps == 1 and detector.missing == 7
    assert len(warnings) == 2 and "replayed 3 event(s)" in warnings[0]


def test_replay_detector_memory_is_bounded() -> None:
    from laminar.runtime.replay import ReplayDetector

    detector = ReplayDetector(memory=100)
    for start in range(0, 10_000, 10):
        detector.observe([str(i) for i in range(start, start + 10)])
    assert 100 <= detector._remembered <= 110
    detector.reconnected()
    detector.observe(["5"])  # long forgotten: not a replay (and not a gap: it goes back)
    assert detector.replayed == 0


def test_dedup_snapshot_as_of_a_batch_leaves_later_keys_out() -> None:
    dedup = WindowDeduplicator(window_ms=1000)
    dedup.keep_mask(["a", "b"], [10, 10])
    mark = dedup.mark
    dedup.keep_mask(["c"], [10])  # a later batch, same millisecond
    assert dedup.snapshot(upto=mark) == [("a", 10), ("b", 10)]
    assert dedup.snapshot() == [("a", 10), ("b", 10), ("c", 10)]


async def test_eager_first_batch_goes_out_with_the_first_read() -> None:
    release = asyncio.Event()

    async def source() -> AsyncIterator[list[int]]:
        yield [1, 2]
        await release.wait()  # nothing more until the first batch is out
        yield [3]
        yield [4]

    batcher = MicroBatcher(source(), buffer_size=100, buffer_timeout_ms=60_000, eager_first=True)
    it = batcher.__aiter__()
    first = await asyncio.wait_for(it.__anext__(), 30)  # not held for the 60 s timeout
    assert first.items == [1, 2]
    release.set()
    assert (await it.__anext__()).items == [3, 4]  # later batches fill as before
