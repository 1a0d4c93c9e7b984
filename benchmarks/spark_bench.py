"""``python -m benchmarks.spark_bench [--events N] [--quick]``: the Spark source's throughput.

Three figures on this machine, the demo server's /bench "small" workload (stock ticks):

1. ``read()`` per partition: a WAL slice decoded into Arrow record batches (what one
   executor task does), next to Laminar's formats layer decoding the same events
   from memory (the plain run): the ratio is what the WAL costs.
2. Ingest: Laminar's client appending a stream to the WAL, next to the same client
   with no WAL.
3. Through Spark: events/s of a local[2] query (laminar_sse -> noop sink), from the
   first event to the last, JVM start-up excluded.

Figures, not targets; the one target (the issue's) is read() >= 200k events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import threading
import time
from typing import Any

SCHEMA = "symbol STRING, price DOUBLE, volume BIGINT, timestamp BIGINT"
READ_TARGET = 200_000


def _demo_server() -> tuple[str, Any]:
    from laminar.demo_server import start_demo_server

    loop = asyncio.new_event_loop()
    box: dict[str, Any] = {}
    ready = threading.Event()

    def main() -> None:
        asyncio.set_event_loop(loop)
        box["runner"], box["url"] = loop.run_until_complete(start_demo_server())
        ready.set()
        loop.run_forever()

    threading.Thread(target=main, daemon=True).start()
    ready.wait(30)

    def stop() -> None:
        asyncio.run_coroutine_threadsafe(box["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)

    return box["url"], stop


def _spec(url: str, wal: str) -> Any:
    from laminar.formats import Column
    from laminar.spark.options import parse_spark_options
    from laminar.spark.types import spark_schema

    columns = [Column("symbol", "TEXT"), Column("price", "DOUBLE"), Column("volume", "BIGINT"),
               Column("timestamp", "BIGINT")]
    spec = parse_spark_options({"endpoint": url, "wal_path": wal, "format": "json"}, columns)
    return spec, spark_schema(spec)


def ingest(url: str, wal_dir: str, events: int) -> tuple[float, float]:
    """(events/s into the WAL, events/s of the same client without the WAL)."""
    from laminar.connectors.sse.transport import EventSource
    from laminar.spark.wal import WalWriter

    async def pump(wal: WalWriter | None) -> float:
        source = EventSource(f"{url}/bench?workload=small&count={events}")
        start, seen = time.perf_counter(), 0
        async for batch in source.batches():
            if wal is not None:
                wal.append(batch, 0)
            seen += len(batch)
            if seen >= events:
                break
        await source.aclose()
        return seen / (time.perf_counter() - start)

    plain = max(asyncio.run(pump(None)) for _ in range(2))  # best of two: a warm client
    with_wal = 0.0
    for _ in range(2):
        shutil.rmtree(wal_dir, ignore_errors=True)
        wal = WalWriter(wal_dir)
        with_wal = max(with_wal, asyncio.run(pump(wal)))
        wal.sync()
        wal.close()
    return with_wal, plain


def read_partition(spec: Any, schema: Any, wal_dir: str, events: int) -> tuple[float, float]:
    """(read() events/s of one WAL slice, the formats layer alone on the same events)."""
    from laminar.formats import build_row_decoder
    from laminar.spark.source import WalSlice, decode_slice
    from laminar.spark.wal import read_range

    part = WalSlice("bench", wal_dir, "bench", 0, events)
    best_read = best_plain = 0.0
    in_memory = [chunk for chunk in read_range(wal_dir, 0, events)]
    decoder = build_row_decoder("bench", list(spec.columns), spec.options.format)
    for _ in range(3):
        start = time.perf_counter()
        rows = sum(b.num_rows for b in decode_slice(spec, schema, part))
        best_read = max(best_read, rows / (time.perf_counter() - start))
        start = time.perf_counter()
        rows = sum(decoder.decode(ev, arr).table.num_rows for ev, arr in in_memory)
        best_plain = max(best_plain, rows / (time.perf_counter() - start))
    return best_read, best_plain


def through_spark(url: str, workdir: str, events: int) -> float:
    """Events/s of laminar_sse -> noop in a local[2] session, first to last event."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    import laminar.spark

    spark = (
        SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    laminar.spark.register(spark)
    try:
        # A warm-up query starts pyspark's Python workers; the measured one finds them ready.
        for name, count in (("warmup", 1000), ("measured", events)):
            df = (
                spark.readStream.format("laminar_sse")
                .option("endpoint", f"{url}/bench?workload=small&count={count}")
                .option("wal_path", os.path.join(workdir, name)).schema(SCHEMA).load()
            )
            query = (
                df.writeStream.format("noop")
                .option("checkpointLocation", os.path.join(workdir, f"ckpt-{name}"))
                .trigger(processingTime="0 seconds").start()
            )
            start, done = time.perf_counter(), 0
            first: float | None = None
            while done < count and time.perf_counter() - start < 600:
                time.sleep(0.05)
                done = sum(p["numInputRows"] for p in query.recentProgress)
                if done and first is None:
                    first = time.perf_counter()
            end = time.perf_counter()
            query.stop()
        assert first is not None
        return events / (end - start)
    finally:
        spark.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--quick", action="store_true", help="fewer events, no Spark query")
    args = parser.parse_args(argv)
    events = 50_000 if args.quick else args.events
    url, stop = _demo_server()
    workdir = tempfile.mkdtemp(prefix="laminar-spark-bench-")
    try:
        spec, schema = _spec(url, workdir)
        wal_dir = os.path.join(workdir, "ingest")
        with_wal, plain = ingest(url, wal_dir, events)
        print(f"ingest into the WAL      {with_wal:>12,.0f} events/s   "
              f"client alone {plain:>12,.0f}   ratio {with_wal / plain:.2f}")
        read, decode = read_partition(spec, schema, wal_dir, events)
        verdict = "PASS" if read >= READ_TARGET else "FAIL"
        print(f"read() per partition     {read:>12,.0f} events/s   "
              f"formats layer alone {decode:>12,.0f}   ratio {read / decode:.2f}   "
              f"{verdict} (target >= {READ_TARGET:,})")
        if not args.quick:
            spark = through_spark(url, workdir, events)
            print(f"through Spark (local[2]) {spark:>12,.0f} events/s   "
                  f"(laminar_sse -> noop, {events:,} events, first request to last row)")
    finally:
        stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
