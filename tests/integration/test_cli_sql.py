"""`laminar run` and `laminar sql` as a user runs them: subprocesses against the demo feed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from laminar.demo_server import start_demo_server

PIPELINE = """
CREATE TABLE stock_stream (symbol TEXT, price DECIMAL, volume BIGINT, timestamp TIMESTAMP)
WITH (connector = 'sse_source', endpoint = '${LAMINAR_DEMO}/stocks', buffer_timeout_ms = 20);
CREATE VIEW price_alerts AS SELECT * FROM stock_stream WHERE price > 1000 OR price < 10;
"""


@pytest.fixture
async def demo() -> AsyncIterator[str]:
    runner, url = await start_demo_server(rate=300)
    try:
        yield url
    finally:
        await runner.cleanup()


async def laminar(
    *args: str, url: str, cwd: Path, stdin: str | None = None, timeout: float = 30
) -> tuple[int, str, str]:
    """Run the CLI in ``cwd`` (a fresh directory: its state store starts empty)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "laminar", *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "LAMINAR_DEMO": url},
        cwd=cwd,
    )
    out, err = await asyncio.wait_for(
        proc.communicate(stdin.encode() if stdin is not None else None), timeout
    )
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_run_streams_json_lines_and_exits_0(demo: str, tmp_path: Path) -> None:
    pipeline = tmp_path / "alerts.sql"
    pipeline.write_text(PIPELINE + "SELECT symbol, price FROM price_alerts LIMIT 4;")
    code, out, err = await laminar("run", str(pipeline), url=demo, cwd=tmp_path)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 4
    assert all(set(r) == {"symbol", "price"} for r in rows)
    assert all(r["price"] > 1000 or r["price"] < 10 for r in rows)
    assert "CREATE TABLE stock_stream" in err and "CREATE VIEW price_alerts" in err


async def test_run_reports_errors_with_position_and_exits_1(demo: str, tmp_path: Path) -> None:
    pipeline = tmp_path / "bad.sql"
    pipeline.write_text(PIPELINE + "SELECT * FROM price_alert LIMIT 1;")
    code, out, err = await laminar("run", str(pipeline), url=demo, cwd=tmp_path)
    assert code == 1
    assert out == ""
    assert "line 5, column 1" in err and "did you mean 'price_alerts'" in err
    assert "Traceback" not in err


async def test_run_stops_cleanly_on_sigterm(demo: str, tmp_path: Path) -> None:
    pipeline = tmp_path / "forever.sql"
    pipeline.write_text(PIPELINE + "SELECT symbol FROM stock_stream;")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "laminar", "run", str(pipeline),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "LAMINAR_DEMO": demo},
        cwd=tmp_path,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = await asyncio.wait_for(proc.stdout.readline(), 20)
    assert json.loads(first)["symbol"]
    proc.send_signal(signal.SIGTERM)
    await asyncio.wait_for(proc.wait(), 10)
    err = (await proc.stderr.read()).decode()
    assert proc.returncode == 0, err
    assert "Traceback" not in err


async def test_sql_execute_prints_rows_and_catalog(demo: str, tmp_path: Path) -> None:
    code, out, err = await laminar(
        "sql", "-e", PIPELINE + "SELECT symbol FROM price_alerts LIMIT 2; SHOW VIEWS;",
        url=demo,
        cwd=tmp_path,
    )
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(lines) == 3
    assert lines[2]["name"] == "price_alerts"


async def test_sql_shell_reads_statements_from_stdin(demo: str, tmp_path: Path) -> None:
    script = PIPELINE + "DESCRIBE price_alerts;\nSELECT\n  symbol\nFROM price_alerts\nLIMIT 1;\n"
    code, out, err = await laminar("sql", url=demo, cwd=tmp_path, stdin=script)
    assert code == 0, err
    assert '"column_name":"symbol"' in out
    assert sum(line.startswith('{"symbol"') for line in out.splitlines()) == 1


