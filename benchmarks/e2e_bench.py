"""End to end: loopback SSE -> json rows -> a filtering query -> JSON lines into /dev/null.

Laminar runs the product document's stock table and the query
``SELECT * FROM stock_stream WHERE price > 1000 OR price < 10`` exactly as
``laminar run`` does (the stdout sink's JSON lines, written to /dev/null). The
peers are the hand-written pipeline a user would otherwise write: an SSE client
(httpx-sse or launchdarkly-eventsource) + orjson + a Python filter + orjson
output. The server runs in another process (client_bench.serve) and answers the
reconnection after its stream with 204, which ends the query (reconnect_interval_ms
= 0, so no reconnection delay is timed). Every run must see every event and write
the same number of rows.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable

import orjson

from benchmarks import LAMINAR, Case, Options, SuiteResult, measure, rate_target, ratio_target
from benchmarks.client_bench import serve
from benchmarks.workloads import build

NAME = "e2e"
WORKLOAD = "small"
EVENTS = 300_000
QUICK_EVENTS = 30_000
QUERY = "SELECT * FROM stock_stream WHERE price > 1000 OR price < 10"
TABLE = """
CREATE TABLE stock_stream (
    symbol TEXT,
    price DECIMAL,
    volume BIGINT,
    ts BIGINT
) WITH (
    connector = 'sse_source',
    endpoint = '{url}',
    format = 'json',
    reconnect_interval_ms = 0
)
"""

Counts = tuple[int, int]  # (events seen, rows written)


def _laminar(url: str) -> Counts:
    from laminar.sql.engine import Engine

    async def main() -> Counts:
        engine = Engine(env={})
        engine.execute(TABLE.format(url=url))
        [query] = engine.execute(QUERY)
        rows = 0
        with open(os.devnull, "w") as out:
            async for lines in query.json_batches():
                out.write("\n".join(lines) + "\n")
                rows += len(lines)
        return query.stats.events_received, rows

    return asyncio.run(main())


def _keep(data: str, out: Callable[[bytes], object]) -> int:
    row = orjson.loads(data)
    price = row["price"]
    if price > 1000 or price < 10:
        out(orjson.dumps(row) + b"\n")
        return 1
    return 0


def _httpx_sse(url: str) -> Counts:
    import httpx
    from httpx_sse import connect_sse

    events = rows = 0
    with (
        open(os.devnull, "wb") as out,
        httpx.Client(timeout=None) as client,
        connect_sse(client, "GET", url) as source,
    ):
        write = out.write
        for ev in source.iter_sse():
            events += 1
            rows += _keep(ev.data, write)
    return events, rows


def _launchdarkly(url: str) -> Counts:
    from ld_eventsource import SSEClient

    events = rows = 0
    client = SSEClient(url)
    try:
        with open(os.devnull, "wb") as out:
            write = out.write
            for ev in client.events:
                events += 1
                rows += _keep(ev.data, write)
    finally:
        client.close()
    return events, rows


def _expected_rows(payload: bytes) -> int:
    datas = [line[6:] for line in payload.decode().split("\n") if line.startswith("data: ")]
    return sum(_keep(data, lambda _: None) for data in datas)


RUNNERS: dict[str, Callable[[str], Counts]] = {
    LAMINAR: _laminar,
    "httpx-sse+orjson": _httpx_sse,
    "launchdarkly+orjson": _launchdarkly,
}


def run(options: Options) -> SuiteResult:
    result = SuiteResult(NAME)
    events = QUICK_EVENTS if options.quick else EVENTS
    workload = build(WORKLOAD, events)
    expected_rows = _expected_rows(workload.payload)
    with serve([(WORKLOAD, events)]) as base:
        url = f"{base}/stream/{WORKLOAD}/{events}"
        cases = [Case(name, functools.partial(runner, url)) for name, runner in RUNNERS.items()]
        result.measurements = measure(
            WORKLOAD,
            cases,
            expected=(events, expected_rows),
            payload_bytes=len(workload.payload),
            rounds=options.rounds,
        )
    result.notes.append(f"query: {QUERY} ({expected_rows:,} of {events:,} events pass)")
    result.targets = [
        rate_target(result.measurements, WORKLOAD, 300_000, NAME),
        ratio_target(result.measurements, WORKLOAD, 2, NAME),
    ]
    return result
