"""`laminar tail` (and the CLI skeleton) run as a subprocess against the demo feed."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from laminar.cli import COMMANDS, build_parser, normalize_endpoint, subcommand
from laminar.demo_server import start_demo_server

EPOCH = "2026-11-28T09:00:00Z"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_url():
    """The demo feed on its own loop in a thread, so tests can block on subprocesses."""
    loop = asyncio.new_event_loop()
    started: concurrent.futures.Future = concurrent.futures.Future()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        runner, url = loop.run_until_complete(
            start_demo_server(rate=200, epoch=EPOCH, keepalive_s=0)
        )
        started.set_result(url)
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="demo-server", daemon=True)
    thread.start()
    yield started.result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


def laminar(*args: str, env: dict[str, str] | None = None, timeout: float = 20):
    return subprocess.run(
        [sys.executable, "-m", "laminar", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_json_lines_when_stdout_is_not_a_terminal(demo_url):
    result = laminar("tail", f"{demo_url}/stocks", "--limit", "3")
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    assert [r["id"] for r in records] == ["1", "2", "3"]
    assert all(set(r) == {"event", "data", "id", "retry"} for r in records)
    assert records[0]["retry"] == 1000 and records[1]["retry"] is None
    assert {r["event"] for r in records} <= {"price", "trade"}
    assert json.loads(records[0]["data"])["timestamp"] == "2026-11-28T09:00:00.005Z"


def test_stream_that_ends_with_204_exits_0(demo_url):
    result = laminar("tail", f"{demo_url}/text?count=4&retry=20")
    assert result.returncode == 0, result.stderr
    assert [r["id"] for r in json_lines(result.stdout)] == ["1", "2", "3", "4"]


def test_reconnects_and_resumes_with_last_event_id(demo_url):
    url = f"{demo_url}/sensors?count=9&drop_every=4&retry=20"
    result = laminar("tail", url, "--reconnect-interval-ms", "20")
    assert result.returncode == 0, result.stderr
    assert [r["id"] for r in json_lines(result.stdout)] == [str(n) for n in range(1, 10)]


def test_last_event_id_option(demo_url):
    result = laminar("tail", f"{demo_url}/custom", "--last-event-id", "10", "-n", "2")
    assert [r["id"] for r in json_lines(result.stdout)] == ["11", "12"]


@pytest.mark.parametrize(
    "auth",
    [
        ["--token", "demo-token"],
        ["--token", "${DEMO_TOKEN}"],
        ["--api-key", "demo-token"],
        ["--auth-type", "api_key", "--api-key", "${DEMO_TOKEN}"],
        ["-H", "X-API-Key: demo-token"],
        ["--header", "Authorization: Bearer demo-token"],
    ],
)
def test_auth_options(demo_url, auth):
    result = laminar(
        "tail", f"{demo_url}/secure/stocks", "-n", "1", *auth, env={"DEMO_TOKEN": "demo-token"}
    )
    assert result.returncode == 0, result.stderr
    assert len(json_lines(result.stdout)) == 1


def test_refused_credentials_exit_1_without_leaking_them(demo_url):
    result = laminar("tail", f"{demo_url}/secure/stocks", "--token", "hunter2-secret")
    assert result.returncode == 1
    assert result.stderr.startswith("laminar tail: error: ")
    assert "401" in result.stderr
    assert "hunter2-secret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_post_body_is_sent(demo_url):
    result = laminar("tail", f"{demo_url}/stocks", "-d", '{"count": 2, "retry": 20}')
    assert result.returncode == 0, result.stderr
    assert [r["id"] for r in json_lines(result.stdout)] == ["1", "2"]


def test_body_from_file(demo_url, tmp_path):
    body = tmp_path / "body.json"
    body.write_text('{"count": 1, "retry": 20}')
    result = laminar("tail", f"{demo_url}/text", "-X", "post", "--body", f"@{body}")
    assert result.returncode == 0, result.stderr
    assert len(json_lines(result.stdout)) == 1


def test_gzip_stream(demo_url):
    result = laminar("tail", f"{demo_url}/social?gzip=1", "-n", "5")
    assert result.returncode == 0, result.stderr
    assert len(json_lines(result.stdout)) == 5


def test_multiline_data_is_kept_in_one_record(demo_url):
    result = laminar("tail", f"{demo_url}/bench?workload=multiline&count=10", "-n", "10")
    records = json_lines(result.stdout)
    assert len(records) == 10
    assert all(r["data"].count("\n") == 2 and r["event"] == "tick" for r in records)


def test_pretty_and_data_formats(demo_url):
    pretty = laminar("tail", f"{demo_url}/stocks", "-n", "2", "--format", "pretty")
    lines = pretty.stdout.splitlines()
    assert lines[0].startswith("#1 ") and "(retry 1000 ms)" in lines[0]
    assert "\x1b[" not in pretty.stdout  # no colours when stdout is not a terminal
    data = laminar("tail", f"{demo_url}/stocks", "-n", "2", "--format", "data")
    assert [json.loads(line)["symbol"] for line in data.stdout.splitlines()]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeout-ms", "soon"], "timeout_ms"),
        (["-o", "reconect_interval_ms=10"], "did you mean 'reconnect_interval_ms'"),
        (["--header", "no colon here"], "--header expects 'Name: value'"),
        (["--auth-type", "bearer"], "token"),
        (["-o", "novalue"], "KEY=VALUE"),
    ],
)
def test_bad_options_exit_1_naming_the_option(args, message):
    result = laminar("tail", "http://127.0.0.1:9/x", *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_endpoint_gives_up_after_max_attempts():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = laminar(
        "tail",
        f"127.0.0.1:{port}/stocks",
        "--max-reconnect-attempts",
        "1",
        "--reconnect-interval-ms",
        "10",
    )
    assert result.returncode == 1
    assert result.stderr.startswith("laminar tail: error: ")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_stop_tail_cleanly(demo_url, signum, status):
    proc = subprocess.Popen(
        [sys.executable, "-m", "laminar", "tail", f"{demo_url}/stocks?rate=20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert json.loads(proc.stdout.readline())["id"] == "1"
        proc.send_signal(signum)
        assert proc.wait(timeout=10) == status
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_closed_stdout_ends_quietly(demo_url):
    proc = subprocess.Popen(
        [sys.executable, "-m", "laminar", "tail", f"{demo_url}/stocks?rate=0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        proc.stdout.readline()
        proc.stdout.close()  # like `laminar tail … | head -1`
        assert proc.wait(timeout=10) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_help_is_fast_and_imports_nothing_heavy():
    code = (
        "import sys, contextlib, io\n"
        "from laminar.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
        "heavy = [m for m in ('aiohttp', 'duckdb', 'pyarrow') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
    helped = laminar("--help")
    assert helped.returncode == 0 and "demo-server" in helped.stdout and "tail" in helped.stdout


def test_version_and_no_command():
    version = laminar("--version")
    assert version.returncode == 0 and version.stdout.startswith("laminar ")
    bare = laminar()
    assert bare.returncode == 2 and "usage: laminar" in bare.stderr


def test_subcommand_registry_is_a_table():
    assert {"demo-server", "tail"} <= set(COMMANDS)
    with pytest.raises(ValueError, match="registered twice"):
        subcommand("tail", help="again", arguments=lambda p: None)(lambda args: 0)
    args = build_parser().parse_args(["tail", "/stocks", "-n", "2"])
    assert args.command == "tail" and args.limit == 2


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/stocks", "http://127.0.0.1:8765/stocks"),
        (":9000/text", "http://127.0.0.1:9000/text"),
        ("example.com/events", "http://example.com/events"),
        ("https://example.com/sse", "https://example.com/sse"),
    ],
)
def test_endpoint_shorthands(given, expected):
    assert normalize_endpoint(given) == expected


def test_make_demo_script_runs_and_exits_0():
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "LAMINAR_DEMO_RATE": "500"},
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    alerts = [row for row in rows if "price" in row]
    windows = [row for row in rows if "window" in row]
    assert len(alerts) == 10 and len(windows) == 12  # each query's LIMIT
    assert all(row["price"] > 1000 or row["price"] < 10 for row in alerts)
    assert all(row["trades"] > 0 and row["window"]["end"] > row["window"]["start"]
               for row in windows)
