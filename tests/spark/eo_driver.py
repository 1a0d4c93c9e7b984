"""A Spark driver for the exactly-once test: an SSE table into parquet, until killed.

    python -m tests.spark.eo_driver URL WAL CHECKPOINT OUT
"""

from __future__ import annotations

import sys

from tests.spark.conftest import spark_builder


def main(url: str, wal: str, checkpoint: str, out: str) -> None:
    import laminar.spark

    spark = spark_builder().getOrCreate()
    df = laminar.spark.stream(
        spark,
        f"CREATE TABLE feed (symbol TEXT, seq BIGINT, price DECIMAL(18,3)) "
        f"WITH (endpoint = '{url}', format = 'json', reconnect_interval_ms = 50, "
        f"wal_path = '{wal}');",
    )
    query = (
        df.writeStream.format("parquet").option("checkpointLocation", checkpoint)
        .trigger(processingTime="200 milliseconds").start(out)
    )
    print("started", flush=True)
    query.awaitTermination()


if __name__ == "__main__":
    main(*sys.argv[1:5])
