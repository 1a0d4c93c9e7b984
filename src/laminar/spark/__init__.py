"""Laminar's SSE tables as an Apache Spark Structured Streaming source (pyspark >= 4.0).

    import laminar.spark
    laminar.spark.register(spark)          # the "laminar_sse" format
    df = spark.readStream.format("laminar_sse").option("endpoint", url)...load()
    df = laminar.spark.stream(spark, ddl, table="stock_stream")   # from Laminar DDL

See docs/spark.md. Needs ``pip install 'laminar[spark]'`` and Java 17+.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FORMAT = "laminar_sse"
_REGISTERED: set[int] = set()  # sessions this process registered the format with


def register(spark: SparkSession) -> None:
    """Register the "laminar_sse" format with ``spark`` (idempotent)."""
    from laminar.spark.source import LaminarSSEDataSource

    key = id(spark)
    if key not in _REGISTERED:
        spark.dataSource.register(LaminarSSEDataSource)
        _REGISTERED.add(key)


def stream(spark: SparkSession, ddl: str, table: str | None = None, **options: Any) -> DataFrame:
    """A streaming DataFrame of ``table`` as Laminar DDL declares it (connections included).

    ``options`` are laid over the DDL's (e.g. ``wal_path=...``, ``maxEventsPerTrigger=...``).
    """
    from laminar.spark.ddl import merge, options_from_ddl
    from laminar.spark.options import parse_spark_options
    from laminar.spark.types import spark_schema_of

    register(spark)
    opts, _columns = options_from_ddl(ddl, table)
    opts = merge(opts, options)
    spec = parse_spark_options(opts, None)  # every option checked before Spark starts
    schema = spark_schema_of(spec.columns, spec.capture_endpoint)
    return spark.readStream.format(FORMAT).options(**opts).schema(schema).load()


__all__ = ["FORMAT", "register", "stream"]
