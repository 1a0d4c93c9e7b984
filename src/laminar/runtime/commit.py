"""The commit protocol: checkpoints that bind a pipeline's position, its state and its sink.

``run_pipeline(batches, sink, committer)`` drives one pipeline. ``batches``
yields ``(rows, last_event_id)`` for every micro-batch in order — rows may be
empty (all filtered out; an idle source may also yield empty batches with
the same id) — where ``last_event_id`` is the id of the last event the batch
covers. For each batch, the rows are handed to the sink (``write``; shielded
from cancellation so a shutdown never tears a write in half). Then, while the
batch iterator is suspended — every operator's state is that of the batch's
id — comes the *checkpoint barrier*: when a checkpoint is due (something new
since the last one, and ``checkpoint_interval_s`` elapsed; 0 = at every such
batch), the pipeline

1. takes ``snapshot()``: every operator's serialized state, by operator name;
2. ``txn = await sink.prepare()``: the sink's rows made durable and staged;
3. commits id, states and ``txn`` in one SQLite transaction
   (``Committer.commit`` -> ``StateStore.commit``);
4. ``await sink.publish(txn)``: the staged rows become visible.

A crash before 3 leaves the previous checkpoint: on restart ``sink.recover``
drops the staged rows and the source resumes after the previous id, so they
are sent again. A crash between 3 and 4 is repaired by ``recover``, which
publishes the committed ``txn`` again (idempotently). A failed write, prepare
or publish stops the pipeline with the sink's error; nothing is committed
after it.

A ticker runs ``sink.tick()`` every ``tick_s`` (housekeeping: stdout flushes;
the filesystem sink publishes an aged file whose rows are all committed). It
never snapshots state while the iterator may be mid-batch, unless the caller
says its snapshot is safe at any time (``snapshot_anytime``: the SSE source's
dedup state is versioned by batch marks), in which case it also takes the
checkpoints an idle stream would otherwise postpone.

On the way out — end of stream, error or cancellation (SIGINT/SIGTERM) —
reading stops first, a write in flight finishes, ``sink.close()`` ends the
sink, then a last checkpoint is taken if the state is that of the last
handed batch (the iterator ended or was suspended, or ``snapshot_anytime``)
and the sink has not failed. Cleanup has its own deadline
(``shutdown_timeout_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from laminar.errors import LaminarError, PipelineError
from laminar.runtime.state import Checkpoint, StateStore
from laminar.sinks.base import Sink

logger = logging.getLogger("laminar.runtime")

DEFAULT_TICK_S = 1.0
SHUTDOWN_TIMEOUT_S = 10.0

Snapshot = Callable[[], dict[str, bytes]]


class Committer:
    """One pipeline's checkpoints in the state store; without a store (persist_event_id
    off) nothing is recorded, but the sink is still prepared and published."""

    def __init__(
        self,
        store: StateStore | None,
        pipeline: str,
        source_table: str,
        snapshot: Snapshot | None = None,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.source_table = source_table
        self._snapshot = snapshot
        # The checkpoint this run starts from (its sink_txn goes to sink.recover).
        self.restored: Checkpoint | None = store.checkpoint(pipeline) if store else None
        self.committed: str | None = self.restored.last_event_id if self.restored else None
        self.commits = 0

    @property
    def recovered_txn(self) -> Any:
        return self.restored.sink_txn if self.restored is not None else None

    def snapshot(self) -> dict[str, bytes]:
        """Every operator's state; call only at a barrier (see the module docstring).

        Without a store nothing would keep it: not taken (the sink is still published).
        """
        if self.store is None or self._snapshot is None:
            return {}
        return self._snapshot()

    def commit(self, event_id: str, states: dict[str, bytes], txn: Any) -> None:
        """Record ``event_id``, ``states`` and the sink's ``txn`` in one transaction.

        Without an id (a stream whose events carry none) there is nothing to resume
        from: nothing is recorded.
        """
        if self.store is None or not event_id:
            return
        self.store.commit(self.pipeline, self.source_table, event_id, states, txn)
        self.committed = event_id
        self.commits += 1


class _Run:
    """The mutable state of one run_pipeline call."""

    def __init__(
        self,
        sink: Sink,
        committer: Committer,
        interval_s: float,
        snapshot_anytime: bool,
        clock: Callable[[], float],
    ) -> None:
        self.sink = sink
        self.committer = committer
        self.interval_s = interval_s
        self.snapshot_anytime = snapshot_anytime
        self.clock = clock
        self.lock = asyncio.Lock()
        self.handed = committer.committed or ""  # last id whose rows are all in the sink
        self.checkpointed = self.handed
        self.written = False  # rows written since the last checkpoint
        self.last_at = clock()
        self.in_batch = False  # a batch was received and is not yet handed
        self.pulling = False  # the iterator may be working on the next batch
        self.tick_error: BaseException | None = None

    def due(self) -> bool:
        if not self.written and self.handed == self.checkpointed:
            return False
        interval = max(self.interval_s, self.sink.min_checkpoint_interval_s)
        return self.clock() - self.last_at >= interval

    def consistent(self) -> bool:
        """Whether the operators' state is that of the last handed batch."""
        return not self.in_batch and (not self.pulling or self.snapshot_anytime)

    async def checkpoint(self, states: dict[str, bytes] | None = None) -> None:
        sink = self.sink
        if sink.failed:
            raise PipelineError(
                f"pipeline {self.committer.pipeline}: sink {sink.table} failed earlier; "
                "nothing more is committed (a restart sends the uncommitted rows again)"
            )
        event_id = self.handed
        if states is None:
            states = self.committer.snapshot()  # before any await: the barrier's state
        txn = await sink.prepare()
        self.committer.commit(event_id, states, txn)
        self.checkpointed, self.written, self.last_at = event_id, False, self.clock()
        await sink.publish(txn)

    async def ticker(self, tick_s: float) -> None:
        while True:
            await asyncio.sleep(tick_s)
            async with self.lock:
                try:
                    if self.snapshot_anytime and self.consistent() and self.due():
                        await self.checkpoint()
                    await self.sink.tick()
                except Exception as exc:  # the next barrier raises it
                    logger.error(
                        "pipeline %s: the sink failed (%s); nothing more is committed",
                        self.committer.pipeline,
                        exc,
                    )
                    self.tick_error = exc
                    return


