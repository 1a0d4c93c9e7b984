"""One local SparkSession for the whole test session (the JVM takes ~20 s to start).

Spark tests are skipped only when pyspark is not installed AND LAMINAR_SPARK_TESTS is
not "required" (.ci/run sets it: in CI they must run).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Iterator

import pytest

from tests.spark.feed import FeedServer

SPARK_MISSING = importlib.util.find_spec("pyspark") is None
if SPARK_MISSING and os.environ.get("LAMINAR_SPARK_TESTS") == "required":
    raise RuntimeError(
        "LAMINAR_SPARK_TESTS=required but pyspark is not installed: "
        "pip install -e '.[spark]' (make test does)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.spark)
            if SPARK_MISSING:
                item.add_marker(pytest.mark.skip(
                    reason="pyspark is not installed (pip install -e '.[spark]'); "
                    "set LAMINAR_SPARK_TESTS=required to make this an error"
                ))


os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
# Python workers must import laminar: run them with this interpreter (the venv).
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
# ${VAR}s resolve in Spark's Python workers, which inherit the JVM's environment: set
# them before the session starts.
os.environ.setdefault("LAMINAR_SPARK_TEST_TOKEN", "tok-123456")

# A fast-starting JVM for tests: no JIT tiers beyond C1, small heap.
JAVA_OPTIONS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss4m -Xshare:auto"


def spark_builder():  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("laminar-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", JAVA_OPTIONS)
        .config("spark.executor.extraJavaOptions", JAVA_OPTIONS)
        .config("spark.python.worker.reuse", "true")
        .config("spark.sql.streaming.noDataMicroBatches.enabled", "false")
    )


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    import laminar.spark

    session = spark_builder().getOrCreate()
    laminar.spark.register(session)
    yield session
    session.stop()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.close()


def collect(spark, df, name: str, expected: int, checkpoint: str, timeout: float = 60.0) -> list:  # type: ignore[no-untyped-def]
    """Run ``df`` into a memory table until it holds ``expected`` rows; its rows."""
    query = (
        df.writeStream.format("memory").queryName(name)
        .option("checkpointLocation", checkpoint).start()
    )
    deadline = time.monotonic() + timeout
    try:
        while True:
            query.processAllAvailable()
            rows = spark.sql(f"SELECT * FROM {name}").collect()
            if len(rows) >= expected or time.monotonic() > deadline:
                return rows
            time.sleep(0.2)
    finally:
        query.stop()
