"""The "laminar_sse" Spark source end to end: real SSE servers, a local SparkSession."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

import laminar.spark
from laminar.errors import ConfigError
from tests.spark.conftest import collect
from tests.spark.feed import Feed

pytestmark = pytest.mark.timeout(120)


def test_options_form_json_with_event_type_filter(spark, feeds, tmp_path):
    feeds.feeds["prices"] = Feed(total=200, mixed=True)
    df = (
        spark.readStream.format("laminar_sse")
        .option("endpoint", feeds.url("prices"))
        .option("format", "json").option("event_type_filter", '["price_update"]')
        .option("wal_path", str(tmp_path / "wal"))
        .schema("symbol STRING, price DECIMAL(18,3), seq BIGINT, ts TIMESTAMP")
        .load()
    )
    rows = collect(spark, df, "filtered", 100, str(tmp_path / "ckpt"))
    assert sorted(r.seq for r in rows) == list(range(1, 201, 2))  # heartbeats dropped
    first = min(rows, key=lambda r: r.seq)
    assert first.price == Decimal("1.125")
    assert first.ts.isoformat().startswith("2026-01-02T03:04:05")  # session time zone UTC


def test_ddl_form_with_connection_token_and_types(spark, feeds, tmp_path):
    feeds.feeds["stocks"] = Feed(total=60)
    df = laminar.spark.stream(
        spark,
        f"""
        CREATE CONNECTION stock_sse FROM sse_source WITH (
            endpoint = '{feeds.url("stocks")}', auth_type = 'bearer',
            token = '${{LAMINAR_SPARK_TEST_TOKEN}}');
        CREATE TABLE stock_stream (symbol TEXT, price DECIMAL, seq BIGINT, ts TIMESTAMP,
                                   event_id TEXT)
          WITH (connector = 'sse_source', connection = 'stock_sse', format = 'json',
                capture_event_id = true, wal_path = '{tmp_path / "wal"}');
        """,
        table="stock_stream",
    )
    assert str(df.schema["price"].dataType) == "DecimalType(18,3)"  # Laminar's default
    rows = collect(spark, df.where("price > 30.5"), "ddl_form", 30, str(tmp_path / "ckpt"))
    assert sorted(r.seq for r in rows) == list(range(31, 61))
    assert {r.event_id for r in rows} == {str(n) for n in range(31, 61)}
    assert feeds.feeds["stocks"].auth[0] == "Bearer tok-123456"


def test_several_endpoints_one_partition_each(spark, feeds, tmp_path):
    for name in ("a", "b", "c"):
        feeds.feeds[name] = Feed(total=80, per_connection=30)  # cut: resumes by Last-Event-ID
    urls = [feeds.url(n) for n in ("a", "b", "c")]
    df = (
        spark.readStream.format("laminar_sse")
        .option("endpoints", json.dumps(urls)).option("capture_endpoint", "true")
        .option("reconnect_interval_ms", "50")
        .option("wal_path", str(tmp_path / "wal"))
        .schema("symbol STRING, seq BIGINT, endpoint STRING")
        .load()
    )
    rows = collect(spark, df, "multi", 240, str(tmp_path / "ckpt"))
    assert len(rows) == 240
    for name, url in zip(("a", "b", "c"), urls, strict=True):
        mine = [r for r in rows if r.endpoint == url]
        assert sorted(r.seq for r in mine) == list(range(1, 81))
        assert {r.symbol for r in mine} == {name}
        assert feeds.feeds[name].last_ids[:3] == ["", "30", "60"]


@pytest.mark.parametrize("fmt", ["text", "custom"])
def test_text_and_custom_formats(spark, feeds, tmp_path, fmt):
    feeds.feeds[fmt] = Feed(total=50, fmt=fmt)
    if fmt == "text":
        table = "message TEXT, timestamp TIMESTAMP"
        extra = "add_timestamp = true"
    else:
        table = "id TEXT, value FLOAT, metadata JSON"
        extra = r"parser_regex = '^id:(\S+) value:(\d+\.?\d*) meta:(.*)$'"
    df = laminar.spark.stream(
        spark,
        f"CREATE TABLE t ({table}) WITH (endpoint = '{feeds.url(fmt)}', format = '{fmt}', "
        f"{extra}, wal_path = '{tmp_path / 'wal'}');",
    )
    rows = collect(spark, df, f"fmt_{fmt}", 50, str(tmp_path / "ckpt"))
    assert len(rows) == 50
    if fmt == "text":
        assert sorted(r.message for r in rows)[0] == "text line 1"
        assert all(r.timestamp is not None for r in rows)
    else:
        row = next(r for r in rows if r.id == "custom-7")
        assert row.value == 7.5
        assert json.loads(row.metadata) == {"n": 7}


def test_capture_errors_rows(spark, feeds, tmp_path):
    feeds.feeds["bad"] = Feed(total=50, fmt="bad")  # every 5th payload is not JSON
    df = laminar.spark.stream(
        spark,
        f"""CREATE TABLE t (symbol TEXT, seq BIGINT, error_message TEXT, error_timestamp TIMESTAMP)
            WITH (endpoint = '{feeds.url("bad")}', format = 'json', capture_errors = true,
                  wal_path = '{tmp_path / "wal"}');""",
    )
    rows = collect(spark, df, "errors", 50, str(tmp_path / "ckpt"))
    errors = [r for r in rows if r.error_message is not None]
    assert len(rows) == 50 and len(errors) == 10
    assert all(r.error_timestamp is not None and r.seq is None for r in errors)


def test_runtime_options_are_refused_before_spark_runs(spark):
    with pytest.raises(ConfigError, match="maxEventsPerTrigger"):
        laminar.spark.stream(
            spark, "CREATE TABLE t (a TEXT) WITH (endpoint = 'http://127.0.0.1:9/a', "
            "buffer_size = 10);"
        )
