"""A pipeline's live output for any number of SSE subscribers, without back-pressure.

``OutputTail.publish(rows)`` (JSON object texts) is called by the pipeline's
sink and never blocks: the batch becomes one numbered SSE event (``id`` = its
sequence number, ``data`` = a JSON array of the rows). The tail keeps the most
recent batches up to ``history_bytes`` so a reconnecting client resumes after
its ``Last-Event-ID``. Each subscriber has a queue bounded by ``client_bytes``:
a client that falls that far behind is cut off (its queue freed at once); an
EventSource then reconnects with Last-Event-ID and resumes from the history.
So a slow or dead browser costs the pipeline nothing but the bounded copy.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence

DEFAULT_HISTORY_BYTES = 1 << 20
DEFAULT_CLIENT_BYTES = 1 << 20
MAX_BATCH_BYTES = 256 * 1024  # larger batches are split into several events


class Subscription:
    """One client's queue: ``await next()`` returns (id, data), or None once closed."""

    def __init__(self, tail: OutputTail, limit_bytes: int) -> None:
        self._tail = tail
        self._limit = limit_bytes
        self._queue: deque[tuple[int, str]] = deque()
        self.queued_bytes = 0
        self.overflowed = False
        self.closed = False
        self._wake = asyncio.Event()

    def offer(self, item: tuple[int, str]) -> None:
        if self.closed:
            return
        if self.queued_bytes + len(item[1]) > self._limit:
            self.overflowed = True  # too slow: cut it off, it resumes with Last-Event-ID
            self.close()
            return
        self._queue.append(item)
        self.queued_bytes += len(item[1])
        self._wake.set()

    async def next_many(self, max_bytes: int) -> list[tuple[int, str]] | None:
        """Every queued batch (at least one, up to about ``max_bytes``); None once closed."""
        first = await self.next()
        if first is None:
            return None
        items, size = [first], len(first[1])
        while self._queue and size < max_bytes:
            item = self._queue.popleft()
            self.queued_bytes -= len(item[1])
            items.append(item)
            size += len(item[1])
        return items

    async def next(self) -> tuple[int, str] | None:
        while not self._queue:
            if self.closed:
                return None
            self._wake.clear()
            await self._wake.wait()
        item = self._queue.popleft()
        self.queued_bytes -= len(item[1])
        return item

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._queue.clear()
        self.queued_bytes = 0
        self._tail._forget(self)
        self._wake.set()


class OutputTail:
    """See the module docstring."""

    def __init__(
        self,
        history_bytes: int = DEFAULT_HISTORY_BYTES,
        client_bytes: int = DEFAULT_CLIENT_BYTES,
    ) -> None:
        self.history_bytes = history_bytes
        self.client_bytes = client_bytes
        self.last_id = 0
        self.rows_published = 0
        self._history: deque[tuple[int, str]] = deque()
        self._history_size = 0
        self._subscribers: set[Subscription] = set()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, rows: Sequence[str]) -> None:
        """Append a batch of JSON row texts (split into events of bounded size)."""
        start = 0
        while start < len(rows):
            size, end = 2, start
            while end < len(rows) and (end == start or size + len(rows[end]) < MAX_BATCH_BYTES):
                size += len(rows[end]) + 1
                end += 1
            self._append("[" + ",".join(rows[start:end]) + "]")
            self.rows_published += end - start
            start = end

    def _append(self, data: str) -> None:
        self.last_id += 1
        item = (self.last_id, data)
        self._history.append(item)
        self._history_size += len(data)
        while self._history_size > self.history_bytes and len(self._history) > 1:
            _, dropped = self._history.popleft()
            self._history_size -= len(dropped)
        for subscriber in list(self._subscribers):
            subscriber.offer(item)

    def subscribe(self, after: int | None = None) -> Subscription:
        """A new queue; with ``after``, first the kept batches numbered after it."""
        subscription = Subscription(self, self.client_bytes)
        if after is not None:
            for item in self._history:
                if item[0] > after:
                    subscription.offer(item)
        if not subscription.closed:
            self._subscribers.add(subscription)
        return subscription

    def close(self) -> None:
        """End every subscription (the pipeline was deleted)."""
        for subscriber in list(self._subscribers):
            subscriber.close()

    def _forget(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)
