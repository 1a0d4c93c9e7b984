"""Suite "decoder": SSE parsing in memory, 64 KiB chunks, Laminar against peer parsers.

Contract: ``run(options)`` feeds every workload of :mod:`benchmarks.workloads`, cut into
64 KiB chunks, to each decoder adapter of :mod:`benchmarks.peers`, times it with
:func:`benchmarks.measure` and checks the issue's targets: Laminar decodes "small"
at >= 1,000,000 events/s and >= 4x the fastest peer, and "large" >= 2x.
No I/O is involved: this measures parsing alone.
"""

from __future__ import annotations

import functools

from benchmarks import Case, Options, SuiteResult, measure, rate_target, ratio_target
from benchmarks.peers import decoder_adapters
from benchmarks.workloads import CHUNK_SIZE, DEFAULT_EVENTS, WORKLOADS, build

NAME = "decoder"
QUICK_DIVISOR = 10


def run(options: Options) -> SuiteResult:
    """Measure every decoder on every workload; unavailable decoders become notes."""
    result = SuiteResult(NAME)
    adapters = []
    for adapter in decoder_adapters():
        if adapter.error:
            result.notes.append(f"{adapter.name} skipped: {adapter.error}")
        else:
            adapters.append(adapter)
    divisor = QUICK_DIVISOR if options.quick else 1
    for name in WORKLOADS:
        workload = build(name, DEFAULT_EVENTS[name] // divisor)
        chunks = workload.chunks(CHUNK_SIZE)
        cases = [
            Case(adapter.name, functools.partial(adapter.count, chunks)) for adapter in adapters
        ]
        result.measurements += measure(
            name,
            cases,
            expected=(workload.events, workload.data_chars),
            payload_bytes=len(workload.payload),
            rounds=options.rounds,
        )
    ms = result.measurements
    result.targets = [
        rate_target(ms, "small", 1_000_000, NAME),
        ratio_target(ms, "small", 4, NAME),
        ratio_target(ms, "large", 2, NAME),
    ]
    return result
