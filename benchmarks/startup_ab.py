"""Start-up of one source tree against another, for judging a start-up change.

The startup suite's ratio (``laminar run`` ÷ the import floor) swings with the machine's
load by more than most single changes are worth. This runs the suite's pipeline (the
demo feed, ``SELECT … LIMIT 1``) with each tree's ``laminar`` in turn, round by round,
interleaved with the import floor, and prints the median time to the first row of each:

    git worktree add /tmp/before HEAD~1
    python -m benchmarks.startup_ab /tmp/before/src src --rounds 15

Each tree is put first on ``PYTHONPATH`` (the installed dependencies are shared) and
its bytecode is compiled first, as ``make`` does at install.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.startup_bench import FLOOR_IMPORTS, PIPELINE, demo_server


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", type=Path, help="source trees (each holds laminar/)")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    trees = [tree.resolve() for tree in args.trees]
    for tree in trees:
        if not (tree / "laminar").is_dir():
            parser.error(f"{tree} holds no laminar/ package")
        compileall.compile_dir(str(tree / "laminar"), quiet=1)
    times: dict[str, list[float]] = {str(tree): [] for tree in trees}
    times["import floor"] = []
    with tempfile.TemporaryDirectory() as tmp, demo_server() as url:
        work = Path(tmp)
        pipeline = work / "first_row.sql"
        pipeline.write_text(PIPELINE.format(url=url), encoding="utf-8")
        run = [sys.executable, "-m", "laminar", "run", "--state-dir", "none", "--format",
               "json", "--progress", "off", str(pipeline)]  # fmt: skip
        for _ in range(args.rounds):
            for tree in trees:
                env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONWARNINGS": "ignore"}
                times[str(tree)].append(_first_row_s(run, env, work))
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", FLOOR_IMPORTS], check=True)
            times["import floor"].append(time.perf_counter() - started)
    floor = statistics.median(times["import floor"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{median * 1000:7.1f} ms  {median / floor:.3f}x the floor  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
