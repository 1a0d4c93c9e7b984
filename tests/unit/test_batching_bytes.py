"""The micro-batcher closes a batch at a byte cap, not only at an event count (item 8)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from laminar.runtime.batching import MicroBatcher


class Reads:
    """A source of network reads that keeps a running byte total, like EventSource."""

    def __init__(self, reads: list[list[str]]) -> None:
        self.reads = reads
        self.total = 0

    async def __aiter__(self) -> AsyncIterator[list[str]]:
        for read in self.reads:
            self.total += sum(map(len, read))
            yield read


async def test_a_batch_closes_at_the_byte_cap() -> None:
    big = ["x" * 1000] * 4  # 4 KB per read
    source = Reads([big] * 10)
    batcher: MicroBatcher[str] = MicroBatcher(
        source.__aiter__(),
        buffer_size=1_000_000,
        buffer_timeout_ms=60_000,
        max_bytes=10_000,
        byte_counter=lambda: source.total,
    )
    sizes = [len(batch.items) async for batch in batcher]
    assert sum(sizes) == 40
    assert max(sizes) * 1000 <= 10_000 + 4000  # at most one read beyond the cap
    assert len(sizes) >= 3


async def test_without_a_counter_only_the_event_count_matters() -> None:
    source = Reads([["x" * 1000] * 4] * 10)
    batcher: MicroBatcher[str] = MicroBatcher(
        source.__aiter__(), buffer_size=20, buffer_timeout_ms=60_000, max_bytes=10
    )
    assert [len(batch.items) async for batch in batcher] == [20, 20]
