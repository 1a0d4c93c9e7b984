"""``python -m benchmarks.run [--suite decoder|client|e2e|window|all] [--rounds N] [--quick]``.

Contract: runs the chosen suites (each registered in :data:`SUITES` as a module with
``run(options) -> SuiteResult``), prints per suite a table — workload,
implementation, median events/s and MB/s, and the ratio Laminar/that implementation
— then one PASS/FAIL line per target, and writes everything as JSON to
``benchmarks/results/latest.json``. Exit status: 0 when the run completed (even with
FAILed targets: they are findings, not crashes), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import LAMINAR, Options, SuiteResult, laminar_of

# Suite name -> module implementing ``run(options) -> SuiteResult``. Add new suites here.
SUITES = {
    "decoder": "benchmarks.decoder_bench",
    "client": "benchmarks.client_bench",
    "e2e": "benchmarks.e2e_bench",
    "e2e-process": "benchmarks.e2e_process_bench",
    "window": "benchmarks.window_bench",
    "startup": "benchmarks.startup_bench",
}
RESULTS_PATH = Path(__file__).resolve().parent / "results" / "latest.json"


def format_table(result: SuiteResult) -> str:
    """The suite's measurements as an aligned text table, then its targets."""
    header = ("workload", "implementation", "events/s", "MB/s", "laminar/x")
    rows = [header]
    for m in result.measurements:
        mine = laminar_of(result.measurements, m.workload)
        ratio = f"{mine.events_per_s / m.events_per_s:.2f}x" if mine else "n/a"
        rows.append(
            (m.workload, m.implementation, f"{m.events_per_s:,.0f}", f"{m.mb_per_s:,.1f}", ratio)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [f"== suite {result.suite} =="]
    for i, row in enumerate(rows):
        cells = [
            cell.ljust(width) if col < 2 else cell.rjust(width)
            for col, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * width for width in widths))
    lines.extend(f"note: {note}" for note in result.notes)
    for target in result.targets:
        verdict = {True: "PASS", False: "FAIL", None: "N/A "}[target.passed]
        lines.append(f"{verdict}  {target.description}: {target.detail}")
    return "\n".join(lines)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Benchmark Laminar against its peers in the same run "
        "(medians of N timed rounds after one warm-up round).",
    )
    parser.add_argument("--suite", choices=[*SUITES, "all"], default="all")
    parser.add_argument(
        "--rounds", type=int, default=None, help="timed rounds per case (default 5; 2 with --quick)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a tenth of the events and 2 rounds: a fast, rougher check",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_PATH,
        help=f"JSON results file (default {RESULTS_PATH})",
    )
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suites, print their tables and targets, save the JSON; return the exit code."""
    args = _parse(argv)
    rounds = args.rounds if args.rounds is not None else (2 if args.quick else 5)
    options = Options(rounds=rounds, quick=args.quick)
    names = list(SUITES) if args.suite == "all" else [args.suite]
    print(
        f"{LAMINAR} benchmarks: suites {', '.join(names)}; warm-up + {rounds} rounds"
        f"{' (quick)' if args.quick else ''}; Python {platform.python_version()}",
        flush=True,
    )
    results: list[SuiteResult] = []
    started = time.perf_counter()
    for name in names:
        suite = importlib.import_module(SUITES[name])
        result = suite.run(options)
        results.append(result)
        print(format_table(result), flush=True)
        print(flush=True)
    elapsed = time.perf_counter() - started
    print(f"total {elapsed:.0f} s; results in {args.output}")
    _save(args.output, options, results, elapsed)
    return 0


def _save(path: Path, options: Options, results: list[SuiteResult], elapsed: float) -> None:
    document = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "rounds": options.rounds,
        "quick": options.quick,
        "elapsed_s": elapsed,
        "suites": [r.to_json() for r in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
