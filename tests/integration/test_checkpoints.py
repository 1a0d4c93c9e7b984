"""The checkpoint barrier of run_pipeline: event id, operator states and sink txn, together.

The batches come from a small async generator standing for the operator
runtime: it keeps a state (rows counted) that it changes while producing a
batch, as an operator does. The sink is the real filesystem sink and the
store the real SQLite state store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from laminar.errors import PipelineError
from laminar.runtime.commit import Committer, run_pipeline
from laminar.runtime.state import StateStore
from laminar.sinks import base as sink_base
from laminar.sinks.filesystem import FilesystemSink


class Counter:
    """The operator: counts the rows it has produced."""

    def __init__(self) -> None:
        self.rows = 0
        self.snapshots = 0

    def snapshot(self) -> dict[str, bytes]:
        self.snapshots += 1
        return {"count": str(self.rows).encode()}

    def batch(self, start: int, stop: int) -> tuple[list[str], str]:
        self.rows += stop - start
        return [json.dumps({"n": n}) for n in range(start, stop)], str(stop - 1)


def published(out: Path) -> list[int]:
    return [json.loads(line)["n"] for p in sorted(out.glob("t-*.jsonl")) for line in p.open()]


async def test_a_checkpoint_binds_the_id_the_states_and_the_published_files(
    tmp_path: Path,
) -> None:
    counter = Counter()

    async def batches() -> AsyncIterator[tuple[list[str], str]]:
        yield counter.batch(1, 4)
        yield [], "3"  # an idle tick: same id, nothing new
        yield counter.batch(4, 6)

    with StateStore.open(tmp_path / "state") as store:
        committer = Committer(store, "src->t", "src", counter.snapshot)
        sink = FilesystemSink("t", str(tmp_path / "out"))
        await run_pipeline(batches(), sink, committer)
        checkpoint = store.checkpoint("src->t")
    assert checkpoint is not None
    assert (checkpoint.last_event_id, checkpoint.states) == ("5", {"count": b"5"})
    assert checkpoint.sink_txn["resume"] is None  # everything published at the end
    assert published(tmp_path / "out") == [1, 2, 3, 4, 5]
    assert counter.snapshots == 3  # two batches with a new id, and the shutdown


async def test_a_big_batch_is_written_in_pieces_line_for_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sink_base, "LINES_PER_WRITE", 2)  # (16,384 lines otherwise)
    counter = Counter()

    async def batches() -> AsyncIterator[tuple[list[str], str]]:
        yield counter.batch(1, 8)

    with StateStore.open(tmp_path / "state") as store:
        sink = FilesystemSink("t", str(tmp_path / "out"))
        await run_pipeline(batches(), sink, Committer(store, "src->t", "src", counter.snapshot))
    assert published(tmp_path / "out") == [1, 2, 3, 4, 5, 6, 7]
    assert sink.rows_written == 7


async def test_checkpoint_interval_spaces_the_checkpoints(tmp_path: Path) -> None:
    counter = Counter()
    now = [0.0]
    ids: list[str] = []

    async def batches() -> AsyncIterator[tuple[list[str], str]]:
        for n in range(1, 7):
            now[0] += 0.5
            yield counter.batch(n, n + 1)

    def snapshot() -> dict[str, bytes]:
        ids.append(str(counter.rows))
        return counter.snapshot()

    with StateStore.open(tmp_path / "state") as store:
        committer = Committer(store, "src->t", "src", snapshot)
        sink = FilesystemSink("t", str(tmp_path / "out"))
        await run_pipeline(
            batches(), sink, committer, checkpoint_interval_s=1.0, clock=lambda: now[0]
        )
    assert ids == ["2", "4", "6", "6"]  # every second of the clock, then at shutdown
    assert published(tmp_path / "out") == [1, 2, 3, 4, 5, 6]


class TickingSink(FilesystemSink):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.ticked = asyncio.Event()  # set once ``need`` ticks have ended
        self.ticks = 0
        self.need = 3

    async def tick(self) -> None:
        self.ticks += 1
        try:
            await super().tick()
        finally:
            if self.ticks >= self.need:
                self.ticked.set()


async def test_no_snapshot_while_the_iterator_may_be_mid_batch(tmp_path: Path) -> None:
    counter = Counter()
    advanced = asyncio.Event()

    async def batches() -> AsyncIterator[tuple[list[str], str]]:
        yield counter.batch(1, 3)
        counter.rows += 100  # working on the next batch: its state is ahead of the sink
        advanced.set()
        await asyncio.Event().wait()
        yield counter.batch(3, 4)

    with StateStore.open(tmp_path / "state") as store:
        committer = Committer(store, "src->t", "src", counter.snapshot)
        sink = TickingSink("t", str(tmp_path / "out"))
        task = asyncio.create_task(
            run_pipeline(batches(), sink, committer, tick_s=0.001, checkpoint_interval_s=0.0)
        )
        await advanced.wait()
        await sink.ticked.wait()  # the ticker ran meanwhile: no snapshot from it
        task.cancel()  # SIGTERM while the iterator is mid-batch: no snapshot either
        await asyncio.gather(task, return_exceptions=True)
        checkpoint = store.checkpoint("src->t")
    assert checkpoint is not None
    assert (checkpoint.last_event_id, checkpoint.states) == ("2", {"count": b"2"})
    assert counter.snapshots == 1
    # The rows of the last checkpoint are in its resumable file: recover publishes them.
    restarted = FilesystemSink("t", str(tmp_path / "out"))
    restarted.pipeline = "src->t"
    await restarted.open()
    await restarted.recover(checkpoint.sink_txn)
    assert published(tmp_path / "out") == [1, 2]


async def test_restart_recovers_the_committed_txn_before_writing(tmp_path: Path) -> None:
    counter = Counter()
    out = tmp_path / "out"

    async def first() -> AsyncIterator[tuple[list[str], str]]:
        yield counter.batch(1, 3)
        yield counter.batch(3, 5)

    with StateStore.open(tmp_path / "state") as store:
        sink = FilesystemSink("t", str(out), rollover_size=1)  # a staged file per batch
        committer = Committer(store, "src->t", "src", counter.snapshot)
        original = sink.publish
        published_txns: list[object] = []

        async def publish_once(txn: object) -> None:  # the process dies after one publish
            if published_txns:
                raise asyncio.CancelledError
            published_txns.append(txn)
            await original(txn)

        sink.publish = publish_once  # type: ignore[method-assign]
        with contextlib.suppress(asyncio.CancelledError):
            await run_pipeline(first(), sink, committer)
        committed = store.checkpoint("src->t")
        assert committed is not None and committed.last_event_id == "4"
        assert published(out) == [1, 2]  # batch 2 committed, not published: the crash

        async def second() -> AsyncIterator[tuple[list[str], str]]:
            yield counter.batch(5, 6)

        restarted = FilesystemSink("t", str(out), rollover_size=1)
        await run_pipeline(second(), restarted, Committer(store, "src->t", "src"))
    assert published(out) == [1, 2, 3, 4, 5]
    assert not list(out.glob(".*"))


async def test_a_sink_failure_on_a_tick_stops_the_pipeline_at_the_next_batch(
    tmp_path: Path,
) -> None:
    counter = Counter()
    out = tmp_path / "out"
    sink = TickingSink("t", str(out), rollover_interval_ms=3_600_000)

    async def batches() -> AsyncIterator[tuple[list[str], str]]:
        yield counter.batch(1, 3)
        for hidden in out.glob(".*"):  # someone removes the open file: the tick fails
            hidden.unlink()
        sink.rollover_interval = 0.0  # aged, and its rows are committed: a tick rolls it
        sink.ticks, sink.need = 0, 1
        sink.ticked.clear()
        await sink.ticked.wait()
        yield counter.batch(3, 4)

    with StateStore.open(tmp_path / "state") as store:
        committer = Committer(store, "src->t", "src", counter.snapshot)
        with pytest.raises(PipelineError, match="disappeared"):
            await run_pipeline(batches(), sink, committer, tick_s=0.001)
        checkpoint = store.checkpoint("src->t")
    assert checkpoint is not None and checkpoint.last_event_id == "2"  # nothing after
    assert sink.failed


async def test_without_a_store_files_are_published_and_no_state_is_taken(tmp_path: Path) -> None:
    counter = Counter()

    async def batches() -> AsyncIterator[tuple[list[str], str]]:
        yield counter.batch(1, 3)
        yield counter.batch(3, 5)

    committer = Committer(None, "src->t", "src", counter.snapshot)  # persist_event_id off
    await run_pipeline(batches(), FilesystemSink("t", str(tmp_path / "out")), committer)
    assert published(tmp_path / "out") == [1, 2, 3, 4]
    assert counter.snapshots == 0  # a big window state is not serialized for nothing
