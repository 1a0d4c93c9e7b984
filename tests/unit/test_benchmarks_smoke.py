"""Smoke test of the benchmark harness: every adapter (Laminar and each peer) decodes the
same small workloads to the same events, so the comparison stays apples-to-apples.

Runs in a few seconds: tiny workloads, one benchmark server process for all client
adapters. An adapter whose library cannot be imported fails here instead of silently
dropping out of the benchmark.
"""

from __future__ import annotations

import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level package beside src/
    sys.path.insert(0, str(ROOT))

from benchmarks import (  # noqa: E402
    LAMINAR,
    Case,
    Measurement,
    SuiteResult,
    TargetCheck,
    VerificationError,
    measure,
    ratio_target,
)
from benchmarks.client_bench import serve  # noqa: E402
from benchmarks.peers import client_adapters, decoder_adapters  # noqa: E402
from benchmarks.run import format_table  # noqa: E402
from benchmarks.workloads import CHUNK_SIZE, WORKLOADS, build  # noqa: E402

SMALL_COUNTS = {"small": 300, "large": 20, "multiline": 200, "crlf": 300, "groups": 300}
CHUNK_SIZES = (CHUNK_SIZE, 4096, 7)


def test_workloads_have_the_documented_shape() -> None:
    small = build("small", 1000)
    assert 85 <= len(small.payload) / small.events <= 105
    assert small.payload.startswith(b"id: 1\nevent: tick\ndata: {")
    assert build("crlf", 3).payload.count(b"\r\n\r\n") == 3
    assert build("multiline", 3).payload.count(b"data: ") == 9
    large = build("large", 3)
    assert large.data_chars == 3 * 4096
    assert build("small", 50) is build("small", 50)  # cached, rebuilt identically
    with pytest.raises(ValueError, match="unknown workload 'tiny'"):
        build("tiny", 1)


@pytest.mark.parametrize("adapter", decoder_adapters(), ids=lambda a: a.name)
def test_every_decoder_adapter_is_available(adapter) -> None:
    assert adapter.error is None, adapter.error


@pytest.mark.parametrize("name", WORKLOADS)
def test_decoder_adapters_agree_on_every_workload_and_chunking(name: str) -> None:
    workload = build(name, SMALL_COUNTS[name])
    adapters = [a for a in decoder_adapters() if a.error is None]
    reference = None
    for size in CHUNK_SIZES:
        chunks = workload.chunks(size)
        for adapter in adapters:
            events = adapter.events(chunks)
            where = f"{adapter.name}, {size}-byte chunks"
            assert adapter.count(chunks) == (workload.events, workload.data_chars), where
            assert [ev[2] for ev in events] == [str(i) for i in range(1, workload.events + 1)]
            assert {ev[0] for ev in events} == {"tick"}, where
            if reference is None:
                reference = events
            assert events == reference, where


@pytest.fixture(scope="module")
def bench_server() -> Iterator[str]:
    with serve([("small", SMALL_COUNTS["small"]), ("large", SMALL_COUNTS["large"])]) as base:
        yield base


@pytest.mark.parametrize("adapter", client_adapters(), ids=lambda a: a.name)
@pytest.mark.parametrize("name", ["small", "large"])
def test_client_adapters_read_the_whole_stream(bench_server: str, adapter, name: str) -> None:
    assert adapter.error is None, adapter.error
    workload = build(name, SMALL_COUNTS[name])
    url = f"{bench_server}/stream/{name}/{workload.events}"
    assert adapter.count(url, workload.events) == (workload.events, workload.data_chars)


def test_server_answers_204_to_a_reconnection(bench_server: str) -> None:
    url = f"{bench_server}/stream/small/{SMALL_COUNTS['small']}"
    request = urllib.request.Request(url, headers={"Last-Event-ID": "300"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 204


def test_measure_rejects_an_adapter_that_loses_events() -> None:
    cases = [Case("good", lambda: (3, 30)), Case("lossy", lambda: (2, 20))]
    with pytest.raises(VerificationError, match="lossy"):
        measure("small", cases, expected=(3, 30), payload_bytes=300, rounds=1)


def test_measure_takes_medians_and_the_table_shows_ratios() -> None:
    cases = [Case(LAMINAR, lambda: (3, 30)), Case("peer", lambda: (3, 30))]
    measured = measure("small", cases, expected=(3, 30), payload_bytes=300, rounds=3)
    assert [len(m.seconds) for m in measured] == [3, 3]
    fast = Measurement("small", LAMINAR, 1000, 100_000, (0.1, 0.5, 0.2))
    slow = Measurement("small", "peer", 1000, 100_000, (1.0, 0.8, 0.9))
    assert fast.events_per_s == pytest.approx(5000)
    check = ratio_target([fast, slow], "small", 4, "decoder")
    assert check.passed is True and check.detail.startswith("4.50x")
    table = format_table(SuiteResult("decoder", [fast, slow], [check], ["x skipped: y"]))
    assert "4.50x" in table and "PASS  decoder: laminar >= 4x" in table
    assert "note: x skipped: y" in table
    missing = ratio_target([slow], "small", 4, "decoder")
    assert missing == TargetCheck(missing.description, None, missing.detail)
    assert missing.passed is None


def test_window_suite_quick_mode_agrees_with_its_peer() -> None:
    # Quick mode end to end: both processes, every window equal (checked inside run()),
    # and the 1M-groups variant shrunk to a few thousand groups.
    from benchmarks import Options
    from benchmarks.window_bench import PEER, QUICK_EVENTS, run

    result = run(Options(rounds=1, quick=True))
    assert [m.implementation for m in result.measurements] == [LAMINAR, PEER]
    assert all(m.events == QUICK_EVENTS and len(m.seconds) == 1 for m in result.measurements)
    assert any(note.startswith("peak RSS with 5,000 distinct groups") for note in result.notes)
    assert len(result.targets) == 2


def test_window_workloads_hold_the_windows_they_promise() -> None:
    from benchmarks.window_bench import expected_counts

    # "small": 7 ms apart, 8 symbols -> 21 full seconds, then the last event (21.000 s)
    # alone in the 22nd; "groups": a new symbol per event
    assert expected_counts(build("small", 3000).payload) == (3000, 21 * 8 + 1)
    assert expected_counts(build("groups", 3000).payload) == (3000, 3000)


def test_startup_suite_times_the_first_row_against_the_import_floor() -> None:
    from benchmarks import Options
    from benchmarks.startup_bench import FLOOR, run

    result = run(Options(rounds=1, quick=True))
    assert [m.implementation for m in result.measurements] == [LAMINAR, FLOOR]
    assert all(len(m.seconds) == 1 and m.seconds[0] > 0 for m in result.measurements)
    [target] = result.targets
    assert target.passed is not None and "x (" in target.detail
