"""µs/event of format = 'json' decoding, DuckDB path vs Python path.

Run standalone: ``python -m benchmarks.formats_bench [--rows 8192] [--repeat 5]``.
For each table of the product document (stock_stream, typed_events,
live_events) it decodes one batch of ``--rows`` ~95-byte payloads with the
SQL path (``use_sql = True``) and with the Python path, checks that both give
the same table, and prints the best-of-``--repeat`` time per event.
"""

from __future__ import annotations

import argparse
import json
import time

from laminar.formats import Column, FormatOptions, build_row_decoder
from laminar.formats.decoder import RowDecoder
from laminar.sse.event import SSEEvent


def _stock(i: int) -> str:
    return json.dumps(
        {
            "symbol": "AAPL",
            "price": 187.25 + (i % 1000) / 100,
            "volume": 1200 + i,
            "ts": 1_700_000_000_000 + i,
            "timestamp": "2026-11-28T09:00:00Z",
        },
        separators=(",", ":"),
    )


def _live(i: int) -> str:
    return json.dumps({"temp": 21.5, "unit": "C", "sensor": f"s-{i % 50}", "seq": i})


TABLES: dict[str, tuple[list[Column], FormatOptions, object]] = {
    "stock_stream": (
        [
            Column("symbol", "TEXT"),
            Column("price", "DECIMAL"),
            Column("volume", "BIGINT"),
            Column("ts", "BIGINT"),
            Column("timestamp", "TIMESTAMP"),
        ],
        FormatOptions(),
        _stock,
    ),
    "typed_events": (
        [
            Column("event_name", "TEXT"),
            Column("event_data", "JSON"),
            Column("event_id", "TEXT"),
            Column("retry_ms", "INTEGER"),
        ],
        FormatOptions(capture_event_name=True, capture_event_id=True, capture_retry=True),
        _live,
    ),
    "live_events": (
        [
            Column("event_id", "TEXT"),
            Column("event_type", "TEXT"),
            Column("timestamp", "TIMESTAMP"),
            Column("data", "JSON"),
        ],
        FormatOptions(),
        _live,
    ),
}


def _time(decoder: RowDecoder, events: list[SSEEvent], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        decoder.decode(events, 1_764_320_400_000)
        best = min(best, time.perf_counter() - start)
    return best / len(events) * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"{'table':<14} {'path':<7} {'us/event':>9}")
    for name, (columns, options, make) in TABLES.items():
        decoder = build_row_decoder(name, columns, options)
        events = [SSEEvent("tick", make(i), str(i), 3000) for i in range(args.rows)]  # type: ignore[operator]
        decoder.use_sql = True
        fast = decoder.decode(events, 1_764_320_400_000).table
        decoder.use_sql = False
        slow = decoder.decode(events, 1_764_320_400_000).table
        assert fast.equals(slow), f"{name}: the SQL path disagrees with the Python path"
        for label, flag in (("sql", True), ("python", False)):
            decoder.use_sql = flag
            print(f"{name:<14} {label:<7} {_time(decoder, events, args.repeat):>9.2f}")


if __name__ == "__main__":
    main()
