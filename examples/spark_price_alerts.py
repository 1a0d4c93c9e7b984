"""`make demo-spark`: the demo feed's stock prices through Spark Structured Streaming.

Starts the embedded demo server (port 0), a local SparkSession, and the issue's
user code: the "Live Stock Prices" table declared in Laminar DDL, read by the
"laminar_sse" source, price alerts (price > 1000 or < 10) written to parquet with
a checkpoint. After a few seconds it stops and shows what landed.

    LAMINAR_SPARK_DEMO_SECONDS=20 python examples/spark_price_alerts.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
import time
from typing import Any

from laminar.demo_server import start_demo_server

SECONDS = float(os.environ.get("LAMINAR_SPARK_DEMO_SECONDS", "15"))
RATE = float(os.environ.get("LAMINAR_DEMO_RATE", "200"))  # events per second

DDL = """
CREATE CONNECTION demo_sse FROM sse_source WITH (endpoint = '${LAMINAR_DEMO}/stocks');
CREATE TABLE stock_stream (symbol TEXT, price DECIMAL, volume BIGINT, timestamp TIMESTAMP)
  WITH (connector = 'sse_source', connection = 'demo_sse', format = 'json',
        event_type_filter = '["price", "trade"]');
"""


def start_demo_in_thread(rate: float) -> tuple[str, Any]:
    """The demo server on its own loop in a daemon thread; (url, stop function)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    def main() -> None:
        asyncio.set_event_loop(loop)
        box["runner"], box["url"] = loop.run_until_complete(start_demo_server(rate=rate))
        ready.set()
        loop.run_forever()

    threading.Thread(target=main, name="demo-server", daemon=True).start()
    if not ready.wait(30):
        raise RuntimeError("the demo server did not start")

    def stop() -> None:
        asyncio.run_coroutine_threadsafe(box["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)

    return box["url"], stop


def local_spark() -> Any:
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers import laminar
    return (
        SparkSession.builder.master("local[2]").appName("laminar-spark-demo")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )


def run(spark: Any, workdir: str, seconds: float) -> list[Any]:
    """The issue's user code against the demo feed; the alert rows written to parquet."""
    import laminar.spark

    laminar.spark.register(spark)
    prices = laminar.spark.stream(
        spark, DDL, table="stock_stream", wal_path=os.path.join(workdir, "wal")
    )
    out = os.path.join(workdir, "alerts")
    query = (
        prices.where("price > 1000 OR price < 10").writeStream.format("parquet")
        .option("checkpointLocation", os.path.join(workdir, "ckpt"))
        .trigger(processingTime="1 second").start(out)
    )
    started, events, seen = time.monotonic(), 0, -1
    try:
        # At least `seconds`, and until events have been read (the first batch waits for
        # pyspark's workers to start); at most two minutes.
        while time.monotonic() - started < 120 and (
            time.monotonic() - started < seconds or events == 0
        ):
            time.sleep(0.5)
            if query.exception() is not None:
                raise query.exception()
            for progress in query.recentProgress:
                if progress["batchId"] > seen:
                    seen = progress["batchId"]
                    events += progress["numInputRows"]
                    print(f"batch {seen}: {progress['numInputRows']} events read", flush=True)
        while query.status["isTriggerActive"] and time.monotonic() - started < 130:
            time.sleep(0.1)  # let the batch in flight land before stopping
    finally:
        query.stop()
    return spark.read.schema(prices.schema).parquet(out).collect()


def main() -> int:
    url, stop_demo = start_demo_in_thread(RATE)
    os.environ["LAMINAR_DEMO"] = url  # before the JVM starts: its Python workers resolve it
    print(f"laminar demo-server is serving {url}; starting Spark (about 10-20 s)...", flush=True)
    spark = local_spark()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        with tempfile.TemporaryDirectory(prefix="laminar-spark-demo-") as workdir:
            rows = run(spark, workdir, SECONDS)
            print(f"\n{len(rows)} price alerts landed in parquet; the first few:")
            for row in sorted(rows, key=lambda r: r.timestamp)[:8]:
                print(f"  {row.timestamp:%H:%M:%S}  {row.symbol:<5} {row.price:>10}  "
                      f"volume {row.volume}")
        return 0 if rows else 1
    finally:
        spark.stop()
        stop_demo()


if __name__ == "__main__":
    sys.exit(main())
