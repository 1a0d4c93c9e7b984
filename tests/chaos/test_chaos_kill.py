"""Chaos: ``kill -9`` of ``laminar run`` at random moments, then a restart; SIGTERM drains.

The pipeline writes JSON-lines files (rolled every 100 ms, atomically) from a
Feed that honours Last-Event-ID, with ``persist_event_id = true``. Whatever the
kills, every id 1…N ends up in the files. Allowed duplicates: rows of a file
that was renamed into place but whose id was not yet committed when the
process died — at most one roll's rows per kill.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sys
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


async def test_kill_9_at_random_moments_then_restart_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(4)
    out = tmp_path / "out"
    feed = Feed(TOTAL, per_write=10, pause=0.004)
    kills = 0
    async with SSEServer(default=feed) as server:
        sql = pipeline(server.url, out)
        for _ in range(3):
            proc = await start(tmp_path, sql)
            await asyncio.sleep(rng.uniform(0.8, 1.6))  # startup is ~0.5 s: kill mid-stream
            if proc.returncode is None:
                proc.kill()
                kills += 1
            await proc.wait()
        proc = await start(tmp_path, sql)
        _, stderr = await asyncio.wait_for(proc.communicate(), 40)
        assert proc.returncode == 0, stderr.decode()
    assert kills >= 2
    written = files(out)
    ids = [i for f in written for i in f]
    assert set(ids) == set(range(1, TOTAL + 1))  # nothing lost
    duplicates = len(ids) - len(set(ids))
    assert duplicates <= kills * max(len(f) for f in written)  # at most one roll per kill
    assert not list(out.glob(".*.inprogress"))
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
