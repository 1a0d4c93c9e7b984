"""One source tree against another on the process-level pipelines, for judging a change.

A suite's ratio (Laminar ÷ a peer, or ÷ the import floor) swings with the machine's load
by more than most single changes are worth. This runs each tree's ``laminar run`` on
one suite's pipeline in turn, round by round, and prints the median of each:

    git worktree add /tmp/before HEAD~1
    python -m benchmarks.ab /tmp/before/src src                    # start-up
    python -m benchmarks.ab /tmp/before/src src --suite e2e-process --rounds 7
    python -m benchmarks.ab /tmp/before/src src --suite window --rounds 7

* ``startup``: seconds from the spawn to the first row on the demo feed (the startup
  suite's pipeline), interleaved with the import floor;
* ``e2e-process`` / ``window``: wall and CPU seconds of a whole run over 1 million
  "small" events from the benchmark server (those suites' pipelines and queries).

Each tree is put first on ``PYTHONPATH`` (the installed dependencies are shared) and
its bytecode is compiled first, as ``make`` does at install.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks import e2e_process_bench, window_bench
from benchmarks.client_bench import serve
from benchmarks.startup_bench import FLOOR_IMPORTS, demo_server
from benchmarks.startup_bench import PIPELINE as STARTUP_PIPELINE

FLOOR = "import floor"
EVENTS = 1_000_000
PIPELINES = {  # suite -> (pipeline template, query)
    "e2e-process": (e2e_process_bench.PIPELINE, e2e_process_bench.QUERY),
    "window": (window_bench.PIPELINE, window_bench.QUERY),
}


def _laminar(pipeline: Path) -> list[str]:
    return [sys.executable, "-m", "laminar", "run", "--state-dir", "none", "--format",
            "json", "--progress", "off", str(pipeline)]  # fmt: skip


def _first_row_s(command: list[str], env: dict[str, str], cwd: Path) -> float:
    """Seconds from the spawn of ``command`` to its first line on stdout (exit not timed)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env=env, cwd=cwd)  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    elapsed = time.perf_counter() - started
    process.stdout.close()
    process.wait(30)
    if process.returncode or not line:
        raise RuntimeError(f"{command} exited with {process.returncode}")
    return elapsed


def _whole_run_s(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of a whole run of ``command``, its rows into a file."""
    started = time.perf_counter()
    with open(cwd / "out.jsonl", "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL,
                                   env=env, cwd=cwd)  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{command} exited with {os.waitstatus_to_exitcode(status)}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def _pipeline(suite: str, work: Path) -> Iterator[Path]:
    """The suite's pipeline file, with its server running."""
    path = work / "pipeline.sql"
    if suite == "startup":
        with demo_server() as url:
            path.write_text(STARTUP_PIPELINE.format(url=url), encoding="utf-8")
            yield path
        return
    template, query = PIPELINES[suite]
    with serve([("small", EVENTS)]) as base:
        path.write_text(template.format(url=f"{base}/stream/small/{EVENTS}", query=query),
                        encoding="utf-8")  # fmt: skip
        yield path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", type=Path, help="source trees (each holds laminar/)")
    parser.add_argument("--suite", choices=["startup", *PIPELINES], default="startup")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    trees = [tree.resolve() for tree in args.trees]
    for tree in trees:
        if not (tree / "laminar").is_dir():
            parser.error(f"{tree} holds no laminar/ package")
        compileall.compile_dir(str(tree / "laminar"), quiet=1)
    wall: dict[str, list[float]] = {str(tree): [] for tree in trees}
    cpu: dict[str, list[float]] = {str(tree): [] for tree in trees}
    with tempfile.TemporaryDirectory() as tmp, _pipeline(args.suite, Path(tmp)) as pipeline:
        work = Path(tmp)
        for _ in range(args.rounds):
            for tree in trees:
                env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONWARNINGS": "ignore"}
                if args.suite == "startup":
                    wall[str(tree)].append(_first_row_s(_laminar(pipeline), env, work))
                else:
                    seconds, cpu_s = _whole_run_s(_laminar(pipeline), env, work)
                    wall[str(tree)].append(seconds)
                    cpu[str(tree)].append(cpu_s)
            if args.suite == "startup":
                started = time.perf_counter()
                subprocess.run([sys.executable, "-c", FLOOR_IMPORTS], check=True)
                wall.setdefault(FLOOR, []).append(time.perf_counter() - started)
    _report(wall, cpu)
    return 0


def _report(wall: dict[str, list[float]], cpu: dict[str, list[float]]) -> None:
    median = statistics.median
    floor = median(wall[FLOOR]) if FLOOR in wall else None
    for name, values in wall.items():
        line = f"{median(values) * 1000:8.1f} ms"
        if floor is not None:
            line += f"  {median(values) / floor:.3f}x the floor"
        if cpu.get(name):
            line += f"  CPU {median(cpu[name]):.3f} s"
        print(f"{line}  {name}")


if __name__ == "__main__":
    sys.exit(main())
