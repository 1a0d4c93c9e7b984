"""``laminar probe`` against real SSE servers on 127.0.0.1: the API, the CLI, the DDL runs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from laminar.cli import build_parser, tail_options
from laminar.cli_console import probe_options
from laminar.demo_server import start_demo_server
from laminar.errors import LaminarError
from laminar.probe import probe_stream
from laminar.sql.engine import Engine
from tests.support.sse_server import SSEServer, Stream, event, stall


async def test_probe_a_local_server_then_read_through_the_proposed_table() -> None:
    payloads = [
        {"user": {"id": i, "name": f"u{i}"}, "amount": i * 1.5, "count": i,
         "created_at": 1733450000 + i, "ok": i % 2 == 0}
        for i in range(1, 6)
    ]
    steps = [event(json.dumps(p), event="order", id=str(i), retry=500 if i == 1 else None)
             for i, p in enumerate(payloads, 1)]
    server = SSEServer(Stream(*steps, stall()), Stream(*steps))  # the probe, then the query
    await server.start()
    try:
        report = await probe_stream({"endpoint": server.url}, seconds=1.0, table="orders")
        assert report.events >= 5
        assert report.event_types["order"] >= 5
        assert report.retry == [500]
        types = {c.name: c.type for c in report.columns}
        assert types == {"user": "JSON", "amount": "DOUBLE", "count": "BIGINT",
                         "created_at": "TIMESTAMP", "ok": "BOOLEAN"}
        engine = Engine()
        engine.execute(report.ddl)
        (query,) = engine.execute('SELECT "user", created_at, event_id FROM orders LIMIT 3')
        rows = []
        async for batch in query.json_batches():  # type: ignore[union-attr]
            rows.extend(json.loads(r) for r in batch)
        assert [r["event_id"] for r in rows] == ["1", "2", "3"]
        assert rows[0]["user"] == {"id": 1, "name": "u1"}
        assert rows[0]["created_at"].startswith("2024-12-06")
    finally:
        await server.close()


async def test_probe_of_a_silent_stream_says_so() -> None:
    server = SSEServer()  # answers 204: the stream ends at once
    await server.start()
    try:
        with pytest.raises(LaminarError, match="no events"):
            await probe_stream({"endpoint": server.url}, seconds=0.5)
    finally:
        await server.close()


async def test_cli_probe_prints_a_create_table_that_runs() -> None:
    runner, url = await start_demo_server(rate=50.0)
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "laminar", "probe", f"{url}/stocks", "--seconds", "1",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        text = out.decode()
        assert "event types: price" in text
        ddl = text[text.index("-- laminar probe"):]
        Engine().execute(ddl)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "laminar", "probe", f"{url}/social", "--seconds", "1",
            "--json", "--table", "posts", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        report = json.loads(out)
        assert {c["name"]: c["type"] for c in report["columns"]}["metrics"] == "JSON"
        assert "CREATE TABLE posts" in report["ddl"]
    finally:
        await runner.cleanup()


def test_cli_probe_validates_its_options() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "laminar", "probe", "http://127.0.0.1:9/x", "--seconds", "0"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2 and "--seconds" in proc.stderr


async def test_cli_probe_reads_the_body_from_a_file_as_curl_does(tmp_path) -> None:
    body = '{"model": "m", "stream": true}\n'
    (tmp_path / "body.json").write_text(body)
    server = SSEServer(Stream(event('{"n": 1}', id="1"), event('{"n": 2}', id="2"), stall()))
    await server.start()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "laminar", "probe", server.url, "--seconds", "0.5",
            "-d", f"@{tmp_path / 'body.json'}", "--json",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        assert json.loads(out)["events"] >= 2
        (request,) = server.requests
        assert request.method == "POST"  # -d alone means POST
        assert request.body.decode() == body
    finally:
        await server.close()


def test_probe_and_tail_read_their_flags_alike(tmp_path) -> None:
    (tmp_path / "b").write_text("x=1")
    flags = ["-H", "A: b", "--token", "t", "-X", "put", "-d", f"@{tmp_path / 'b'}",
             "-o", "retry=5"]
    parser = build_parser()
    probe = parser.parse_args(["probe", ":9/x", *flags])
    tail = parser.parse_args(["tail", ":9/x", *flags])
    assert probe_options(probe) == tail_options(tail) == {
        "endpoint": "http://127.0.0.1:9/x", "headers": {"A": "b"}, "token": "t",
        "method": "PUT", "body": "x=1", "retry": "5",
    }
