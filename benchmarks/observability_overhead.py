"""Cost of instrumentation: the e2e pipeline with observability on vs off, alternating.

    python -m benchmarks.observability_overhead [EVENTS] [ROUNDS]

Runs the e2e suite's query (``SELECT * FROM stock_stream WHERE price > 1000 OR
price < 10``, json, loopback) with the engine's monitors (metrics, logs, the
system tables' records) switched off and on in turn, and prints the medians and
the overhead. The table is measured twice: without and with a TIMESTAMP column
(which adds the source-lag histogram).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time

from benchmarks.client_bench import serve
from laminar.sql.engine import Engine

TABLE = """CREATE TABLE stock_stream (symbol TEXT, price DECIMAL, volume BIGINT, {tcol})
WITH (connector = 'sse_source', endpoint = '{url}', format = 'json', reconnect_interval_ms = 0)"""
QUERY = "SELECT * FROM stock_stream WHERE price > 1000 OR price < 10"


def once(url: str, events: int, enabled: bool, tcol: str) -> float:
    """Events per second of one run."""

    async def main() -> float:
        engine = Engine(env={})
        engine.observability.enabled = enabled
        engine.execute(TABLE.format(url=url, tcol=tcol))
        [query] = engine.execute(QUERY)
        started = time.perf_counter()
        with open(os.devnull, "w") as out:
            async for lines in query.json_batches():
                out.write("\n".join(lines) + "\n")
        assert query.stats.events_received == events
        return events / (time.perf_counter() - started)

    return asyncio.run(main())


def main(argv: list[str]) -> int:
    events = int(argv[0]) if argv else 300_000
    rounds = int(argv[1]) if len(argv) > 1 else 7
    with serve([("small", events)]) as base:
        url = f"{base}/stream/small/{events}"
        for tcol in ("ts BIGINT", "timestamp TIMESTAMP"):
            once(url, events, True, tcol)  # warm-up
            on: list[float] = []
            off: list[float] = []
            for _ in range(rounds):
                off.append(once(url, events, False, tcol))
                on.append(once(url, events, True, tcol))
            m_on, m_off = statistics.median(on), statistics.median(off)
            print(
                f"{tcol:20s} off {m_off:>9,.0f} ev/s  on {m_on:>9,.0f} ev/s  "
                f"overhead {100 * (1 - m_on / m_off):+.1f}%  "
                f"(median of {rounds}, {events:,} events)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