async def test_sql_shell_keeps_going_after_an_error(demo: str, tmp_path: Path) -> None:
    code, out, err = await laminar(
        "sql",
        url=demo,
        cwd=tmp_path,
        stdin="SELEC 1;\nSELECT 42 AS answer FROM system.connector_status;\nSHOW TABLES;\n",
    )
    assert code == 0
    assert "did you mean 'SELECT'" in err
    assert out.strip() == ""  # no table: no rows from either query


async def test_run_a_windowed_pipeline_and_sql_shell(demo: str, tmp_path: Path) -> None:
    pipeline = tmp_path / "windows.sql"
    pipeline.write_text(
        "CREATE TABLE trades (symbol TEXT, price DECIMAL, volume BIGINT, timestamp TIMESTAMP)"
        " WITH (endpoint = '${LAMINAR_DEMO}/stocks?rate=0&count=3000&step_ms=10&"
        "epoch=2026-01-01T00:00:00Z', event_time_field = 'timestamp');\n"
        "SELECT COUNT(*) AS n, TUMBLE(INTERVAL '10' SECOND) AS window FROM trades "
        "GROUP BY window;\n"
    )
    code, out, err = await laminar("run", str(pipeline), url=demo, cwd=tmp_path)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [r["n"] for r in rows] == [999, 1000, 1000, 1]
    assert rows[0]["window"] == {"start": "2026-01-01T00:00:00.000000Z",
                                 "end": "2026-01-01T00:00:10.000000Z"}
    shell = tmp_path / "shell"  # a fresh state directory: the first run committed its end
    shell.mkdir()
    code, out, err = await laminar(
        "sql", url=demo, cwd=shell,
        stdin=pipeline.read_text().replace("GROUP BY window;", "GROUP BY window LIMIT 2;"),
    )
    assert code == 0, err
    assert [json.loads(line)["n"] for line in out.splitlines() if line.startswith("{")] == [
        999, 1000]


async def test_a_table_that_drops_every_event_says_so_once(demo: str, tmp_path: Path) -> None:
    # symbol INT over the stocks feed (issue 9, item 13): every event fails to convert. With
    # stdout a pipe, stderr must say so once, with the reason and what to do, not per event.
    pipeline = tmp_path / "mistyped.sql"
    pipeline.write_text(
        "CREATE TABLE stock_stream (symbol INT, price DECIMAL) WITH (connector = 'sse_source', "
        "endpoint = '${LAMINAR_DEMO}/stocks', buffer_timeout_ms = 20);\n"
        "SELECT * FROM stock_stream;"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "laminar", "run", str(pipeline),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "LAMINAR_DEMO": demo}, cwd=tmp_path,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    seen = []
    while not any("dropped a bad event" in line for line in seen):
        line = await asyncio.wait_for(proc.stderr.readline(), 20)
        assert line, f"no drop warning before the end of stderr: {seen}"
        seen.append(line.decode())
    # Enough further drops to have flooded stderr, were it one line per event.
    await asyncio.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, rest = await asyncio.wait_for(proc.communicate(), 20)
    err = "".join(seen) + rest.decode()
    assert out == b""
    [warning] = [line for line in err.splitlines() if "dropped a bad event" in line]
    assert "column 'symbol': cannot convert a string" in warning
    assert "capture_errors = true" in warning and "system.connector_status" in warning
    assert len([line for line in err.splitlines() if "dropped" in line]) <= 2  # + one summary


async def test_sql_execute_keeps_messages_off_stdout(demo: str, tmp_path: Path) -> None:
    # `laminar sql -e` (issue 9, item 16): stdout holds rows only, like `laminar run`.
    code, out, err = await laminar(
        "sql", "-e", PIPELINE + "SELECT symbol FROM price_alerts LIMIT 2;",
        url=demo, cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    assert [sorted(json.loads(line)) for line in out.splitlines()] == [["symbol"], ["symbol"]]
    assert "CREATE TABLE stock_stream" in err and "CREATE VIEW price_alerts" in err
