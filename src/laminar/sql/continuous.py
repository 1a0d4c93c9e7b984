"""A continuous query: an SSE table's micro-batches through DuckDB, rows out as they come.

It ends when ``limit`` rows have been produced, when the source ends for good
(the server answered 204), or when it is closed; a source that gives up
(attempts exhausted, 401, …) raises its error. DuckDB runs in a worker thread
so the socket keeps being read while a batch is processed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any, TypeVar

import pyarrow as pa

from laminar.connectors.sse.source import RowBatch, SSETableSource
from laminar.errors import LaminarError, ReconnectExhaustedError
from laminar.runtime.stats import PipelineStats
from laminar.runtime.time import NO_TIME
from laminar.sql.executor import BatchQuery
from laminar.sql.staged import StagedQuery

T = TypeVar("T")
_ids = itertools.count(1)
# How often a query with windows looks at the clock while no batch arrives (idle
# streams and processing-time windows close on time).
TICK_S = 0.2


class ContinuousQuery:
    """See the module docstring. Iterate ``arrow_batches()`` or ``json_batches()`` once."""

    def __init__(
        self,
        sql: str,
        source: SSETableSource,
        query: BatchQuery | StagedQuery,
        *,
        limit: int | None = None,
        on_close: Callable[[ContinuousQuery], None] | None = None,
    ) -> None:
        self.id = next(_ids)
        self.sql = sql
        self.source = source
        self.query = query
        self.limit = limit
        self.stats: PipelineStats = source.stats
        self.stats.query_id = self.id
        self.columns = query.columns
        self.types = query.types
        self._on_close = on_close
        self._closed = False
        self.position = ""  # last event id covered by the batch most recently produced
        self.dedup_mark = 0  # the de-duplication state as of that batch
        self.sink: Any = None  # the sink table's definition for INSERT INTO; None: stdout
        self.monitor: Any = None  # laminar.observability QueryMonitor, set by the engine
        self.tick_s = TICK_S

    @property
    def staged(self) -> StagedQuery | None:
        """The operators' chain when the query aggregates (windows, GROUP BY), else None."""
        return self.query if isinstance(self.query, StagedQuery) else None

    @property
    def table(self) -> str:
        return self.source.table.name

    async def arrow_batches(self) -> AsyncGenerator[pa.Table, None]:
        """Non-empty Arrow tables of result rows, in order."""
        async for rows in self._run(self.query.run, _arrow_len, _arrow_head):
            yield rows

    async def json_batches(self) -> AsyncIterator[list[str]]:
        """Non-empty lists of result rows as JSON object texts, in order."""
        async for rows in self._run(self.query.run_json, len, _list_head):
            yield rows

    async def positioned_batches(self, kind: str = "json") -> AsyncIterator[tuple[Any, str]]:
        """``(rows, last_event_id)`` for every batch, empty ones included (for commits).

        ``kind`` is "json" (lists of JSON texts) or "arrow" (Arrow tables).
        """
        # Not closed at the end: the pipeline snapshots the operators at shutdown, and
        # run_query closes the query after.
        if kind == "json":
            runs = self._run(self.query.run_json, len, _list_head, yield_empty=True, close=False)
        else:
            runs = self._run(
                self.query.run, _arrow_len, _arrow_head, yield_empty=True, close=False
            )
        async for rows in runs:
            yield rows, self.position

    async def _run(
        self,
        execute: Callable[[list[pa.Table]], T],
        size: Callable[[T], int],
        head: Callable[[T, int], T],
        yield_empty: bool = False,
        close: bool = True,
    ) -> AsyncIterator[T]:
        stats = self.stats
        remaining = self.limit
        if remaining == 0:
            stats.state = "finished"
            return
        staged = self.staged
        batches = self.source.batches()
        stream = _with_ticks(batches, self.tick_s) if staged is not None else batches
        monitor = self.monitor
        if monitor is not None:
            monitor.start()
        try:
            async for batch in stream:
                if batch is None:  # a tick: time moved while no batch came
                    assert staged is not None
                    result = await self._execute_staged(staged.tick, execute != self.query.run)
                    if size(result) or yield_empty:
                        produced = size(result)
                        if remaining is not None and produced >= remaining:
                            result, produced = head(result, remaining), remaining
                        stats.rows_out += produced
                        yield result
                        if remaining is not None:
                            remaining -= produced
                            if remaining <= 0:
                                break
                    continue
                result = await self._execute(execute, batch)
                if monitor is not None:
                    monitor.processed(batch, stats.last_batch_ms)
                produced = size(result)
                if not produced:
                    self.position, self.dedup_mark = batch.last_event_id, batch.dedup_mark
                    if yield_empty:
                        yield result
                    if monitor is not None:
                        monitor.committed(batch)
                    continue
                if remaining is not None and produced >= remaining:
                    # LIMIT ends in this batch (DuckDB may have cut it already): commit up to
                    # the event behind the last delivered row when that can be known, else
                    # keep the position (a restart replays the batch rather than skip it).
                    result, produced = head(result, remaining), remaining
                    last = None
                    if staged is None:
                        last = await asyncio.to_thread(
                            self._last_delivered_id, execute, size, batch, remaining
                        )
                    if last is not None:
                        self.position = last
                else:
                    self.position, self.dedup_mark = batch.last_event_id, batch.dedup_mark
                stats.rows_out += produced
                yield result
                if monitor is not None:
                    monitor.committed(batch)  # the sink has the rows
                if remaining is not None:
                    remaining -= produced
                    if remaining <= 0:
                        break
            else:
                if staged is not None:  # the source ended for good: close every window
                    result = await self._finish(staged, execute, size, head, remaining)
                    if size(result) or yield_empty:
                        yield result
            stats.state = "finished"
        except ReconnectExhaustedError as exc:
            if staged is None or exc.reason != "eof":
                stats.state = "failed"
                stats.error = str(exc)
                raise
            # The stream ended cleanly and reconnecting ran out: an end for good, like a
            # 204. Every open window is emitted, and the query finishes.
            result = await self._finish(staged, execute, size, head, remaining)
            if size(result) or yield_empty:
                yield result
            stats.state = "finished"
        except LaminarError as exc:
            stats.state = "failed"
            stats.error = str(exc)
            raise
        except (asyncio.CancelledError, GeneratorExit):
            stats.state = "stopped"
            raise
        finally:
            if stream is not batches:
                await stream.aclose()  # type: ignore[attr-defined]
            await batches.aclose()  # type: ignore[attr-defined]
            if monitor is not None:
                monitor.stop()
            if close:
                self.close()

    async def _finish(
        self,
        staged: StagedQuery,
        execute: Callable[[list[pa.Table]], T],
        size: Callable[[T], int],
        head: Callable[[T, int], T],
        remaining: int | None,
    ) -> Any:
        """Every open window (the source ended for good), cut to what LIMIT still allows."""
        result = await self._execute_staged(staged.finish, execute != self.query.run)
        produced = size(result)
        if remaining is not None and produced > remaining:
            result, produced = head(result, remaining), remaining
        self.stats.rows_out += produced
        return result

    async def _execute_staged(self, step: Callable[[], pa.Table], as_json: bool) -> Any:
        staged = self.staged
        assert staged is not None
        table = await asyncio.to_thread(step)
        self._note_state(staged)
        return staged.to_json(table) if as_json else table

    def _note_state(self, staged: StagedQuery) -> None:
        stats = self.stats
        stats.events_late = staged.late
        watermark = staged.watermark
        stats.watermark = watermark if watermark is not None and watermark > NO_TIME else None
        stats.state_rows, stats.state_bytes, stats.state_spilled_bytes = staged.state_size

    def _last_delivered_id(
        self,
        execute: Callable[[list[pa.Table]], T],
        size: Callable[[T], int],
        batch: RowBatch,
        wanted: int,
    ) -> str | None:
        """The id of the event behind the ``wanted``-th output row of ``batch``, or None.

        The shortest prefix of the batch that yields ``wanted`` rows, found by binary
        search (a filter/projection's output over a prefix is a prefix of its output).
        """
        events = batch.row_events
        if events is None or len(batch.partitions) != 1:
            return None
        rows = batch.partitions[0]
        low, high = 1, rows.num_rows
        while low < high:
            middle = (low + high) // 2
            if size(execute([rows.slice(0, middle)])) >= wanted:
                high = middle
            else:
                low = middle + 1
        return events[low - 1].id

    async def _execute(self, execute: Callable[[list[pa.Table]], T], batch: RowBatch) -> T:
        stats = self.stats
        started = time.perf_counter()
        result = await asyncio.to_thread(execute, batch.partitions)
        if self.staged is not None:
            self._note_state(self.staged)
        elapsed = (time.perf_counter() - started) * 1000
        stats.batches += 1
        stats.last_batch_ms = elapsed
        stats.last_event_at = time.time()
        return result

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.stats.state in ("starting", "running"):
            self.stats.state = "stopped"
        self.query.close()
        if self._on_close is not None:
            self._on_close(self)


def _arrow_len(table: pa.Table) -> int:
    return table.num_rows


def _arrow_head(table: pa.Table, n: int) -> pa.Table:
    return table.slice(0, n)


def _list_head(rows: list[str], n: int) -> list[str]:
    return rows[:n]


async def _with_ticks(
    batches: AsyncIterator[RowBatch], tick_s: float
) -> AsyncIterator[RowBatch | None]:
    """``batches``, with a None every ``tick_s`` while none arrives.

    The pending ``__anext__`` is kept across ticks (never cancelled mid-read).
    """
    pending: asyncio.Future[RowBatch] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(batches.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=tick_s)
            if not done:
                yield None
                continue
            future, pending = pending, None
            try:
                batch = future.result()
            except StopAsyncIteration:
                return
            yield batch
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
