"""Chaos: a stalled sink slows the socket read and memory stays bounded.

``laminar run`` streams a SELECT to a stdout pipe that nobody reads (the
stalled sink) while the server floods events as fast as the socket takes
them. After the pipe fills, the pipeline stops pulling batches, the source
stops reading, TCP flow control stops the server: the bytes the server got
out stay bounded, and so does the process's peak RSS (VmHWM).

The memory bound is on growth: the flooded process's peak RSS over that of the same
`laminar run` at rest (connected to a stream that sends nothing), measured on the same
machine in the same test. The process at rest (~150 MiB here: pyarrow, DuckDB, aiohttp)
differs between machines (allocator, huge pages); what the queues hold does not.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.support.sse_server import SSEServer, Stream, flood, stall

pytestmark = pytest.mark.chaos

GROWTH_BOUND_MIB = 150  # written in the README; measured 40-60 MiB (see the README)
FLOOD_BYTES = 2 << 30


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def run_laminar(sql_path: Path, stdout: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "laminar", "run", str(sql_path), "--state-dir", "none",
        stdout=stdout, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


def pipeline(tmp_path: Path, url: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(
        f"CREATE TABLE src (data TEXT) WITH (endpoint = '{url}', format = 'text');\n"
        "SELECT data FROM src;\n"
    )
    return path


async def rss_at_rest(tmp_path: Path) -> float:
    """Peak RSS of `laminar run` once it has connected to a stream that sends nothing."""
    async with SSEServer(Stream(stall())) as server:
        proc = await run_laminar(pipeline(tmp_path, server.url, "rest.sql"),
                                 asyncio.subprocess.DEVNULL)  # fmt: skip
        try:
            async with asyncio.timeout(30):
                while not server.requests:
                    await asyncio.sleep(0.05)
            return peak_rss_mib(proc.pid)
        finally:
            proc.kill()
            await proc.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("event_size", [200, 8 << 10, 256 << 10])  # small, 8 KiB, 256 KiB
async def test_stalled_sink_bounds_memory_and_stops_the_server(
    tmp_path: Path, event_size: int
) -> None:
    at_rest = await rss_at_rest(tmp_path)
    async with SSEServer(Stream(flood(FLOOD_BYTES, event_size=event_size))) as server:
        reader, writer = os.pipe()  # stdout: a pipe nobody reads
        proc = await run_laminar(pipeline(tmp_path, server.url, "p.sql"), writer)
        os.close(writer)
        try:
            async with asyncio.timeout(20):
                while server.bytes_written == 0:
                    await asyncio.sleep(0.05)
            await asyncio.sleep(1.5)  # the pipe (64 KiB) is full long before this
            stalled_at = server.bytes_written
            await asyncio.sleep(1.0)
            # The server is stopped by TCP flow control: it made no progress.
            assert server.bytes_written - stalled_at < 1 << 20
            assert server.bytes_written < 256 << 20
            rss = peak_rss_mib(proc.pid)
            print(f"peak RSS {rss:.0f} MiB, at rest {at_rest:.0f} MiB; "
                  f"server wrote {server.bytes_written >> 20} MiB")  # fmt: skip
            assert rss - at_rest < GROWTH_BOUND_MIB
        finally:
            proc.kill()
            await proc.wait()
            os.close(reader)
