"""Windows: a tumbling 1-second COUNT/AVG per symbol, `laminar run` against a hand-written peer.

Both sides run as whole processes, start-up included, reading the "small" workload
over loopback from the benchmark server (client_bench.serve, another process) and
writing one JSON line per (window, symbol) into a file:

* Laminar: ``laminar run --state-dir none --format json pipeline.sql > out`` on the
  product document's stock table with ``ts TIMESTAMP`` (epoch milliseconds in the
  payload) as the event time, and the query :data:`QUERY`;
* the peer (``python -m benchmarks.window_bench peer URL OUT``): launchdarkly-
  eventsource + orjson + a dict of running (count, sum) per window and symbol; a
  window is written when the largest event time seen reaches its end.

Every timed run must count every event and write every window (checked by reading
the output back: the sum of ``n`` and the number of lines); after timing, the last
outputs of the two must agree row by row (averages within 1e-9 relative). A
separate run on the "groups" workload (1 million distinct symbols, all in one open
window) reports the peak RSS of each process (``os.wait4``), which is the state a
windowed GROUP BY holds at its worst.
"""

from __future__ import annotations

import functools
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from benchmarks import LAMINAR, Case, Options, SuiteResult, measure, rate_target, ratio_target

NAME = "window"
WORKLOAD = "small"
GROUPS_WORKLOAD = "groups"
EVENTS = 1_000_000
QUICK_EVENTS = 20_000
GROUP_EVENTS = 1_000_000
QUICK_GROUP_EVENTS = 5_000
WINDOW_MS = 1000
PEER = "launchdarkly+orjson+dict"
QUERY = (
    "SELECT symbol, COUNT(*) AS n, AVG(price) AS avg_price, "
    "TUMBLE(INTERVAL '1' SECOND) AS window FROM stock_stream GROUP BY symbol, window"
)
PIPELINE = """CREATE TABLE stock_stream (
    symbol TEXT,
    price DECIMAL,
    volume BIGINT,
    ts TIMESTAMP
) WITH (
    connector = 'sse_source',
    endpoint = '{url}',
    format = 'json',
    event_time_field = 'ts',
    reconnect_interval_ms = 0
);
{query};
"""
ROOT = Path(__file__).resolve().parent.parent

Row = tuple[str, str, str, int, float]  # window start, window end, symbol, n, avg_price


# --------------------------------------------------------------------------- the peer


def _iso(ms: int) -> str:
    # Laminar's JSON spelling of a TIMESTAMP: microseconds and a Z
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def peer(url: str, out_path: str) -> None:
    """The hand-written pipeline: SSE client, orjson, running aggregates, JSON lines out."""
    from ld_eventsource import SSEClient

    loads, dumps = orjson.loads, orjson.dumps
    windows: dict[int, dict[str, list[float]]] = {}  # window start (ms) -> symbol -> [n, sum]
    max_ts = -1
    next_end = math.inf  # the earliest end of an open window

    def flush(out: Any, upto: float) -> float:
        """Write (in start, symbol order) every window that ends at or before ``upto``."""
        for start in sorted(w for w in windows if w + WINDOW_MS <= upto):
            groups = windows.pop(start)
            frame = {"start": _iso(start), "end": _iso(start + WINDOW_MS)}
            out.write(
                b"".join(
                    dumps({"symbol": s, "n": a[0], "avg_price": a[1] / a[0], "window": frame})
                    + b"\n"
                    for s, a in sorted(groups.items())
                )
            )
        return min(windows, default=math.inf) + WINDOW_MS

    client = SSEClient(url)  # the default error strategy stops when the stream ends
    try:
        with open(out_path, "wb") as out:
            for ev in client.events:
                row = loads(ev.data)
                ts = row["ts"]
                if ts > max_ts:
                    max_ts = ts
                    if ts >= next_end:
                        next_end = flush(out, ts)
                start = ts - ts % WINDOW_MS
                if start + WINDOW_MS <= max_ts and start not in windows:
                    continue  # late: its window was already written
                groups = windows.get(start)
                if groups is None:
                    groups = windows[start] = {}
                    next_end = min(next_end, start + WINDOW_MS)
                acc = groups.get(row["symbol"])
                if acc is None:
                    groups[row["symbol"]] = [1, row["price"]]
                else:
                    acc[0] += 1
                    acc[1] += row["price"]
            flush(out, math.inf)  # the stream ended for good: every open window
    finally:
        client.close()


