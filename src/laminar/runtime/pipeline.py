"""The pipeline: source -> operators -> sink, run in an asyncio.TaskGroup.

One ``Pipeline`` runs one query over one stream:

    source (events -> Arrow: laminar.connectors.sse.source, keeps the last id)
      -> head operators (replay check, event-type filter, de-duplication, decode,
         partitioning: laminar.runtime.operators.head)
      -> query operator (the per-batch DuckDB query, or a chain with window /
         group operators: laminar.runtime.operator.QueryStage)
      -> LIMIT (laminar.runtime.operators.limit)
      -> sink: ``run_into`` resumes the pipeline from its checkpoint and drives
         it into its sink with the commit protocol (laminar.runtime.commit):
         the rows of every batch, then its ``position`` (the last event id they
         cover) is committed with every operator's state

The head and the query each run in a worker thread, one batch at a time
(DuckDB, pyarrow and the decoders release the GIL, so the socket keeps being
read meanwhile; the micro-batcher's read-ahead is the only queue, bounded).
A stateful query is ticked every ``tick_s`` while no batch arrives (idle
streams and processing-time windows close on time) and flushed when the source
ends for good (a 204, or reconnecting exhausted after a clean end), so every
open window is emitted. With continue_on_error = false a failing event cuts
its batch (``RowBatch.stop``): the rows before it are handed on, then the
error is raised.

Checkpoints are generic: ``snapshot()`` gives every operator's state, one
entry per operator name, and ``restore()`` gives them back with the resume id.
The head's state is versioned by batch marks, so it is taken as of the last
batch handed on (``dedup_mark``) even while the next one is processed.

``run_together(jobs)`` runs every pipeline (driven into its sink by
``laminar.runtime.commit.run_pipeline``) as a task of one TaskGroup, until all end.
The first failure cancels the others once (each still flushes its sink and takes
its last checkpoint under its own shutdown deadline) and is raised as itself, not
wrapped in an ExceptionGroup. A cancellation from outside (SIGINT/SIGTERM) cancels
every pipeline once: TaskGroup never cancels a task that is already shutting down
again, so a second signal cannot cut a flush short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from laminar.errors import LaminarError, ReconnectExhaustedError
from laminar.runtime.batching import Batch
from laminar.runtime.commit import DEFAULT_TICK_S, Committer, run_pipeline
from laminar.runtime.operator import QueryStage
from laminar.runtime.operators.head import SourceHead
from laminar.runtime.operators.limit import Limit
from laminar.runtime.operators.source_stage import RowBatch
from laminar.runtime.state import StateStore
from laminar.runtime.stats import PipelineStats
from laminar.sinks.base import Sink
from laminar.sse.event import SSEEvent

logger = logging.getLogger("laminar.runtime")

T = TypeVar("T")
Job = tuple[str, Callable[[], Coroutine[Any, Any, Any]]]

# How often a stateful query looks at the clock while no batch arrives.
TICK_S = 0.2
# Window and group state can be large: snapshot it once a second, not per batch.
STATEFUL_CHECKPOINT_INTERVAL_S = 1.0


class EventBatches(Protocol):
    """A source as the pipeline sees it: micro-batches of events, from a resume id."""

    resume_event_id: str | None

    def batches(self) -> AsyncIterator[Batch[SSEEvent]]: ...


class Monitor(Protocol):
    """Observability's view of a run (laminar.observability.monitor.QueryMonitor)."""

    def start(self) -> None: ...

    def processed(self, batch: RowBatch, elapsed_ms: float) -> None: ...

    def committed(self, batch: RowBatch) -> None: ...

    def stop(self) -> None: ...


