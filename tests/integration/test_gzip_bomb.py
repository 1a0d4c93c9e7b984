"""A compressed stream of blank lines, without end (issue 9, item 5), against `laminar run`.

The process must stay responsive (SIGTERM ends it promptly), and by default the
decompression ratio cap ends the query with a clear error. The bounds here are
generous on purpose (a loaded CI machine): the point is "not starved", not speed.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from tests.support.sse_server import SSEServer, Stream, event

BLANKS = b"\n" * (1 << 20)  # 1 MiB of blank lines compresses to about 1 KiB


async def blank_lines_forever(conn) -> None:  # type: ignore[no-untyped-def]
    while not conn.server.closing.is_set():
        await conn.write(BLANKS)
        await asyncio.sleep(0)  # the test's own loop must keep running too


def pipeline(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "p.sql"
    path.write_text(
        f"CREATE TABLE src (data TEXT) WITH (endpoint = '{url}', format = 'text'{extra});\n"
        "SELECT data FROM src;\n"
    )
    return path


async def start(path: Path, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "laminar", "run", str(path), "--state-dir", "none", *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_sigterm_is_honoured_while_a_gzip_bomb_inflates(tmp_path: Path) -> None:
    stream = Stream(event("first"), blank_lines_forever, compress="gzip")
    async with SSEServer(stream) as server:
        path = pipeline(tmp_path, server.url, ", max_decompression_ratio = 0")
        proc = await start(path, "--metrics-port", "0")
        try:
            assert proc.stdout is not None and proc.stderr is not None
            banner = ""
            while "metrics on " not in banner:  # laminar: metrics on URL/metrics
                line = await asyncio.wait_for(proc.stderr.readline(), 30)
                assert line, "laminar run ended before serving its metrics"
                banner = line.decode()
            metrics = banner.split("metrics on ", 1)[1].strip()
            first = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert b"first" in first  # the client is reading the bomb now
            async with asyncio.timeout(30):
                while server.bytes_written < 256 << 10:  # > 256 MiB inflated
                    await asyncio.sleep(0.05)
            async with aiohttp.ClientSession() as http:  # the monitoring port still answers
                healthz = metrics.removesuffix("/metrics") + "/healthz"
                async with http.get(healthz, timeout=aiohttp.ClientTimeout(total=10)) as r:
                    assert r.status == 200
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 10)  # generous: the fix answers in ms
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert proc.stderr is not None
        err = (await proc.stderr.read()).decode()
        assert "Traceback" not in err


async def test_the_decompression_ratio_cap_ends_the_query_clearly(tmp_path: Path) -> None:
    async with SSEServer(Stream(event("first"), blank_lines_forever, compress="gzip")) as server:
        proc = await start(pipeline(tmp_path, server.url))
        try:
            _, err = await asyncio.wait_for(proc.communicate(), 60)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    text = err.decode()
    assert proc.returncode == 1, text
    assert "max_decompression_ratio" in text and "Traceback" not in text
