"""A full disk under a filesystem sink (issue 9, item 1): stop with a clear error, lose nothing.

``laminar run`` writes into a tiny tmpfs until it is full (ENOSPC on a write,
an fsync, a close or a rename), against a real local SSE feed that honours
Last-Event-ID. The run must end with exit 1 and a one-line error, never a
traceback, and must not commit past the rows it could not publish. Once the
disk has room again, a restart on the same state directory completes the
feed: the published files hold every row exactly once.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.chaos.chaos_server import Feed
from tests.support.sse_server import SSEServer

TOTAL = 3000


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def pipeline(url: str, out: Path) -> str:
    # Files rolled at every batch hold less than a write buffer: the disk fills on a close or
    # a rename as often as on a write.
    return f"""
    CREATE TABLE src (n INTEGER, event_id TEXT) WITH (
        endpoint = '{url}', capture_event_id = true, persist_event_id = true,
        reconnect_interval_ms = 10, buffer_timeout_ms = 5);
    CREATE TABLE out (event_id TEXT, n INTEGER) WITH (
        connector = 'filesystem', path = '{out}', rollover_interval_ms = 1);
    INSERT INTO out SELECT event_id, n FROM src;
    """


async def laminar_run(tmp_path: Path, sql: str) -> tuple[int, str]:
    (tmp_path / "p.sql").write_text(sql)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "laminar", "run", str(tmp_path / "p.sql"),
        "--state-dir", str(tmp_path / "state"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, stderr.decode()


def published(out: Path) -> list[int]:
    return [
        int(json.loads(line)["n"])
        for path in sorted(out.glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]


async def test_a_full_disk_stops_the_pipeline_and_the_restart_loses_nothing(
    tmp_path: Path, tiny_disk: Path
) -> None:
    out = tiny_disk / "out"
    async with SSEServer(default=Feed(TOTAL, per_write=20, pause=0.01)) as server:
        sql = pipeline(server.url, out)
        code, stderr = await laminar_run(tmp_path, sql)
        assert code == 1, stderr
        assert "No space left on device" in stderr and "sink out" in stderr
        assert "Traceback" not in stderr
        before = published(out)
        assert before == list(range(1, len(before) + 1))  # whole files, in order, no hole
        assert len(before) < TOTAL

        subprocess.run(["mount", "-o", "remount,size=4m", str(tiny_disk)], check=True)
        code, stderr = await laminar_run(tmp_path, sql)
        assert code == 0, stderr
    assert published(out) == list(range(1, TOTAL + 1))  # every row exactly once
    assert not list(out.glob(".*"))
