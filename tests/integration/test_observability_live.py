"""Observability against real servers: /metrics, /healthz, /sql, system tables, the CLI faces."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from laminar.demo_server import start_demo_server
from laminar.errors import LaminarError
from laminar.observability.metrics import METRIC_NAMES
from laminar.observability.server import start_server
from laminar.sql.engine import Engine

STOCKS = """
CREATE TABLE stock_stream (
    symbol TEXT, price DECIMAL, volume BIGINT, timestamp TIMESTAMP
) WITH (
    connector = 'sse_source', connection = 'stock_sse', endpoint = '{url}', format = 'json'
);
"""
DOC_RATE_QUERY = """
SELECT
    COUNT(*) as events_per_minute,
    AVG(processing_time_ms) as avg_processing_time
FROM system.connector_metrics
WHERE connector = 'sse_source'
AND timestamp > NOW() - INTERVAL '1 minute';
"""
DOC_LOGS_QUERY = """
SELECT * FROM system.connector_logs
WHERE connector = 'sse_source'
AND level = 'ERROR'
ORDER BY timestamp DESC
LIMIT 10;
"""
DOC_STATUS_QUERY = "SELECT * FROM system.connector_status WHERE connector_name = 'sse_source';"


@pytest_asyncio.fixture
async def demo() -> AsyncIterator[str]:
    runner, url = await start_demo_server()
    yield url
    await runner.cleanup()


async def _drain(engine: Engine, sql: str) -> int:
    [query] = engine.execute(sql)
    rows = 0
    async for lines in query.json_batches():  # type: ignore[union-attr]
        rows += len(lines)
    return rows


async def test_document_queries_answer_from_a_finished_stream(demo: str) -> None:
    engine = Engine()
    engine.execute(STOCKS.format(url=f"{demo}/stocks?count=500&rate=0&epoch=0"))
    alerts = await _drain(engine, "SELECT * FROM stock_stream WHERE price > 1000 OR price < 10")
    [rate] = engine.execute(DOC_RATE_QUERY)
    count, avg_ms = rate.rows[0]  # type: ignore[union-attr]
    assert count == 500  # exactly the events of that minute
    assert avg_ms > 0
    [logs] = engine.execute(DOC_LOGS_QUERY)
    assert logs.rows == []  # type: ignore[union-attr]
    [status] = engine.execute(DOC_STATUS_QUERY)
    row = status.as_dicts()[0]  # type: ignore[union-attr]
    assert row["table_name"] == "stock_stream" and row["status"] == "idle"  # query ended
    # the run's counters survive the query, on the engine's own registry
    metrics = _families(engine)
    labels = {"table": "stock_stream", "connection": "stock_sse"}
    assert _value(metrics, "laminar_sse_events_received_total", labels) == 500
    assert _value(metrics, "laminar_sse_rows_emitted_total", labels) == alerts
    assert _value(metrics, "laminar_sse_event_lag_ms_count", labels) == 500
    # epoch=0: payload timestamps are in 1970, so every event's source lag is in +Inf
    assert _value(metrics, "laminar_sse_event_source_lag_ms_count", labels) == 500
    top = {**labels, "le": "600000.0"}
    assert _value(metrics, "laminar_sse_event_source_lag_ms_bucket", top) == 0
    [info] = engine.execute(
        "SELECT message FROM system.connector_logs WHERE level = 'INFO' ORDER BY timestamp"
    )
    assert any("connected to" in m for (m,) in info.rows)  # type: ignore[union-attr]


async def test_failures_show_in_logs_health_and_metrics(demo: str) -> None:
    engine = Engine()
    engine.execute(STOCKS.format(url=f"{demo}/secure/stocks?token=wrong"))  # 401
    server = await start_server(engine)
    try:
        with pytest.raises(LaminarError):
            await _drain(engine, "SELECT * FROM stock_stream")
        [logs] = engine.execute(DOC_LOGS_QUERY)
        rows = logs.as_dicts()  # type: ignore[union-attr]
        assert {r["table_name"] for r in rows} == {"stock_stream"}
        assert any("401" in r["message"] for r in rows)
        assert not any("wrong" in r["message"] for r in rows)  # the token never shows
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.url}/healthz") as resp:
                assert resp.status == 503
                assert (await resp.json())["status"] == "failed"
            async with http.get(f"{server.url}/metrics") as resp:
                text = await resp.text()
        assert 'laminar_connector_log_records_total{level="ERROR"} 0.0' not in text
        assert "wrong" not in text and "secure" not in text
    finally:
        await server.close()


async def test_metrics_healthz_and_sql_while_the_stream_runs(demo: str) -> None:
    engine = Engine()
    engine.execute(STOCKS.format(url=f"{demo}/stocks?rate=400&count=600"))
    [query] = engine.execute("SELECT symbol FROM stock_stream")
    server = await start_server(engine)
    rows = 0

    async def consume() -> None:
        nonlocal rows
        async for lines in query.json_batches():  # type: ignore[union-attr]
            rows += len(lines)

    task = asyncio.create_task(consume())
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):  # until some events went through
                await asyncio.sleep(0.05)
                if rows >= 40:
                    break
            async with http.get(f"{server.url}/healthz") as resp:
                assert resp.status == 200
                assert (await resp.json())["status"] == "ok"
            async with http.get(f"{server.url}/metrics") as resp:
                assert resp.status == 200
                families = {
                    f.name: f for f in text_string_to_metric_families(await resp.text())
                }
            async with http.post(f"{server.url}/sql", data=DOC_STATUS_QUERY) as resp:
                assert resp.status == 200
                [result] = (await resp.json())["results"]
            drop = {"sql": "DROP TABLE stock_stream"}
            async with http.post(f"{server.url}/sql", json=drop) as resp:
                assert resp.status == 400
                assert "read-only" in (await resp.json())["error"]
    finally:
        await asyncio.wait_for(task, 10)  # the feed ends (count), so does the query
        await server.close()

    samples = {s.name: s for f in families.values() for s in f.samples}
    for name in METRIC_NAMES:  # every documented family is exposed
        base = name.removesuffix("_total")
        assert base in families or name in samples, name
    status = samples["laminar_sse_connection_status"]
    assert status.labels == {"table": "stock_stream", "connection": "stock_sse"}
    assert status.value == 1
    assert samples["laminar_sse_events_received_total"].value >= 40
    assert samples["laminar_sse_bytes_received_total"].value > 0
    assert samples["laminar_sse_reconnection_attempts_total"].value == 0
    for family in families.values():  # labels never carry a URL
        for sample in family.samples:
            assert not any("http" in v or "/" in v for v in sample.labels.values())
    row = dict(zip(result["columns"], result["rows"][0], strict=True))
    assert row["status"] == "connected" and row["query_state"] == "running"
    assert row["events_received"] >= 40 and row["connected_since"].endswith("Z")


def _families(engine: Engine) -> dict[str, float]:
    from prometheus_client import generate_latest

    text = generate_latest(engine.observability.registry).decode()
    return {
        f"{s.name}{sorted(s.labels.items())}": s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }


def _value(samples: dict[str, float], name: str, labels: dict[str, str]) -> float:
    return samples[f"{name}{sorted(labels.items())}"]


# -- the command line: run --metrics-port, sql --connect, status ---------------------------


def _laminar(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "laminar", *args],
        capture_output=True, text=True, timeout=30, check=False, **kwargs,  # type: ignore[call-overload]
    )


async def test_cli_connects_to_a_running_pipeline(demo: str, tmp_path: Path) -> None:
    pipeline = tmp_path / "p.sql"
    pipeline.write_text(
        STOCKS.format(url=f"{demo}/stocks?rate=200")
        + "SELECT * FROM stock_stream WHERE price > 1000 OR price < 10;\n"
    )
    env = {**os.environ, "LAMINAR_STATE_DIR": "none"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "laminar", "run", str(pipeline), "--metrics-port", "0",
        "--progress", "off",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )
    try:
        url = None
        assert proc.stderr is not None
        while url is None:
            line = (await asyncio.wait_for(proc.stderr.readline(), 20)).decode()
            assert line, "laminar run ended before serving metrics"
            found = re.search(r"metrics on (http://\S+)/metrics", line)
            url = found.group(1) if found else None
        for _ in range(20):  # until the pipeline's source is connected
            sql = await asyncio.to_thread(
                _laminar, "sql", "--connect", url, "-e",
                "SELECT table_name, status FROM system.connector_status",
            )
            assert sql.returncode == 0, sql.stderr
            if json.loads(sql.stdout)["status"] == "connected":
                break
            await asyncio.sleep(0.25)
        assert json.loads(sql.stdout) == {"table_name": "stock_stream", "status": "connected"}
        status = await asyncio.to_thread(_laminar, "status", "--connect", url)
        assert status.returncode == 0, status.stderr
        assert "stock_stream (connection stock_sse): connected" in status.stdout
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:  # shutdown is not this test's subject
            proc.kill()
            await proc.wait()
    refused = await asyncio.to_thread(_laminar, "status", "--connect", url)
    assert refused.returncode == 1 and "cannot reach a laminar process" in refused.stderr
