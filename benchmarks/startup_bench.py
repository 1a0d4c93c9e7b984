"""Start-up: from process start to the first row of `laminar run`, against the import floor.

The floor is ``python -c "import aiohttp, duckdb, pyarrow, msgspec"``: the libraries any
Laminar command needs, imported and nothing else. The Laminar case is ``laminar run`` on
the demo feed's stock table with ``SELECT symbol, price FROM stock_stream LIMIT 1``: the
clock runs from the spawn to the first row read from its stdout (the process then exits
on its own; its exit is not timed). The demo server runs in its own process, started
once and answering at a high rate, so an event is always waiting.

Both cases run round-robin, one warm-up round then ``rounds`` timed ones; the target is
Laminar's median at most 1.25x the floor's median, in the same run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks import LAMINAR, Case, Options, SuiteResult, TargetCheck, measure

NAME = "startup"
WORKLOAD = "first-row"
FLOOR = "import floor"
FLOOR_IMPORTS = "import aiohttp, duckdb, pyarrow, msgspec"
TARGET_FACTOR = 1.25
PIPELINE = """CREATE TABLE stock_stream (
    symbol TEXT, price DECIMAL, volume BIGINT, timestamp TIMESTAMP)
WITH (connector = 'sse_source', endpoint = '{url}/stocks?rate=1000', format = 'json');
SELECT symbol, price FROM stock_stream LIMIT 1;
"""


def _laminar_head() -> list[str]:
    script = Path(sys.executable).with_name("laminar")
    return [str(script)] if script.exists() else [sys.executable, "-m", "laminar"]


@contextmanager
def demo_server() -> Iterator[str]:
    """The demo feed in its own process; yields its base URL."""
    process = subprocess.Popen(
        [*_laminar_head(), "demo-server", "--port", "0", "--rate", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"the demo server did not start: {url!r}")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _first_line(command: list[str], cwd: Path) -> tuple[int, int]:
    """Spawn ``command`` and return once its first stdout line arrives: (1, its length)."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    process.stdout.close()
    process.wait(30)
    if process.returncode:
        raise RuntimeError(f"{command} exited with {process.returncode}")
    return 1, len(line)


def _cases(url: str, work: Path) -> list[Case]:
    pipeline = work / "first_row.sql"
    pipeline.write_text(PIPELINE.format(url=url), encoding="utf-8")
    laminar = [*_laminar_head(), "run", "--state-dir", "none", "--format", "json",
               "--progress", "off", str(pipeline)]  # fmt: skip
    # The floor prints one line too, so both cases end on the same event.
    floor = [sys.executable, "-c", f"{FLOOR_IMPORTS}; print('ready')"]

    def case(command: list[str]) -> Callable[[], tuple[int, int]]:
        return lambda: _first_line(command, work)

    return [Case(LAMINAR, case(laminar)), Case(FLOOR, case(floor))]


def run(options: Options) -> SuiteResult:
    result = SuiteResult(NAME)
    rounds = options.rounds if options.quick else max(options.rounds, 3)
    with tempfile.TemporaryDirectory(prefix="laminar-startup-bench-") as tmp, demo_server() as url:
        work = Path(tmp)
        # Both sides report one line; its length (a price) is not compared.
        result.measurements = measure(
            WORKLOAD,
            [Case(c.implementation, _one_line(c.run)) for c in _cases(url, work)],
            expected=(1, 0),
            payload_bytes=0,
            rounds=rounds,
        )
    mine, floor = (m.median_seconds for m in result.measurements)
    result.notes.append(
        f"median seconds to the first row: laminar run {mine:.3f} s, `python -c "
        f"\"{FLOOR_IMPORTS}\"` {floor:.3f} s; ratio {mine / floor:.2f}x "
        "(read the ratio: absolute times swing with the machine's load)"
    )
    result.targets = [
        TargetCheck(
            f"{NAME}: first row within {TARGET_FACTOR}x the import floor",
            mine <= TARGET_FACTOR * floor,
            f"{mine / floor:.2f}x ({mine:.3f} s vs {floor:.3f} s)",
        )
    ]
    return result


def _one_line(run_case: Callable[[], tuple[int, int]]) -> Callable[[], tuple[int, int]]:
    def run_once() -> tuple[int, int]:
        lines, _ = run_case()
        return lines, 0

    return run_once


if __name__ == "__main__":
    from benchmarks.run import format_table

    print(format_table(run(Options(rounds=int(sys.argv[1]) if len(sys.argv) > 1 else 5))))
    sys.exit(0)