async def run_pipeline(
    batches: AsyncIterator[tuple[Any, str]],
    sink: Sink,
    committer: Committer,
    *,
    tick_s: float = DEFAULT_TICK_S,
    checkpoint_interval_s: float = 0.0,
    snapshot_anytime: bool = False,
    shutdown_timeout_s: float = SHUTDOWN_TIMEOUT_S,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run until ``batches`` ends; see the module docstring."""
    run = _Run(sink, committer, checkpoint_interval_s, snapshot_anytime, clock)
    sink.pipeline = committer.pipeline
    await sink.open()
    await sink.recover(committer.recovered_txn)
    tick = asyncio.create_task(run.ticker(tick_s), name=f"laminar-commit-{committer.pipeline}")
    write: asyncio.Future[None] | None = None
    write_id = ""  # the last event id of the batch being written
    try:
        run.pulling = True
        async for rows, event_id in batches:
            run.pulling, run.in_batch = False, True
            async with run.lock:
                if run.tick_error is not None:
                    raise _as_pipeline_error(run.tick_error, sink)
                if len(rows):
                    write, write_id = asyncio.ensure_future(sink.write(rows)), event_id
                    await asyncio.shield(write)
                    write = None
                    run.written = True
                run.handed, run.in_batch = event_id or run.handed, False
                if run.due():
                    await run.checkpoint()
            run.pulling = True
        run.pulling = False  # the iterator ended: its state is the last batch's
    finally:
        tick.cancel()
        with contextlib.suppress(BaseException):
            await tick
        await _shutdown(batches, run, write, write_id, shutdown_timeout_s)


def _as_pipeline_error(exc: BaseException, sink: Sink) -> BaseException:
    if isinstance(exc, LaminarError | BrokenPipeError):  # the CLI reports both cleanly
        return exc
    error = PipelineError(f"sink {sink.table}: {exc}")
    error.__cause__ = exc
    return error


async def _shutdown(
    batches: AsyncIterator[tuple[Any, str]],
    run: _Run,
    write: asyncio.Future[None] | None,
    write_id: str,
    timeout_s: float,
) -> None:
    """Stop reading, let a write in flight finish, close the sink, take a last checkpoint."""
    sink = run.sink
    # The state as reading stops (closing the iterator may close its operators), if the
    # iterator is not mid-batch: it is the state of the batch last received, used only
    # once that batch is handed whole.
    states: dict[str, bytes] | None = None
    failure: Exception | None = None
    if not run.pulling or run.snapshot_anytime:
        try:
            states = run.committer.snapshot()
        except Exception as exc:  # raised once the iterator and the sink are closed
            failure = exc
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
                    # All its rows are in the sink.
                    run.written, run.in_batch = True, False
                    run.handed = write_id or run.handed
            await sink.close()
            if failure is not None:
                raise failure
            # A failed sink may have lost rows it accepted; a state ahead of the handed
            # rows would skip them on restart.
            if states is None or run.in_batch or sink.failed or run.tick_error is not None:
                return
            await run.checkpoint(states)  # also publishes what close() staged
    except TimeoutError:
        logger.warning(
            "pipeline %s: the sink did not finish within %.0f s; the last rows are not "
            "committed and will be sent again on restart",
            run.committer.pipeline,
            timeout_s,
        )
