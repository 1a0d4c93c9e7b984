"""Observability building blocks: bulk histograms, log rings, the batch ring, UTC comparisons."""

from __future__ import annotations

import io
import logging
import time
from types import SimpleNamespace

import duckdb
import pyarrow as pa
import pytest

from laminar.observability.batch_ring import BatchRing
from laminar.observability.histogram import Buckets
from laminar.observability.hub import Observability
from laminar.observability.logs import LogContext, LogRing, install
from laminar.observability.progress import ProgressLine, ProgressStream, format_status
from laminar.observability.system_tables import build_system_tables

DOC_RATE_QUERY = """
SELECT
    COUNT(*) as events_per_minute,
    AVG(processing_time_ms) as avg_processing_time
FROM system.connector_metrics
WHERE connector = 'sse_source'
AND timestamp > NOW() - INTERVAL '1 minute';
"""


def test_buckets_take_runs_and_arrays_like_single_observations() -> None:
    runs, array = Buckets([1, 10, 100]), Buckets([1, 10, 100])
    values = [0.5, 1, 1, 5, 10, 50, 100, 100, 500]
    for v in values:
        runs.add(v)
    array.add_array(pa.array([*values, None], pa.float64()))
    for b in (runs, array):
        assert b.cumulative() == [("1.0", 3), ("10.0", 5), ("100.0", 8), ("+Inf", 9)]
        assert b.count == 9 and b.sum == sum(values)
    assert runs.quantile(0.5) == 10 and runs.quantile(1.0) == float("inf")
    assert Buckets([1]).quantile(0.5) is None


def test_log_ring_is_bounded_and_counts_levels() -> None:
    ring = LogRing(capacity=3)
    ctx = LogContext(ring, "sse_source", "t", "c", 1)
    for i in range(5):
        ctx.record("warning" if i % 2 else "info", f"m{i}")
    assert [e.message for e in ring.snapshot()] == ["m2", "m3", "m4"]
    assert ring.counts["INFO"] == 3 and ring.counts["WARNING"] == 2


def test_ring_handler_files_laminar_records_under_the_running_pipeline() -> None:
    install()
    ring = LogRing()
    ctx = LogContext(ring, "sse_source", "stocks", None, 7)
    log = logging.getLogger("laminar.runtime")
    log.error("outside any pipeline")  # not kept
    token = ctx.enter()
    try:
        log.error("checkpoint failed")
        logging.getLogger("laminar.connectors.sse").error("client line")  # comes via on_log
    finally:
        LogContext.leave(token)
    [entry] = ring.snapshot()
    assert (entry.level, entry.table, entry.query_id, entry.logger) == (
        "ERROR", "stocks", 7, "laminar.runtime"
    )
    assert entry.message == "checkpoint failed"


def _monitor(table: str = "stocks") -> SimpleNamespace:
    return SimpleNamespace(table=table, connection="conn", query_id=1)


def test_batch_ring_drops_old_records_and_expands_to_one_row_per_event() -> None:
    ring = BatchRing(retention_s=60)
    now = time.time()
    ring.add_batch(_monitor(), now - 120, 1, 5.0, [(int((now - 121) * 1000), 10, 1000.0)])
    now_ms = int(now * 1000)
    ring.add_batch(_monitor(), now, 2, 2.0, [(now_ms - 5, 3, 5.0), (now_ms, 4, 0)])
    assert len(ring) == 2  # the 2-minute-old record went when the new one came
    records = ring.snapshot()
    assert records.column("events").to_pylist() == [3, 4]


def test_connector_metrics_compares_with_now_in_utc_whatever_the_session_time_zone() -> None:
    hub = Observability()
    now = time.time()
    hub.metrics.add_batch(_monitor(), now - 1, 1, 4.0, [(int(now * 1000) - 1100, 250, 100.0)])
    hub.metrics.add_batch(_monitor(), now - 0.5, 2, 2.0, [(int(now * 1000) - 600, 50, 100.0)])
    hub.metrics.add_batch(_monitor(), now - 90, 3, 9.0, [(int(now * 1000) - 90_100, 1000, 1.0)])
    engine = SimpleNamespace(observability=hub)
    for zone in ("Pacific/Kiritimati", "America/Los_Angeles", "UTC"):
        con = duckdb.connect()
        con.execute(f"SET TimeZone = '{zone}'")
        build_system_tables(engine)["system.connector_metrics"](con, "m")  # type: ignore[arg-type]
        count, avg = con.execute(DOC_RATE_QUERY.replace("system.connector_metrics", "m")).fetchone()
        assert count == 300, zone
        assert abs(avg - (250 * 4.0 + 50 * 2.0) / 300) < 1e-9


def test_progress_line_is_erased_before_rows_and_drawn_after() -> None:
    hub = Observability()
    err, out = io.StringIO(), io.StringIO()
    progress = ProgressLine(hub, err)
    progress.draw()
    assert err.getvalue() == "\r\x1b[2Klaminar: waiting for queries"
    stream = ProgressStream(out, progress)
    stream.write('{"a":1}\n')
    assert err.getvalue().endswith("queries\r\x1b[2K")  # erased before the row went out
    stream.flush()
    assert err.getvalue().endswith("\r\x1b[2Klaminar: waiting for queries")
    assert out.getvalue() == '{"a":1}\n'


def test_format_status_is_readable() -> None:
    text = format_status(
        {
            "status": "degraded",
            "uptime_s": 75,
            "sources": [
                {
                    "table_name": "stocks", "connection_name": "feed", "status": "reconnecting",
                    "query_id": 1, "query_state": "running", "endpoint": "https://x/y",
                    "events_received": 1200, "events_per_second": 20.0, "bytes_received": 4096,
                    "bytes_per_second": 100.0, "rows_emitted": 5, "lag_p50_ms": 100.0,
                    "lag_p99_ms": 250.0, "batches": 3, "last_error": "connection refused",
                }
            ],
            "recent_problems": [
                {"level": "WARNING", "table": "stocks", "message": "reconnecting in 1 s"}
            ],
        }
    )
    assert "laminar: degraded · up 1m15s" in text
    assert "↻ stocks (connection feed): reconnecting, query 1 running" in text
    assert "1,200 received" in text and "p50 ≤ 100 ms, p99 ≤ 250 ms" in text
    assert "last error connection refused" in text and "reconnecting in 1 s" in text


def test_progress_line_says_stopping_once_the_queries_are_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from laminar.observability import progress as progress_module

    hub = Observability()
    running: list[object] = [object()]
    monkeypatch.setattr(hub, "live", lambda: list(running))
    monkeypatch.setattr(progress_module, "_describe", lambda monitor: "stocks ● 10 ev/s")
    line = ProgressLine(hub, io.StringIO())
    assert line.text() == "stocks ● 10 ev/s"
    running.clear()  # Ctrl-C: the queries stopped, the process is shutting down
    assert line.text() == "laminar: stopping"
