"""OpenAI-style POST streams (issue 9, item 11): one request, a clean end, no duplicates."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.support.sse_server import RecordingObserver, SSEServer, Stream, event, stall

from laminar.connectors.sse import EventSource
from laminar.demo_server import start_demo_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def test_clean_close_with_reconnection_disabled_ends_after_one_request(
    sse_server: SSEServer,
) -> None:
    sse_server.default = Stream(event('{"n": 1}'), event('{"n": 2}'))  # would serve again
    async with EventSource(
        sse_server.url, method="POST", body="{}", max_reconnect_attempts=0
    ) as source:
        got = [ev.data async for ev in source]
    assert got == ['{"n": 1}', '{"n": 2}']
    assert len(sse_server.requests) == 1
    assert source.state == "closed"


async def test_end_of_stream_data_ends_the_stream_without_an_event(sse_server: SSEServer) -> None:
    sse_server.add(Stream(event("a"), event("b"), event("[DONE]"), event("after"), stall()))
    observer = RecordingObserver()
    async with EventSource(
        sse_server.url, observer, end_of_stream_data="[DONE]", reconnect_interval_ms=10
    ) as source:
        got = [ev.data async for ev in source]  # default reconnection: still one request
    assert got == ["a", "b"]
    assert len(sse_server.requests) == 1
    assert ("stopped", None) in observer.args("on_disconnect")
    assert not [args for args in observer.args("on_log") if args[0] in ("warning", "error")]


async def test_chat_completion_example_runs_once_and_exits_0(tmp_path: Path) -> None:
    runner, url = await start_demo_server()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "laminar", "run", str(EXAMPLES / "chat_completion.sql"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "LAMINAR_DEMO": url},
            cwd=tmp_path,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        await runner.cleanup()
    assert proc.returncode == 0, err.decode()
    rows = [json.loads(line) for line in out.decode().splitlines()]
    tokens = "".join(r["token"] or "" for r in rows)
    assert tokens == "You said: Stream me a short answer (demo reply)"
    assert [r["finish_reason"] for r in rows].count("stop") == 1  # one request: no repeat
    assert "[DONE]" not in out.decode()
    assert "WARNING" not in err.decode() and "Traceback" not in err.decode()