class Pipeline(Generic[T]):
    """See the module docstring. ``run()`` once."""

    def __init__(
        self,
        source: EventBatches,
        head: SourceHead,
        query: QueryStage[T],
        limit: Limit[T],
        stats: PipelineStats,
        *,
        tick_s: float = TICK_S,
        monitor: Monitor | None = None,
    ) -> None:
        self.source = source
        self.head = head
        self.query = query
        self.limit = limit
        self.stats = stats
        self.tick_s = tick_s
        self.monitor = monitor
        self.position = ""  # last event id covered by the batch most recently produced
        self.dedup_mark = 0  # the head's state as of that batch

    # -- checkpoints ----------------------------------------------------------------

    def restore(self, last_event_id: str, states: Mapping[str, bytes]) -> None:
        """Resume after ``last_event_id`` with the operators' ``states`` (by name)."""
        self.source.resume_event_id = last_event_id
        self.head.restore(states)
        self.query.restore(states)

    def snapshot(self) -> dict[str, bytes]:
        """Every operator's state by name, as of the last batch produced (the head's is
        safe at any time; a stateful query's only at a barrier: laminar.runtime.commit)."""
        states = self.head.snapshot(self.dedup_mark)
        states.update(self.query.snapshot())
        return states

    # -- running --------------------------------------------------------------------

    async def _row_batches(self) -> AsyncGenerator[RowBatch, None]:
        """The source's batches through the head operators."""
        if self.source.resume_event_id:
            self.head.replay.resumed(self.source.resume_event_id)
        events = self.source.batches()
        try:
            async for batch in events:
                rows = await asyncio.to_thread(self.head.process, batch)
                yield rows
                if rows.stop is not None:  # handed on: now the error
                    raise rows.stop
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    async def run(self, yield_empty: bool = False) -> AsyncGenerator[T, None]:
        """The rows of every batch, in order; empty ones too with ``yield_empty``."""
        stats, query, limit, monitor = self.stats, self.query, self.limit, self.monitor
        size = query.rows.size
        if limit.done:
            stats.state = "finished"
            return
        batches = self._row_batches()
        stream = _with_ticks(batches, self.tick_s) if query.stateful else batches
        if monitor is not None:
            monitor.start()
        try:
            async for batch in stream:
                if batch is None:  # a tick: time moved while no batch came
                    result = await asyncio.to_thread(query.process, None, None)
                    query.note_state(stats)
                    if size(result) or yield_empty:
                        result, reached = limit.process(result)
                        stats.rows_out += size(result)
                        yield result
                        if reached:
                            break
                    continue
                result = await self._execute(batch)
                if monitor is not None:
                    monitor.processed(batch, stats.last_batch_ms)
                if not size(result):
                    self.position, self.dedup_mark = batch.last_event_id, batch.dedup_mark
                    if yield_empty:
                        yield result
                    if monitor is not None:
                        monitor.committed(batch)
                    continue
                wanted = limit.remaining
                result, reached = limit.process(result)
                if reached and not query.stateful:
                    # LIMIT ends in this batch: commit up to the event behind the last
                    # delivered row when that can be known, else keep the position (a
                    # restart replays the batch rather than skip it).
                    assert wanted is not None
                    last = await asyncio.to_thread(
                        Limit.delivered_through, batch, wanted, query.count
                    )
                    if last is not None:
                        self.position = last
                elif not reached:
                    self.position, self.dedup_mark = batch.last_event_id, batch.dedup_mark
                stats.rows_out += size(result)
                yield result
                if monitor is not None:
                    monitor.committed(batch)  # the sink has the rows
                if reached:
                    break
            else:
                if query.stateful:  # the source ended for good: close every window
                    result = await self._flush()
                    if size(result) or yield_empty:
                        yield result
            stats.state = "finished"
        except ReconnectExhaustedError as exc:
            if not query.stateful or exc.reason != "eof":
                stats.state = "failed"
                stats.error = str(exc)
                raise
            # The stream ended cleanly and reconnecting ran out: an end for good, like a
            # 204. Every open window is emitted, and the query finishes.
            result = await self._flush()
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
            await batches.aclose()
            if monitor is not None:
                monitor.stop()

    async def positioned(self) -> AsyncGenerator[tuple[T, str], None]:
        """``(rows, position)`` for every batch, empty ones included (for commits)."""
        async with contextlib.aclosing(self.run(yield_empty=True)) as batches:
            async for rows in batches:
                yield rows, self.position

    async def _execute(self, batch: RowBatch) -> T:
        stats = self.stats
        started = time.perf_counter()
        result = await asyncio.to_thread(self.query.process, batch.partitions, None)
        self.query.note_state(stats)
        stats.batches += 1
        stats.last_batch_ms = (time.perf_counter() - started) * 1000
        stats.last_event_at = time.time()
        return result

    async def _flush(self) -> T:
        """Every open window (the source ended for good), cut to what LIMIT still allows."""
        result = await asyncio.to_thread(self.query.flush)
        self.query.note_state(self.stats)
        result, _ = self.limit.process(result)
        self.stats.rows_out += self.query.rows.size(result)
        return result


async def run_into(
    pipeline: Pipeline[Any],
    sink: Sink,
    *,
    store: StateStore | None,
    key: str,
    table: str,
    tick_s: float = DEFAULT_TICK_S,
) -> None:
    """Run ``pipeline`` to its end into ``sink``, resumed from and checkpointed under
    ``key`` in ``store`` (None: nothing is resumed or recorded, the sink still commits).

    The head operators give their state as of the last batch handed (its mark): safe
    even while the next one is processed, so checkpoints may be taken at any time. A
    stateful query's operators are not: they are snapshotted at barriers only (the
    pipeline yields a batch every tick), at most once a second.
    """
    if store is not None:
        checkpoint = store.checkpoint(key)
        misfit = pipeline.query.misfit(checkpoint.states) if checkpoint is not None else None
        if misfit is not None:
            # As for a changed CREATE TABLE, the file wins: the edited query starts
            # afresh rather than resume on state that is not its own.
            logger.warning(
                "pipeline %s: %s; it starts afresh, without its saved position and state",
                key, misfit,
            )
        elif checkpoint is not None:
            pipeline.restore(checkpoint.last_event_id, checkpoint.states)
            logger.info("pipeline %s resumes after event id %r", key, checkpoint.last_event_id)
    stateful = pipeline.query.stateful
    await run_pipeline(
        pipeline.positioned(),
        sink,
        Committer(store, key, table, pipeline.snapshot),
        tick_s=tick_s,
        checkpoint_interval_s=STATEFUL_CHECKPOINT_INTERVAL_S if stateful else 0.0,
        snapshot_anytime=not stateful,
    )


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


async def run_together(jobs: Sequence[Job]) -> None:
    """Run ``(name, start)`` jobs concurrently until all end (see the module docstring)."""
    try:
        async with asyncio.TaskGroup() as group:
            for name, start in jobs:
                group.create_task(start(), name=name)
    except BaseExceptionGroup as failures:
        raise _first(failures) from None


def _first(group: BaseExceptionGroup) -> BaseException:
    """The failure to report: the first that is not a cancellation, depth first."""
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return _first(error)
        if not isinstance(error, asyncio.CancelledError):
            return error
    return group.exceptions[0]
