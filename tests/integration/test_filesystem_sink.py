"""The filesystem sink's two-phase commit: prepare stages, publish shows, recover repairs.

Real files in a temporary directory; a "crash" is a sink abandoned without
close, and the restart a fresh sink of the same pipeline given the last
committed transaction.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from laminar.errors import PipelineError
from laminar.sinks.filesystem import FilesystemSink


def visible(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.startswith("."))


def hidden(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.startswith("."))


def rows(directory: Path) -> list[int]:
    return [json.loads(line)["n"] for p in visible(directory) for line in p.open()]


def lines(start: int, stop: int) -> list[str]:
    return [json.dumps({"n": n}) for n in range(start, stop)]


async def sink_of(directory: Path, **options: object) -> FilesystemSink:
    sink = FilesystemSink("t", str(directory), **options)  # type: ignore[arg-type]
    sink.pipeline = "src->t"
    await sink.open()
    return sink


async def test_rows_are_visible_only_once_published(tmp_path: Path) -> None:
    sink = await sink_of(tmp_path, rollover_interval_ms=60_000)
    await sink.write(lines(0, 3))
    txn = await sink.prepare()
    assert txn["publish"] == [] and txn["resume"][1] == len("".join(lines(0, 3))) + 3
    assert visible(tmp_path) == []  # durable, staged, hidden
    await sink.publish(txn)
    assert visible(tmp_path) == []  # JSON lines stay open across checkpoints (resumable)
    await sink.close()
    txn = await sink.prepare()
    assert txn["resume"] is None and len(txn["publish"]) == 1
    await sink.publish(txn)
    await sink.publish(txn)  # idempotent
    assert rows(tmp_path) == [0, 1, 2] and hidden(tmp_path) == []


async def test_recover_republishes_the_committed_txn_and_drops_the_rest(tmp_path: Path) -> None:
    crashed = await sink_of(tmp_path, rollover_size=20, rollover_interval_ms=60_000)
    await crashed.write(lines(0, 3))  # > 20 bytes: rolled, staged
    await crashed.write(lines(3, 4))  # the open file
    committed = await crashed.prepare()
    assert len(committed["publish"]) == 1 and committed["resume"] is not None
    # Crash after the commit, before the publish; more rows were written meanwhile.
    await crashed.write(lines(4, 5))
    await crashed.write(lines(5, 8))  # rolled: staged, never committed
    uncommitted = await crashed.prepare()
    crashed._drop_handle()
    assert visible(tmp_path) == []

    restarted = await sink_of(tmp_path)
    await restarted.recover(committed)
    assert rows(tmp_path) == [0, 1, 2, 3]  # the open file cut back to its committed length
    assert hidden(tmp_path) == []  # 4…7 were never committed: the source resends them
    await restarted.recover(committed)  # a second crash during recovery: nothing twice
    assert rows(tmp_path) == [0, 1, 2, 3]
    assert uncommitted["publish"]  # (and what that txn named is gone)


async def test_recover_leaves_other_pipelines_and_live_writers_alone(tmp_path: Path) -> None:
    other = await sink_of(tmp_path)
    other.pipeline = "elsewhere->t"
    await other.write(lines(0, 1))
    crashed = tmp_path / f".t-999999999-{'1' * 19}-00001.jsonl.inprogress"  # older naming
    crashed.write_text("half")
    live = tmp_path / f".t-{os.getpid()}-{'2' * 19}-00001.jsonl.inprogress"
    live.write_text("busy")
    ours = await sink_of(tmp_path)
    await ours.write(lines(1, 2))
    ours._drop_handle()  # a previous run of this pipeline, in this process

    restarted = await sink_of(tmp_path)
    await restarted.recover(None)
    assert hidden(tmp_path) == sorted([other._current, live])  # type: ignore[type-var]


async def test_an_aged_file_whose_rows_are_committed_goes_out_on_a_tick(tmp_path: Path) -> None:
    sink = await sink_of(tmp_path, rollover_interval_ms=0)
    sink.rollover_interval = 3600.0
    await sink.write(lines(0, 2))
    await sink.tick()
    assert visible(tmp_path) == []  # not committed yet
    await sink.publish(await sink.prepare())
    await sink.tick()
    assert visible(tmp_path) == []  # committed, but not aged
    sink.rollover_interval = 0.0
    await sink.write(lines(2, 3))
    await sink.tick()
    assert visible(tmp_path) == []  # aged, but row 2 is not committed
    txn = await sink.prepare()  # aged: rolled at the checkpoint
    await sink.publish(txn)
    assert rows(tmp_path) == [0, 1, 2]
    await sink.write(lines(3, 4))
    await sink.publish(await sink.prepare())
    await sink.tick()
    assert rows(tmp_path) == [0, 1, 2, 3] and hidden(tmp_path) == []


async def test_parquet_rolls_at_every_checkpoint(tmp_path: Path) -> None:
    sink = await sink_of(tmp_path, format="parquet", rollover_interval_ms=5_000)
    assert sink.min_checkpoint_interval_s == 5.0  # a file per checkpoint: not too many
    await sink.write(pa.table({"n": [1, 2]}))
    txn = await sink.prepare()
    assert txn["resume"] is None and len(txn["publish"]) == 1
    await sink.publish(txn)
    [path] = visible(tmp_path)
    assert pq.read_table(path).to_pylist() == [{"n": 1}, {"n": 2}]


async def test_a_failed_write_fails_the_sink_and_keeps_the_committed_part(
    tmp_path: Path,
) -> None:
    sink = await sink_of(tmp_path, rollover_interval_ms=60_000)
    await sink.write(lines(0, 2))
    committed = await sink.prepare()
    await sink.publish(committed)

    def disk_full(rows: object) -> None:
        sink._handle.write(b'{"n":2, "torn')
        raise OSError(28, "No space left on device")

    sink._write = disk_full  # type: ignore[method-assign]
    with pytest.raises(PipelineError, match="No space left"):
        await sink.write(lines(2, 3))
    assert sink.failed
    with pytest.raises(PipelineError, match="failed earlier"):
        await sink.prepare()  # no checkpoint can pass the failure
    await sink.close()
    assert visible(tmp_path) == []
    restarted = await sink_of(tmp_path)
    await restarted.recover(committed)
    assert rows(tmp_path) == [0, 1] and hidden(tmp_path) == []  # the torn tail is cut


async def test_recover_finds_the_files_where_the_checkpoint_left_them(tmp_path: Path) -> None:
    crashed = await sink_of(tmp_path / "old", file_prefix="a-b", rollover_size=1)
    await crashed.write(lines(0, 2))
    committed = await crashed.prepare()
    crashed._drop_handle()
    # The restart's path resolves elsewhere (a relative path, another working directory)
    # and its prefix changed: the committed files are still published, under their name.
    restarted = await sink_of(tmp_path / "new", file_prefix="c")
    await restarted.recover(committed)
    assert rows(tmp_path / "old") == [0, 1]
    assert [p.name.startswith("a-b-") for p in visible(tmp_path / "old")] == [True]
    assert hidden(tmp_path / "old") == []
