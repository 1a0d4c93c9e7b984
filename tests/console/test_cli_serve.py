"""``laminar serve`` and ``laminar run --console`` as processes: the URL, the API, SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.console.test_api import TABLE


@pytest.fixture
def demo_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "laminar", "demo-server", "--port", "0", "--rate", "50"],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    yield url
    proc.terminate()
    proc.wait(30)


def _get(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())


def _wait_rows(base: str, token: str) -> dict:
    import time

    deadline = time.monotonic() + 60
    while True:
        (pipeline,) = _get(f"{base}/api/v1/pipelines", token)["pipelines"]
        if pipeline["rows_out"] > 0:
            return pipeline
        assert time.monotonic() < deadline, pipeline
        time.sleep(0.1)


@pytest.mark.parametrize("command", ["serve", "run"])
def test_serve_prints_a_token_url_runs_the_file_and_stops_on_sigterm(
    command: str, demo_url: str, tmp_path: Path
) -> None:
    pipeline = tmp_path / "p.sql"
    pipeline.write_text(TABLE.format(url=demo_url) + "\nSELECT symbol, price FROM stocks;\n")
    args = (
        ["serve", str(pipeline), "--port", "0"] if command == "serve"
        else ["run", str(pipeline), "--console", "--console-port", "0"]
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "laminar", *args, "--state-dir", str(tmp_path / "state")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # serve: the URL is stdout's first line; run --console keeps stdout for rows
        url_stream = proc.stdout if command == "serve" else proc.stderr
        assert url_stream is not None
        login = _login_line(url_stream)
        assert login.startswith("http://127.0.0.1:") and "/?token=" in login, login
        base, token = login.split("/?token=")
        assert len(token) >= 24
        running = _wait_rows(base, token)
        assert running["state"] == "running" and running["table"] == "stocks"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/api/v1/pipelines", timeout=30)
        assert refused.value.code == 401
        if command == "run":  # the rows, as a plain `laminar run` writes them
            assert proc.stdout is not None
            row = json.loads(proc.stdout.readline())
            assert set(row) == {"symbol", "price"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        assert token not in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _login_line(stream: IO[str]) -> str:
    """The first line that is a URL (run --console: after the file's messages on stderr)."""
    for line in stream:
        if line.startswith("http"):
            return line.strip()
    raise AssertionError("no login URL before the stream ended")


def test_serve_refuses_a_public_bind_without_a_token(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "laminar", "serve", "--port", "0", "--console-host", "0.0.0.0",
         "--console-token", "", "--state-dir", "none"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    assert "needs a token" in proc.stderr and "--console-token TOKEN" in proc.stderr
