"""Chaos: every fault of the issue against a real pipeline, asserting the exact ids delivered.

Each test runs ``SELECT … FROM src`` (in-process, ``run_all``) over a ``Feed``
of numbered events with one or more injected faults, collects the rows the
sink received, and states the duplicates it allows — none, unless the test
says otherwise. Reconnect intervals are tiny so the suite stays fast.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from laminar.errors import HTTPStatusError, LaminarError
from laminar.sinks.base import Sink
from laminar.sql.continuous import ContinuousQuery
from laminar.sql.engine import Engine
from laminar.sql.pipelines import run_all
from tests.chaos.chaos_server import (
    Feed,
    cut,
    garbage,
    gzip_bomb,
    oversized,
    redirect_loop,
    reset,
    skip,
    stall,
    status,
    stop,
)
from tests.support.sse_server import SSEServer

pytestmark = pytest.mark.chaos


class CollectSink(Sink):
    """Keeps the rows (a real sink: the pipeline drives it through the commit protocol)."""

    def __init__(self) -> None:
        super().__init__("collect")
        self.rows: list[dict[str, Any]] = []

    async def write(self, rows: Any) -> None:
        self.rows.extend(json.loads(line) for line in rows)

    @property
    def ids(self) -> list[int]:
        return [int(r["event_id"]) for r in self.rows]


async def run_feed(
    feed: Feed, extra: str = "", timeout: float = 20.0
) -> tuple[list[int], ContinuousQuery, LaminarError | None]:
    async with SSEServer(default=feed) as server:
        engine = Engine()
        results = engine.execute(
            f"""
            CREATE TABLE src (n INTEGER, s TEXT, event_id TEXT) WITH (
                endpoint = '{server.url}', capture_event_id = true,
                reconnect_interval_ms = 5, max_reconnect_interval_ms = 40,
                buffer_timeout_ms = 5 {extra});
            SELECT event_id, n, s FROM src;
            """
        )
        [query] = [r for r in results if isinstance(r, ContinuousQuery)]
        sink = CollectSink()
        error: LaminarError | None = None
        try:
            async with asyncio.timeout(timeout):
                await run_all([query], sinks=[sink])
        except LaminarError as exc:
            error = exc
    assert all(r["s"] == "é€" for r in sink.rows)  # payloads intact, UTF-8 included
    return sink.ids, query, error


ALL = list(range(1, 201))


@pytest.mark.parametrize("where", ["event", "line", "utf8"])
async def test_connection_dropped_mid_event_line_and_character(where: str) -> None:
    ids, _, error = await run_feed(Feed(200, cut(30, where), cut(70, where)))
    assert error is None
    assert ids == ALL  # no loss, no duplicate: the half event is discarded, then re-sent


async def test_tcp_reset() -> None:
    ids, query, error = await run_feed(Feed(200, reset(40), reset(0), reset(100)))
    assert error is None
    assert ids == ALL
    assert query.head.replay.replayed == 0


async def test_stall_past_keepalive_timeout() -> None:
    ids, _, error = await run_feed(Feed(200, stall(50)), ", keepalive_timeout_ms = 200")
    assert error is None
    assert ids == ALL


async def test_5xx_storm_then_recovery() -> None:
    storm = [status(code) for code in (500, 502, 503, 504) * 3]
    ids, _, error = await run_feed(Feed(200, cut(20), *storm))
    assert error is None
    assert ids == ALL


async def test_429_with_retry_after_is_honoured() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    ids, _, error = await run_feed(Feed(200, cut(60), status(429, {"Retry-After": "1"})))
    assert error is None
    assert ids == ALL
    assert loop.time() - started >= 1.0  # waited as told, not reconnect_interval_ms


async def test_redirect_loop_stops_the_pipeline_after_what_arrived() -> None:
    ids, _, error = await run_feed(Feed(200, cut(25), redirect_loop()))
    assert isinstance(error, HTTPStatusError)
    assert "redirect" in str(error).lower()
    assert ids == list(range(1, 26))  # event 26 was cut: never complete, never delivered


async def test_204_stops_after_exactly_what_was_sent() -> None:
    ids, query, error = await run_feed(Feed(200, stop(77)))
    assert error is None
    assert ids == list(range(1, 78))
    assert query.stats.state == "finished"


async def test_oversized_event_is_skipped_counted_and_the_stream_goes_on() -> None:
    ids, query, error = await run_feed(
        Feed(200, oversized(45, 300_000)), ", max_event_size = '64KiB'"
    )
    assert error is None
    assert ids == ALL
    assert query.stats.events_dropped == 1


async def test_oversized_event_stops_the_query_when_continue_on_error_is_false() -> None:
    ids, _, error = await run_feed(
        Feed(200, oversized(45, 300_000)), ", max_event_size = '64KiB', continue_on_error = false"
    )
    assert error is not None and "max_event_size" in str(error)
    assert set(ids) <= set(range(1, 46))


async def test_gzip_bomb_is_stopped_by_the_decompression_ratio() -> None:
    ids, _, error = await run_feed(Feed(200, gzip_bomb(10, 64 << 20)), ", max_event_size = '1MiB'")
    assert error is not None and "max_decompression_ratio" in str(error)
    assert ids == list(range(1, 11))


async def test_garbage_bytes_between_events_are_ignored() -> None:
    ids, _, error = await run_feed(Feed(200, garbage(10), garbage(0, 4096), garbage(150)))
    assert error is None
    assert ids == ALL


async def test_server_ignoring_last_event_id_is_detected(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "laminar")
    feed = Feed(200, cut(60), honour_last_event_id=False)
    ids, query, error = await run_feed(feed)
    assert error is None
    # Allowed duplicates: exactly the replayed 1…60 (the replay is reported, not hidden).
    assert ids == list(range(1, 61)) + ALL
    assert query.head.replay.replayed == 60
    assert query.stats.events_replayed == 60  # what status and metrics report
    assert "does not honour Last-Event-ID" in caplog.text


async def test_server_ignoring_last_event_id_with_dedup_by_event_id() -> None:
    feed = Feed(200, cut(60), honour_last_event_id=False)
    ids, query, error = await run_feed(feed, ", deduplicate_by = 'event_id'")
    assert error is None
    assert ids == ALL  # no duplicates: the replayed ids are dropped by deduplicate_by
    assert query.head.replay.replayed == 60


async def test_gap_after_reconnect_is_flagged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "laminar")
    ids, query, error = await run_feed(Feed(200, cut(30), skip(0, 10)))
    assert error is None
    assert ids == list(range(1, 31)) + list(range(41, 201))  # 31…40 never sent
    assert (query.head.replay.gaps, query.head.replay.missing) == (1, 10)
    assert "gap in event ids" in caplog.text


async def test_oversized_event_becomes_an_error_row_with_capture_errors() -> None:
    async with SSEServer(default=Feed(20, oversized(5, 300_000))) as server:
        engine = Engine()
        results = engine.execute(
            f"""
            CREATE TABLE src (n INTEGER, event_id TEXT, error_message TEXT) WITH (
                endpoint = '{server.url}', capture_event_id = true, capture_errors = true,
                max_event_size = '64KiB', reconnect_interval_ms = 5, buffer_timeout_ms = 5);
            SELECT event_id, n, error_message FROM src;
            """
        )
        [query] = [r for r in results if isinstance(r, ContinuousQuery)]
        sink = CollectSink()
        async with asyncio.timeout(20):
            await run_all([query], sinks=[sink])
    errors = [r for r in sink.rows if r["error_message"]]
    assert len(errors) == 1 and "max_event_size" in errors[0]["error_message"]
    assert [int(r["event_id"]) for r in sink.rows if not r["error_message"]] == list(range(1, 21))
