"""The monitoring port: caps on POST /sql, the optional bearer token, the exposure warning."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import aiohttp
import pytest

from laminar.errors import ConfigError
from laminar.observability.access import exposure_warning, is_loopback, resolve_token
from laminar.observability.server import start_server
from laminar.sql.engine import Engine
from laminar.sql.limits import ResultLimits


async def _post_sql(url: str, sql: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.post(
        f"{url}/sql", data=sql, headers=headers or {}
    ) as resp:
        return resp.status, await resp.json()


async def test_sql_row_cap_answers_a_clear_error() -> None:
    server = await start_server(Engine(), limits=ResultLimits(max_rows=100))
    try:
        status, body = await _post_sql(server.url, "SELECT * FROM range(10000000)")
        assert status == 400
        assert "more than 100 rows" in body["error"] and "LAMINAR_SQL_MAX_ROWS" in body["error"]
        status, body = await _post_sql(server.url, "SELECT * FROM range(100)")
        assert status == 200 and len(body["results"][0]["rows"]) == 100
        # the server stays healthy after a refused query
        async with aiohttp.ClientSession() as session, session.get(f"{server.url}/healthz") as r:
            assert r.status == 200
    finally:
        await server.close()


async def test_console_and_monitoring_sql_answer_a_cap_alike() -> None:
    """One implementation behind both POST /sql routes: same cap, same error, same rows."""
    from laminar.console.app import start_console

    limits = ResultLimits(max_rows=100)
    server = await start_server(Engine(), limits=limits)
    console = await start_console(Engine(), token="t" * 24, limits=limits)
    auth = {"Authorization": "Bearer " + "t" * 24}
    try:
        answers = []
        for sql in ("SELECT * FROM range(101)", "SELECT * FROM range(100)"):
            monitoring = await _post_sql(server.url, sql)
            async with aiohttp.ClientSession() as session, session.post(
                f"{console.url}/api/v1/sql", json={"sql": sql}, headers=auth
            ) as resp:
                answers.append((monitoring, (resp.status, await resp.json())))
        (refused, refused_too), (served, served_too) = answers
        assert refused == refused_too
        assert refused[0] == 400 and "more than 100 rows" in refused[1]["error"]
        assert set(refused[1]) == {"error", "line", "column"}
        assert served == served_too and len(served[1]["results"][0]["rows"]) == 100
    finally:
        await console.close()
        await server.close()


async def test_sql_byte_cap() -> None:
    server = await start_server(Engine(), limits=ResultLimits(max_bytes=10_000))
    try:
        status, body = await _post_sql(server.url, "SELECT repeat('x', 1000) FROM range(50)")
        assert status == 400
        assert "larger than 10000 bytes" in body["error"]
        assert "LAMINAR_SQL_MAX_BYTES" in body["error"]
    finally:
        await server.close()


async def test_sql_time_cap_interrupts_the_query() -> None:
    server = await start_server(Engine(), limits=ResultLimits(timeout_s=0.2))
    try:
        # a cross join that runs for minutes uncapped
        sql = (
            "SELECT count(*) FROM range(100000000) a, range(100000000) b "
            "WHERE a.range + b.range = 7"
        )
        status, body = await _post_sql(server.url, sql)
        assert status == 400
        assert "more than 0.2 s" in body["error"] and "LAMINAR_SQL_TIMEOUT_S" in body["error"]
    finally:
        await server.close()


def test_limits_from_env_are_validated() -> None:
    assert ResultLimits.from_env({"LAMINAR_SQL_MAX_ROWS": "5"}).max_rows == 5
    with pytest.raises(ConfigError, match="LAMINAR_SQL_TIMEOUT_S"):
        ResultLimits.from_env({"LAMINAR_SQL_TIMEOUT_S": "soon"})


async def test_token_guards_every_route() -> None:
    server = await start_server(Engine(), token="s3cret")
    try:
        async with aiohttp.ClientSession() as session:
            for path in ("/metrics", "/healthz", "/status"):
                async with session.get(server.url + path) as resp:
                    assert resp.status == 401
                    assert "s3cret" not in await resp.text()
                async with session.get(
                    server.url + path, headers={"Authorization": "Bearer wrong"}
                ) as resp:
                    assert resp.status == 401
                async with session.get(
                    server.url + path, headers={"Authorization": "Bearer s3cret"}
                ) as resp:
                    assert resp.status == 200
        status, _ = await _post_sql(server.url, "SHOW TABLES")
        assert status == 401
        status, _ = await _post_sql(
            server.url, "SHOW TABLES", headers={"Authorization": "Bearer s3cret"}
        )
        assert status == 200
    finally:
        await server.close()


def test_token_resolution_and_loopback() -> None:
    assert resolve_token(None, {}) is None
    assert resolve_token(None, {"LAMINAR_METRICS_TOKEN": "abc"}) == "abc"
    assert resolve_token("flag", {"LAMINAR_METRICS_TOKEN": "abc"}) == "flag"
    with pytest.raises(ConfigError, match="--metrics-token"):
        resolve_token("has space", {})
    for host in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"):
        assert is_loopback(host), host
        assert exposure_warning(host, None) is None
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.com"):
        assert not is_loopback(host), host
    assert "--metrics-token" in (exposure_warning("0.0.0.0", None) or "")
    assert "bearer token" in (exposure_warning("0.0.0.0", "t") or "")


async def test_start_server_logs_the_exposure(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="laminar.observability"):
        server = await start_server(Engine(), host="0.0.0.0", token="tok")
    await server.close()
    assert any("beyond this machine" in r.getMessage() for r in caplog.records)
    assert not any("tok" in r.getMessage().split("beyond")[0] for r in caplog.records)


def test_cli_status_sends_the_token_from_the_environment(tmp_path) -> None:
    """`laminar status` against a token-guarded port: refused without, answered with."""
    import asyncio
    import threading

    ready = threading.Event()
    holder: dict = {}

    def serve() -> None:
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(start_server(Engine(), token="tok-123"))
        holder["url"], holder["loop"], holder["server"] = server.url, loop, server
        ready.set()
        loop.run_forever()
        loop.run_until_complete(server.close())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        env = {k: v for k, v in os.environ.items() if k != "LAMINAR_METRICS_TOKEN"}
        cmd = [sys.executable, "-m", "laminar", "status", "--connect", holder["url"]]
        refused = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1
        assert "LAMINAR_METRICS_TOKEN" in refused.stderr
        ok = subprocess.run(
            cmd, env={**env, "LAMINAR_METRICS_TOKEN": "tok-123"}, capture_output=True,
            text=True, timeout=60,
        )
        assert ok.returncode == 0, ok.stderr
    finally:
        holder["loop"].call_soon_threadsafe(holder["loop"].stop)
        thread.join(30)


def test_cli_run_warns_on_a_public_metrics_host_and_takes_a_token(tmp_path) -> None:
    demo = subprocess.Popen(
        [sys.executable, "-m", "laminar", "demo-server", "--port", "0", "--rate", "200"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert demo.stdout is not None
        url = demo.stdout.readline().strip()
        pipeline = tmp_path / "p.sql"
        pipeline.write_text(
            "CREATE TABLE s (symbol TEXT) WITH (connector = 'sse_source', "
            f"endpoint = '{url}/stocks?count=20', format = 'json');\nSELECT symbol FROM s;\n"
        )
        run = subprocess.run(
            [sys.executable, "-m", "laminar", "run", str(pipeline), "--state-dir", "none",
             "--metrics-port", "0", "--metrics-host", "0.0.0.0", "--metrics-token", "tok-9"],
            capture_output=True, text=True, timeout=120,
        )
        assert run.returncode == 0, run.stderr
        assert "warning: the monitoring port binds 0.0.0.0" in run.stderr
        assert "bearer token" in run.stderr and "tok-9" not in run.stderr
        assert len(run.stdout.splitlines()) == 20
        bad = subprocess.run(
            [sys.executable, "-m", "laminar", "run", str(pipeline), "--state-dir", "none",
             "--metrics-port", "0", "--metrics-token", "a b"],
            capture_output=True, text=True, timeout=120,
        )
        assert bad.returncode == 1 and "--metrics-token" in bad.stderr
    finally:
        demo.terminate()
        demo.wait(30)
