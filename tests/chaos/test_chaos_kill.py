"""Chaos: ``kill -9`` of ``laminar run`` mid-stream, then a restart; SIGTERM drains.

The pipeline writes JSON-lines files (rolled every 100 ms) from a Feed that
honours Last-Event-ID, with ``persist_event_id = true``. The filesystem sink
is exactly-once (two-phase commit with the checkpoint): whatever the kills,
the published files hold every id 1…N once, in order — no duplicate, no gap.
Kills are triggered by what can be observed (events sent by the server, files
published, checkpoints committed), never by a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from laminar.runtime.state import StateStore
from tests.chaos.chaos_server import Feed
from tests.support.sse_server import SSEServer

pytestmark = pytest.mark.chaos

TOTAL = 3000


def pipeline(url: str, out: Path) -> str:
    return f"""
    CREATE TABLE src (n INTEGER, event_id TEXT) WITH (
        endpoint = '{url}', capture_event_id = true, persist_event_id = true,
        reconnect_interval_ms = 10, max_reconnect_interval_ms = 50, buffer_timeout_ms = 10);
    CREATE TABLE out (event_id TEXT, n INTEGER) WITH (
        connector = 'filesystem', path = '{out}', rollover_interval_ms = 100);
    INSERT INTO out SELECT event_id, n FROM src;
    """


async def start(tmp_path: Path, sql: str) -> asyncio.subprocess.Process:
    (tmp_path / "p.sql").write_text(sql)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "laminar", "run", str(tmp_path / "p.sql"),
        "--state-dir", str(tmp_path / "state"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


def files(out: Path) -> list[list[int]]:
    return [
        [int(json.loads(line)["event_id"]) for line in p.read_text().splitlines()]
        for p in sorted(out.glob("*.jsonl"))
    ]


def committed_id(state_dir: Path) -> int:
    """The committed event id, read the way a second reader can (the store is locked)."""
    path = state_dir / "state.db"
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT last_event_id FROM checkpoints").fetchone()
    except sqlite3.Error:
        return 0
    finally:
        db.close()
    return int(row[0]) if row else 0


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(15):
        while not condition():
            await asyncio.sleep(0.005)


async def test_kill_9_mid_stream_then_restart_publishes_every_row_once(tmp_path: Path) -> None:
    out = tmp_path / "out"
    state = tmp_path / "state"
    feed = Feed(TOTAL, per_write=10, pause=0.004)
    kills = 0
    async with SSEServer(default=feed) as server:
        sql = pipeline(server.url, out)

        def rows_published() -> int:
            return sum(len(f) for f in files(out))

        # Each kill waits for progress of a different kind, so they land in different
        # phases: right after a connection, mid-batch, after a publish, after a commit.
        triggers: list[Callable[[int, int, int], Callable[[], bool]]] = [
            lambda sent, _pub, _com: lambda: len(feed.sent) > sent,
            lambda sent, _pub, _com: lambda: len(feed.sent) >= sent + 300,
            lambda _sent, pub, _com: lambda: rows_published() > pub,
            lambda _sent, _pub, com: lambda: committed_id(state) > com + 200,
            lambda _sent, pub, _com: lambda: rows_published() > pub + 100,
        ]
        for trigger in triggers:
            proc = await start(tmp_path, sql)
            condition = trigger(len(feed.sent), rows_published(), committed_id(state))
            with contextlib.suppress(TimeoutError):
                await until(lambda c=condition, p=proc: c() or p.returncode is not None)
            if proc.returncode is None:
                proc.kill()
                kills += 1
            await proc.wait()
        proc = await start(tmp_path, sql)
        _, stderr = await asyncio.wait_for(proc.communicate(), 40)
        assert proc.returncode == 0, stderr.decode()
    assert kills >= 4
    ids = [i for f in files(out) for i in f]
    assert ids == list(range(1, TOTAL + 1))  # every row once, in order: no duplicate, no gap
    assert not list(out.glob(".*"))  # nothing staged or in progress left behind
    resumed = [r.last_event_id for r in server.requests if r.last_event_id]
    assert resumed  # restarts resumed from a committed id, not from the start


async def test_sigterm_flushes_commits_and_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "out"
    feed = Feed(TOTAL, per_write=10, pause=0.004)
    async with SSEServer(default=feed) as server:
        sql = pipeline(server.url, out)
        proc = await start(tmp_path, sql)
        async with asyncio.timeout(10):  # streaming (signal handlers installed) once files appear
            while not list(out.glob("*.jsonl")):
                await asyncio.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 15)
        assert proc.returncode == 0, stderr.decode()
        ids = [i for f in files(out) for i in f]
        assert ids == list(range(1, len(ids) + 1))  # in order, no duplicate, no hole
        with StateStore.open(tmp_path / "state") as state:
            checkpoint = state.checkpoint("src->out")
        assert checkpoint is not None and checkpoint.last_event_id == str(ids[-1])
        proc = await start(tmp_path, sql)  # the restart picks up exactly where it stopped
        _, stderr = await asyncio.wait_for(proc.communicate(), 40)
        assert proc.returncode == 0, stderr.decode()
    assert [i for f in files(out) for i in f] == list(range(1, TOTAL + 1))
