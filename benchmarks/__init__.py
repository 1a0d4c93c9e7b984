"""Laminar's benchmarks: Laminar and its peers, measured in the same run.

Run them with ``python -m benchmarks.run`` (``make bench``). This module is the harness
every suite shares:

* a suite is a module with ``run(options: Options) -> SuiteResult`` registered in
  ``benchmarks.run.SUITES`` (``decoder``, ``client``; an end-to-end suite plugs in the
  same way);
* :func:`measure` times implementations round-robin with ``time.perf_counter`` — one
  warm-up round, then ``rounds`` timed rounds, GC left enabled (collected between
  runs, outside the timing) — and checks that every run reported exactly the expected
  events and data length, so a broken adapter fails loudly instead of looking fast;
* results are :class:`Measurement` (median over rounds), :class:`TargetCheck` (a
  PASS/FAIL line) and :class:`SuiteResult`; ``benchmarks.run`` prints and saves them.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

LAMINAR = "laminar"


@dataclass(frozen=True)
class Options:
    """What the command line asked for: timed rounds per case, and a quick (smaller) run."""

    rounds: int = 5
    quick: bool = False


@dataclass(frozen=True)
class Case:
    """One implementation on one workload: ``run()`` does the work, returns (events, chars)."""

    implementation: str
    run: Callable[[], tuple[int, int]]


@dataclass(frozen=True)
class Measurement:
    """The timed rounds of one implementation on one workload."""

    workload: str
    implementation: str
    events: int
    payload_bytes: int
    seconds: tuple[float, ...]

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)

    @property
    def events_per_s(self) -> float:
        return self.events / self.median_seconds

    @property
    def mb_per_s(self) -> float:
        return self.payload_bytes / self.median_seconds / 1e6

    def to_json(self) -> dict[str, object]:
        return {
            "workload": self.workload,
            "implementation": self.implementation,
            "events": self.events,
            "payload_bytes": self.payload_bytes,
            "seconds": list(self.seconds),
            "median_seconds": self.median_seconds,
            "events_per_s": self.events_per_s,
            "mb_per_s": self.mb_per_s,
        }


@dataclass(frozen=True)
class TargetCheck:
    """One performance target: ``passed`` is None when it could not be evaluated."""

    description: str
    passed: bool | None
    detail: str

    def to_json(self) -> dict[str, object]:
        return {"target": self.description, "passed": self.passed, "detail": self.detail}


@dataclass
class SuiteResult:
    """Everything one suite measured, the targets it checked and notes (skipped peers)."""

    suite: str
    measurements: list[Measurement] = field(default_factory=list)
    targets: list[TargetCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "suite": self.suite,
            "measurements": [m.to_json() for m in self.measurements],
            "targets": [t.to_json() for t in self.targets],
            "notes": list(self.notes),
        }


class VerificationError(AssertionError):
    """An implementation reported other events than the workload holds."""


def measure(
    workload: str,
    cases: Sequence[Case],
    *,
    expected: tuple[int, int],
    payload_bytes: int,
    rounds: int,
) -> list[Measurement]:
    """Time ``cases`` round-robin (warm-up + ``rounds``) and return one Measurement each.

    Interleaving the cases spreads any drift of the machine (frequency, other load)
    over all implementations instead of penalising whichever ran last.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    timings: dict[str, list[float]] = {case.implementation: [] for case in cases}
    for round_no in range(rounds + 1):
        for case in cases:
            gc.collect()
            start = time.perf_counter()
            got = case.run()
            elapsed = time.perf_counter() - start
            if tuple(got) != tuple(expected):
                raise VerificationError(
                    f"{case.implementation} on {workload!r} reported (events, data chars) "
                    f"= {tuple(got)}, expected {tuple(expected)}"
                )
            if round_no:  # round 0 is the warm-up
                timings[case.implementation].append(elapsed)
    return [
        Measurement(
            workload,
            case.implementation,
            expected[0],
            payload_bytes,
            tuple(timings[case.implementation]),
        )
        for case in cases
    ]


def fastest_peer(measurements: Sequence[Measurement], workload: str) -> Measurement | None:
    """The peer (non-Laminar) with the highest median events/s on ``workload``."""
    peers = [m for m in measurements if m.workload == workload and m.implementation != LAMINAR]
    return max(peers, key=lambda m: m.events_per_s, default=None)


def laminar_of(measurements: Sequence[Measurement], workload: str) -> Measurement | None:
    """Laminar's measurement on ``workload``, if it ran."""
    for m in measurements:
        if m.workload == workload and m.implementation == LAMINAR:
            return m
    return None


def ratio_target(
    measurements: Sequence[Measurement], workload: str, factor: float, what: str
) -> TargetCheck:
    """ "Laminar >= ``factor``x the fastest peer on ``workload``"."""
    description = f"{what}: laminar >= {factor:g}x the fastest peer on {workload!r}"
    mine, peer = laminar_of(measurements, workload), fastest_peer(measurements, workload)
    if mine is None or peer is None:
        missing = LAMINAR if mine is None else "every peer"
        return TargetCheck(description, None, f"not measured ({missing} did not run)")
    ratio = mine.events_per_s / peer.events_per_s
    detail = (
        f"{ratio:.2f}x ({mine.events_per_s:,.0f} vs {peer.implementation} "
        f"{peer.events_per_s:,.0f} events/s)"
    )
    return TargetCheck(description, ratio >= factor, detail)


def rate_target(
    measurements: Sequence[Measurement], workload: str, events_per_s: float, what: str
) -> TargetCheck:
    """ "Laminar >= ``events_per_s`` events/s on ``workload``"."""
    description = f"{what}: laminar >= {events_per_s:,.0f} events/s on {workload!r}"
    mine = laminar_of(measurements, workload)
    if mine is None:
        return TargetCheck(description, None, f"not measured ({LAMINAR} did not run)")
    return TargetCheck(
        description, mine.events_per_s >= events_per_s, f"{mine.events_per_s:,.0f} events/s"
    )