# --------------------------------------------------------------------------- processes


def _laminar_command(pipeline: Path) -> list[str]:
    script = Path(sys.executable).with_name("laminar")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "laminar"]
    return [*head, "run", "--state-dir", "none", "--format", "json", "--progress", "off",
            str(pipeline)]


def _peer_command(url: str, out: Path) -> list[str]:
    return [sys.executable, "-m", "benchmarks.window_bench", "peer", url, str(out)]


@dataclass(frozen=True)
class Usage:
    """What one process used: peak RSS and CPU time (user + system, all its threads)."""

    max_rss_kib: int
    cpu_s: float


def _run(command: list[str], out: Path, cwd: Path) -> Usage:
    """Run ``command`` with stdout into ``out``; return what it used."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )}
    with open(out, "wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.PIPE, cwd=cwd, env=env
        )
        assert process.stderr is not None
        errors = process.stderr.read()  # small: a few log lines
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would mix in the server)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        process.stderr.close()
    if process.returncode:
        raise RuntimeError(
            f"{command[0]} exited with {process.returncode}: "
            f"{errors.decode(errors='replace')[-2000:]}"
        )
    return Usage(int(usage.ru_maxrss), usage.ru_utime + usage.ru_stime)


def _read_rows(path: Path) -> list[Row]:
    rows = []
    with open(path, "rb") as lines:
        for line in lines:
            r = orjson.loads(line)
            w = r["window"]
            rows.append((w["start"], w["end"], r["symbol"], r["n"], float(r["avg_price"])))
    return rows


def _counts(path: Path) -> tuple[int, int]:
    """(events aggregated, windows written): the sum of ``n`` and the number of rows."""
    rows = _read_rows(path)
    return sum(r[3] for r in rows), len(rows)


def _same_rows(mine: list[Row], theirs: list[Row]) -> str | None:
    """None when both outputs hold the same windows in the same order, else the first diff."""
    if len(mine) != len(theirs):
        return f"{len(mine)} rows against {len(theirs)}"
    for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        if a[:4] != b[:4] or not math.isclose(a[4], b[4], rel_tol=1e-9):
            return f"row {i}: {a} against {b}"
    return None


def expected_counts(payload: bytes) -> tuple[int, int]:
    """(events, distinct (window, symbol) pairs) of a workload's bytes."""
    groups = set()
    events = 0
    for line in payload.split(b"\n"):
        if line.startswith(b"data: "):
            row = orjson.loads(line[6:])
            groups.add((row["ts"] // WINDOW_MS, row["symbol"]))
            events += 1
    return events, len(groups)


@functools.cache
def _build(name: str, events: int) -> bytes:
    from benchmarks.workloads import build

    return build(name, events).payload


# --------------------------------------------------------------------------- the suite


def _cases(
    url: str, work: Path, cpu: dict[str, list[float]]
) -> tuple[list[Case], dict[str, Path]]:
    pipeline = work / "window.sql"
    pipeline.write_text(PIPELINE.format(url=url, query=QUERY), encoding="utf-8")
    outputs = {LAMINAR: work / "laminar.jsonl", PEER: work / "peer.jsonl"}
    commands: dict[str, list[str]] = {
        LAMINAR: _laminar_command(pipeline),
        PEER: _peer_command(url, outputs[PEER]),
    }

    def case(name: str) -> Callable[[], tuple[int, int]]:
        def run() -> tuple[int, int]:
            used = _run(
                commands[name], outputs[LAMINAR] if name == LAMINAR else work / "stdout", work
            )
            cpu[name].append(used.cpu_s)
            # reading the output back costs both sides the same (~1 % of a run)
            return _counts(outputs[name])

        return run

    return [Case(name, case(name)) for name in commands], outputs


# Runs argv[1:] and prints its peak RSS (KiB) on stderr. A process forked straight from
# the benchmark inherits the benchmark's own peak (Linux keeps the larger of the
# pre-exec and post-exec high-water marks), so the measured process is forked from this
# small launcher instead.
_LAUNCHER = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "print('maxrss', usage.ru_maxrss, file=sys.stderr)\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def _child_peak_rss(command: list[str], out: Path, cwd: Path) -> int:
    """Peak RSS (KiB) of ``command`` itself, run with stdout into ``out``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )}
    with open(out, "wb") as sink:
        done = subprocess.run([sys.executable, "-c", _LAUNCHER, *command], stdout=sink,
                              stderr=subprocess.PIPE, cwd=cwd, env=env)  # fmt: skip
    errors = done.stderr.decode(errors="replace")
    if done.returncode:
        raise RuntimeError(f"{command[0]} exited with {done.returncode}: {errors[-2000:]}")
    return int(errors.rsplit("maxrss ", 1)[1].split()[0])


def peak_rss(url: str, work: Path) -> dict[str, int]:
    """Peak RSS (KiB) of one run of each side on ``url``; both must write the same rows."""
    pipeline = work / "groups.sql"
    pipeline.write_text(PIPELINE.format(url=url, query=QUERY), encoding="utf-8")
    out = {LAMINAR: work / "groups-laminar.jsonl", PEER: work / "groups-peer.jsonl"}
    rss = {
        LAMINAR: _child_peak_rss(_laminar_command(pipeline), out[LAMINAR], work),
        PEER: _child_peak_rss(_peer_command(url, out[PEER]), work / "stdout", work),
    }
    rows = {name: _counts(path) for name, path in out.items()}
    if rows[LAMINAR] != rows[PEER]:
        raise AssertionError(f"groups run: laminar wrote {rows[LAMINAR]}, peer {rows[PEER]}")
    return rss


def run(options: Options) -> SuiteResult:
    from benchmarks.client_bench import serve

    result = SuiteResult(NAME)
    events = QUICK_EVENTS if options.quick else EVENTS
    group_events = QUICK_GROUP_EVENTS if options.quick else GROUP_EVENTS
    payload = _build(WORKLOAD, events)
    expected = expected_counts(payload)
    work = Path(tempfile.mkdtemp(prefix="laminar-window-bench-"))
    try:
        with serve([(WORKLOAD, events), (GROUPS_WORKLOAD, group_events)]) as base:
            cpu: dict[str, list[float]] = {LAMINAR: [], PEER: []}
            cases, outputs = _cases(f"{base}/stream/{WORKLOAD}/{events}", work, cpu)
            result.measurements = measure(
                WORKLOAD, cases, expected=expected, payload_bytes=len(payload),
                rounds=options.rounds,
            )
            diff = _same_rows(_read_rows(outputs[LAMINAR]), _read_rows(outputs[PEER]))
            if diff is not None:
                raise AssertionError(f"laminar and {PEER} disagree: {diff}")
            started = time.perf_counter()
            rss = peak_rss(f"{base}/stream/{GROUPS_WORKLOAD}/{group_events}", work)
            groups_s = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.notes.append(
        f"query: {QUERY}; {expected[0]:,} events, {expected[1]:,} windows x symbols; "
        "both sides are whole processes writing JSON lines to a file"
    )
    # CPU time is steadier than wall time on a shared machine (round 0 is the warm-up)
    cpu_s = {name: statistics.median(times[1:]) for name, times in cpu.items()}
    result.notes.append(
        f"CPU time (user + system, median): laminar {cpu_s[LAMINAR]:.2f} s, {PEER} "
        f"{cpu_s[PEER]:.2f} s; by CPU time laminar is {cpu_s[PEER] / cpu_s[LAMINAR]:.2f}x the peer"
    )
    result.notes.append(
        f"peak RSS with {group_events:,} distinct groups in one window: laminar "
        f"{rss[LAMINAR] / 1024:,.0f} MiB, {PEER} {rss[PEER] / 1024:,.0f} MiB "
        f"(both runs {groups_s:.1f} s)"
    )
    result.targets = [
        rate_target(result.measurements, WORKLOAD, 250_000, NAME),
        ratio_target(result.measurements, WORKLOAD, 2, NAME),
    ]
    return result


def _main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "peer":
        peer(argv[1], argv[2])
        return 0
    print("usage: python -m benchmarks.window_bench peer URL OUT", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
