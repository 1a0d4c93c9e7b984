"""The commit protocol: a pipeline's rows go to its sink, then its position to the state store.

``run_pipeline(batches, sink, committer)`` drives one pipeline. ``batches``
yields ``(rows, last_event_id)`` for every micro-batch in order — rows may be
empty (all filtered out) — where ``last_event_id`` is the id of the last
event the batch covers. For each batch:

1. the rows are handed to the sink (``write``; shielded from cancellation so
   a shutdown never tears a write in half);
2. the batch's id becomes *pending*;
3. ``sink.flush()``; when it answers True (everything written is durable),
   the pending id is committed with the dedup state in one SQLite
   transaction (``Committer.commit``).

So a committed id never runs ahead of the rows in the sink: after ``kill -9``
the source resumes from it and at most the uncommitted tail is sent again. A
ticker flushes and commits every ``tick_s`` so a buffering sink (a file not
yet rolled) commits on time while the stream is idle. On the way out — end of
stream, error or cancellation (SIGINT/SIGTERM) — reading stops first, then
``sink.close()`` makes everything written durable and the last id is
committed; cleanup has its own deadline (``shutdown_timeout_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Any

from laminar.runtime.state import StateStore
from laminar.sinks.base import Sink

logger = logging.getLogger("laminar.runtime")

DEFAULT_TICK_S = 1.0
SHUTDOWN_TIMEOUT_S = 10.0


class Committer:
    """Commits one pipeline's position; a no-op without a store (persist_event_id off)."""

    def __init__(
        self,
        store: StateStore | None,
        pipeline: str,
        source_table: str,
        dedup_snapshot: Callable[[int | None], list[tuple[Hashable, int]]] | None = None,
        dedup_mark: Callable[[], int] | None = None,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.source_table = source_table
        self._snapshot = dedup_snapshot
        # Marks the dedup state of the batch being handed, so that the commit saves the
        # state *of the pending id*, not of batches processed since (see runtime.dedup).
        self._mark = dedup_mark
        self.pending_mark: int | None = None
        self.pending: str | None = None
        self.committed: str | None = None
        self.commits = 0

    def handed(self, event_id: str) -> None:
        """Every row of the events up to ``event_id`` has been written to the sink."""
        if event_id:
            self.pending = event_id
            self.pending_mark = self._mark() if self._mark is not None else None

    def commit(self) -> None:
        """Record the pending id (call only when the sink said its rows are durable)."""
        if self.store is None or self.pending is None or self.pending == self.committed:
            return
        dedup = self._snapshot(self.pending_mark) if self._snapshot is not None else None
        self.store.commit(self.pipeline, self.source_table, self.pending, dedup)
        self.committed = self.pending
        self.commits += 1


async def run_pipeline(
    batches: AsyncIterator[tuple[Any, str]],
    sink: Sink,
    committer: Committer,
    *,
    tick_s: float = DEFAULT_TICK_S,
    shutdown_timeout_s: float = SHUTDOWN_TIMEOUT_S,
) -> None:
    """Run until ``batches`` ends; see the module docstring."""
    lock = asyncio.Lock()

    async def flush_and_commit() -> None:
        if await sink.flush() and not sink.failed:
            committer.commit()

    async def ticker() -> None:
        while True:
            await asyncio.sleep(tick_s)
            async with lock:
                try:
                    await flush_and_commit()
                except Exception as exc:  # the next write or the shutdown reports it too
                    logger.error(
                        "pipeline %s: flushing the sink failed (%s); nothing more is "
                        "committed until it works",
                        committer.pipeline,
                        exc,
                    )

    await sink.open()
    tick = asyncio.create_task(ticker(), name=f"laminar-commit-{committer.pipeline}")
    write: asyncio.Future[None] | None = None
    write_id = ""  # the last event id of the batch being written
    try:
        async for rows, event_id in batches:
            async with lock:
                if len(rows):
                    write, write_id = asyncio.ensure_future(sink.write(rows)), event_id
                    await asyncio.shield(write)
                    write = None
                committer.handed(event_id)
                await flush_and_commit()
    finally:
        tick.cancel()
        with contextlib.suppress(BaseException):
            await tick
        await _shutdown(batches, sink, committer, write, write_id, shutdown_timeout_s)


async def _shutdown(
    batches: AsyncIterator[tuple[Any, str]],
    sink: Sink,
    committer: Committer,
    write: asyncio.Future[None] | None,
    write_id: str,
    timeout_s: float,
) -> None:
    """Stop reading, let a write in flight finish, close the sink, commit."""
    try:
        async with asyncio.timeout(timeout_s):
            with contextlib.suppress(Exception):
                await batches.aclose()  # type: ignore[attr-defined]
            if write is not None:
                try:
                    await write
                except Exception:
                    pass  # not all its rows may be in the sink: keep its id uncommitted
                else:
                    committer.handed(write_id)  # all its rows are in the sink now
            await sink.close()
            if not sink.failed:  # a failed sink may have lost rows it accepted
                committer.commit()
    except TimeoutError:
        logger.warning(
            "pipeline %s: the sink did not finish within %.0f s; the last rows are not "
            "committed and will be sent again on restart",
            committer.pipeline,
            timeout_s,
        )
