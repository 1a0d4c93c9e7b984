"""End to end as users run it: `laminar run` as a process, a TIMESTAMP column, rows into a file.

Laminar: ``laminar run --state-dir none --format json pipeline.sql > out.jsonl`` on the
product document's stock table (``symbol TEXT, price DECIMAL, volume BIGINT``, and the
time as ``ts TIMESTAMP``: the payload's epoch milliseconds) with ``SELECT * FROM
stock_stream WHERE price > 1000 OR price < 10``. The peers are hand-written pipelines,
each its own process too: an SSE client (launchdarkly-eventsource, httpx-sse) + orjson + a
Python filter + orjson output into a file. Start-up is included on both sides. The
server (client_bench.serve, another process) answers the reconnection after its stream
with 204, which ends every side. Every run must write exactly the rows that pass.
"""

from __future__ import annotations

import functools
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import orjson

from benchmarks import LAMINAR, Case, Options, SuiteResult, measure, rate_target, ratio_target
from benchmarks.client_bench import serve
from benchmarks.window_bench import _laminar_command, _run
from benchmarks.workloads import build

NAME = "e2e-process"
WORKLOAD = "small"
EVENTS = 1_000_000
QUICK_EVENTS = 20_000
QUERY = "SELECT * FROM stock_stream WHERE price > 1000 OR price < 10"
PIPELINE = """CREATE TABLE stock_stream (
    symbol TEXT,
    price DECIMAL,
    volume BIGINT,
    ts TIMESTAMP
) WITH (
    connector = 'sse_source',
    endpoint = '{url}',
    format = 'json',
    reconnect_interval_ms = 0
);
{query};
"""
PEERS = ("launchdarkly+orjson", "httpx-sse+orjson")


def _keep(data: bytes | str, write: Callable[[bytes], object]) -> None:
    row = orjson.loads(data)
    price = row["price"]
    if price > 1000 or price < 10:
        write(orjson.dumps(row) + b"\n")


def peer(name: str, url: str, out_path: str) -> None:
    """A hand-written pipeline: SSE client + orjson + a Python filter, JSON lines out."""
    with open(out_path, "wb") as out:
        write = out.write
        if name == "launchdarkly+orjson":
            from ld_eventsource import SSEClient

            client = SSEClient(url)
            try:
                for ev in client.events:
                    _keep(ev.data, write)
            finally:
                client.close()
        else:
            import httpx
            from httpx_sse import connect_sse

            with httpx.Client(timeout=None) as http, connect_sse(http, "GET", url) as source:
                for ev in source.iter_sse():
                    _keep(ev.data, write)


def _lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def _expected_rows(payload: bytes) -> int:
    rows = 0

    def count(_: bytes) -> None:
        nonlocal rows
        rows += 1

    for line in payload.split(b"\n"):
        if line.startswith(b"data: "):
            _keep(line[6:], count)
    return rows


def _cases(url: str, work: Path, events: int, cpu: dict[str, list[float]]) -> list[Case]:
    pipeline = work / "e2e.sql"
    pipeline.write_text(PIPELINE.format(url=url, query=QUERY), encoding="utf-8")
    out = work / "out.jsonl"

    def laminar() -> tuple[int, int]:
        cpu.setdefault(LAMINAR, []).append(_run(_laminar_command(pipeline), out, work).cpu_s)
        return events, _lines(out)

    def hand_written(name: str) -> tuple[int, int]:
        command = [sys.executable, "-m", "benchmarks.e2e_process_bench", "peer", name, url,
                   str(out)]  # fmt: skip
        cpu.setdefault(name, []).append(_run(command, work / "stdout", work).cpu_s)
        return events, _lines(out)

    return [Case(LAMINAR, laminar)] + [
        Case(name, functools.partial(hand_written, name)) for name in PEERS
    ]


def run(options: Options) -> SuiteResult:
    result = SuiteResult(NAME)
    events = QUICK_EVENTS if options.quick else EVENTS
    payload = build(WORKLOAD, events).payload
    expected_rows = _expected_rows(payload)
    work = Path(tempfile.mkdtemp(prefix="laminar-e2e-process-"))
    cpu: dict[str, list[float]] = {}
    try:
        with serve([(WORKLOAD, events)]) as base:
            result.measurements = measure(
                WORKLOAD,
                _cases(f"{base}/stream/{WORKLOAD}/{events}", work, events, cpu),
                expected=(events, expected_rows),
                payload_bytes=len(payload),
                rounds=options.rounds,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.notes.append(
        f"query: {QUERY} ({expected_rows:,} of {events:,} events pass); every side is a "
        "whole process (start-up included) writing JSON lines into a file"
    )
    # CPU time is steadier than wall time when the machine is shared (round 0: warm-up)
    cpu_s = {name: statistics.median(times[1:] or times) for name, times in cpu.items()}
    fastest = min((n for n in cpu_s if n != LAMINAR), key=cpu_s.__getitem__)
    result.notes.append(
        "CPU time (user + system, median): "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in cpu_s.items())
        + f"; by CPU time laminar is {cpu_s[fastest] / cpu_s[LAMINAR]:.2f}x {fastest}"
    )
    result.targets = [
        ratio_target(result.measurements, WORKLOAD, 2, NAME),
        rate_target(result.measurements, WORKLOAD, 500_000, f"{NAME} (moonshot)"),
    ]
    return result


def _main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "peer" and argv[1] in PEERS:
        peer(argv[1], argv[2], argv[3])
        return 0
    print(f"usage: python -m benchmarks.e2e_process_bench peer {'|'.join(PEERS)} URL OUT",
          file=sys.stderr)  # fmt: skip
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
