"""Sink connectors end to end: INSERT INTO filesystem (JSON lines, Parquet), webhook, blackhole.

Real SSE and HTTP servers on 127.0.0.1; pipelines run in-process with run_all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from aiohttp import web
from tests.support.sse_server import SSEServer, Stream, format_event, raw

from laminar.errors import ConfigError, PipelineError
from laminar.sql.continuous import ContinuousQuery
from laminar.sql.engine import Engine
from laminar.sql.pipelines import run_all


def feed(count: int) -> Stream:
    return Stream(
        raw(b"".join(format_event(json.dumps({"n": i, "p": i * 1.5}), id=str(i))
                     for i in range(1, count + 1)))
    )  # fmt: skip


async def run(sql: str) -> list[ContinuousQuery]:
    engine = Engine()
    queries = [r for r in engine.execute(sql) if isinstance(r, ContinuousQuery)]
    await run_all(queries)
    return queries


def source(url: str) -> str:
    return (
        f"CREATE TABLE src (n INTEGER, p DOUBLE) WITH (endpoint = '{url}', "
        "buffer_size = 100, buffer_timeout_ms = 5, reconnect_interval_ms = 10);"
    )


@pytest.mark.parametrize("fmt", ["json", "parquet"])
async def test_filesystem_rolls_by_size_and_files_are_whole(tmp_path: Path, fmt: str) -> None:
    async with SSEServer(feed(1000)) as server:
        await run(
            source(server.url)
            + f"""CREATE TABLE out (n INTEGER, doubled DOUBLE) WITH (connector = 'filesystem',
                path = '{tmp_path}', format = '{fmt}', rollover_size = '4k');
            INSERT INTO out SELECT n, p * 2 AS doubled FROM src WHERE n % 2 = 0;"""
        )
    paths = sorted(tmp_path.glob(f"out-*.{'jsonl' if fmt == 'json' else 'parquet'}"))
    assert len(paths) > 1  # rolled by size
    assert not list(tmp_path.glob(".*"))  # no in-progress file left behind
    rows: list[dict] = []
    for path in paths:
        if fmt == "json":
            rows.extend(json.loads(line) for line in path.read_text().splitlines())
        else:
            rows.extend(pq.read_table(path).to_pylist())
    assert [r["n"] for r in rows] == list(range(2, 1001, 2))
    assert rows[0] == {"n": 2, "doubled": 6.0}  # the sink's columns, in its order


async def test_webhook_posts_batches_and_retries_with_backoff(tmp_path: Path) -> None:
    bodies: list[list[dict]] = []
    answers = [503, 429, 200]

    async def hook(request: web.Request) -> web.Response:
        status = answers.pop(0) if answers else 200
        if status == 200:
            bodies.append(await request.json())
            assert request.headers["X-Token"] == "s3cret"
        return web.Response(status=status, headers={"Retry-After": "0"})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with SSEServer(feed(25)) as server:
            await run(
                source(server.url)
                + f"""CREATE TABLE hook (n INTEGER) WITH (connector = 'webhook',
                    url = 'http://127.0.0.1:{port}/hook', headers = 'X-Token: s3cret',
                    batch_size = 10, retry_backoff_ms = 1);
                INSERT INTO hook SELECT n FROM src;"""
            )
    finally:
        await runner.cleanup()
    assert [r["n"] for body in bodies for r in body] == list(range(1, 26))
    assert max(len(b) for b in bodies) <= 10


async def test_webhook_gives_up_with_a_pipeline_error() -> None:
    async with SSEServer(feed(3)) as server:
        with pytest.raises(PipelineError, match=r"webhook .*after 1 retries"):
            await run(
                source(server.url)
                + """CREATE TABLE hook (n INTEGER) WITH (connector = 'webhook',
                    url = 'http://127.0.0.1:9/hook?token=abc', max_retries = 1,
                    retry_backoff_ms = 1);
                INSERT INTO hook SELECT n FROM src;"""
            )


async def test_blackhole_counts_rows() -> None:
    async with SSEServer(feed(50)) as server:
        engine = Engine()
        [query] = [
            r
            for r in engine.execute(
                source(server.url)
                + "CREATE TABLE bh (n INTEGER) WITH (connector = 'blackhole');"
                "INSERT INTO bh SELECT n FROM src;"
            )
            if isinstance(r, ContinuousQuery)
        ]
        from laminar.sinks.blackhole import BlackholeSink

        sink = BlackholeSink("bh")
        await run_all([query], sinks=[sink])
    assert sink.rows_written == 50


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("connector = 'filesytem', path = 'x'", "did you mean 'filesystem'"),
        ("connector = 'filesystem', paht = 'x'", "unknown option 'paht' — did you mean 'path'"),
        ("connector = 'filesystem'", "needs option path"),
        ("connector = 'filesystem', path = 'x', format = 'csv'", "expected one of json, parquet"),
        ("connector = 'webhook', url = 'ftp://x'", "http:// or https://"),
        ("connector = 'webhook', url = 'http://h', batch_size = 0", "batch_size"),
    ],
)
def test_sink_options_are_checked_when_the_table_is_created(options: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Engine().execute(f"CREATE TABLE out (n INTEGER) WITH ({options})")


def test_show_tables_hides_webhook_secrets() -> None:
    engine = Engine()
    engine.execute(
        "CREATE TABLE hook (n INTEGER) WITH (connector = 'webhook', "
        "url = 'https://h/x?api_key=k3y', headers = 'Authorization: Bearer t0k')"
    )
    [rows] = engine.execute("SHOW TABLES")
    text = repr(rows)
    assert "k3y" not in text and "t0k" not in text
    assert "webhook" in text


async def test_webhook_errors_never_show_a_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOOK_SECRET", "T000-B000-XXXXsecretXXXX")
    async with SSEServer(feed(3)) as server:
        with pytest.raises(PipelineError) as info:
            await run(
                source(server.url)
                + """CREATE TABLE hook (n INTEGER) WITH (connector = 'webhook',
                    url = 'http://127.0.0.1:9/services/${HOOK_SECRET}', max_retries = 0,
                    retry_backoff_ms = 1);
                INSERT INTO hook SELECT n FROM src;"""
            )
    assert "XXXXsecretXXXX" not in str(info.value)
    assert "${HOOK_SECRET}" in str(info.value)  # the URL as written, so the user can tell
