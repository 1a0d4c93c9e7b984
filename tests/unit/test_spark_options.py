"""Options of the Spark source: Laminar's own validation plus the Spark-only ones."""

from __future__ import annotations

import json

import pytest

from laminar.errors import ConfigError
from laminar.formats import Column
from laminar.spark.ddl import options_from_ddl
from laminar.spark.options import endpoint_key, parse_spark_options

COLS = [Column("symbol", "TEXT"), Column("price", "DECIMAL")]


def test_every_laminar_option_is_validated_by_laminar():
    spec = parse_spark_options(
        {"endpoint": "http://127.0.0.1:1/a", "format": "json", "auth_type": "bearer",
         "token": "${TOKEN}", "event_type_filter": '["price_update"]',
         "reconnect_interval_ms": "5", "wal_path": "/tmp/x"},
        COLS,
    )
    assert spec.options.event_type_filter == ("price_update",)
    assert spec.endpoints[0].connection.reconnect_interval_ms == 5
    assert spec.endpoints[0].wal_dir == f"/tmp/x/{endpoint_key('http://127.0.0.1:1/a')}"
    with pytest.raises(ConfigError, match="reconnect_interval_ms"):
        parse_spark_options({"endpoint": "http://h/a", "reconnect_interval_ms": "soon"}, COLS)
    with pytest.raises(ConfigError, match="did you mean"):
        parse_spark_options({"endpoint": "http://h/a", "fromat": "json"}, COLS)


@pytest.mark.parametrize(
    ("option", "hint"),
    [("buffer_size", "maxEventsPerTrigger"), ("parallelism", "repartition"),
     ("deduplicate_by", "dropDuplicatesWithinWatermark"), ("buffer_timeout_ms", "trigger"),
     ("max_batch_bytes", "maxEventsPerTrigger")],
)
def test_runtime_only_options_are_refused_with_what_to_use(option, hint):
    with pytest.raises(ConfigError, match=hint) as info:
        parse_spark_options({"endpoint": "http://h/a", option: "4"}, COLS)
    assert info.value.option == option


def test_endpoints_and_capture_endpoint():
    urls = ["http://h/a", "http://h/b"]
    spec = parse_spark_options(
        {"endpoints": json.dumps(urls), "capture_endpoint": "true"},
        [*COLS, Column("endpoint", "TEXT")],
    )
    assert [e.display for e in spec.endpoints] == urls
    assert spec.output_names == ["symbol", "price", "endpoint"]
    with pytest.raises(ConfigError, match="endpoint STRING"):
        parse_spark_options({"endpoint": "http://h/a", "capture_endpoint": "true"}, COLS)
    with pytest.raises(ConfigError, match="both set"):
        parse_spark_options({"endpoint": "http://h/a", "endpoints": json.dumps(urls)}, COLS)
    with pytest.raises(ConfigError, match="JSON array"):
        parse_spark_options({"endpoints": "http://h/a"}, COLS)


def test_ddl_with_connection_and_spark_options():
    options, columns = options_from_ddl(
        """
        CREATE CONNECTION stock_sse FROM sse_source WITH (
            endpoint = 'http://127.0.0.1:1/stocks', auth_type = 'bearer', token = '${TOKEN}');
        CREATE TABLE stock_stream (symbol TEXT, price DECIMAL, volume BIGINT, timestamp TIMESTAMP)
          WITH (connector = 'sse_source', connection = 'stock_sse', format = 'json',
                wal_path = '/tmp/w', maxEventsPerTrigger = 100);
        """,
        table="stock_stream",
    )
    assert options["token"] == "${TOKEN}"  # resolved at each connection, as in Laminar
    assert options["wal_path"] == "/tmp/w"
    assert [c.name for c in columns] == ["symbol", "price", "volume", "timestamp"]
    spec = parse_spark_options(options, None)
    assert spec.max_events_per_trigger == 100
    assert spec.columns[1].type == "DECIMAL"
    with pytest.raises(ConfigError, match="not created"):
        options_from_ddl("CREATE TABLE t (a TEXT) WITH (endpoint = 'http://h/a');", table="x")
    with pytest.raises(ConfigError, match="CREATE CONNECTION and CREATE TABLE"):
        options_from_ddl("SELECT 1;")


def test_secrets_stay_out_of_messages():
    with pytest.raises(ConfigError) as info:
        parse_spark_options(
            {"endpoint": "http://h/a", "token": "s3cr3t-value", "auth_type": "api_key"}, COLS
        )
    assert "s3cr3t-value" not in str(info.value)


def test_a_slice_is_filtered_by_event_type_as_laminar_run_filters(tmp_path):
    from laminar.spark.source import WalSlice, decode_slice
    from laminar.spark.types import spark_schema
    from laminar.spark.wal import WalWriter
    from laminar.sse.event import SSEEvent

    spec = parse_spark_options(
        {"endpoint": "http://h/a", "wal_path": str(tmp_path),
         "event_type_filter": '["price"]', "add_timestamp": "true"},
        [Column("n", "BIGINT"), Column("timestamp", "TIMESTAMP")],
    )
    (endpoint,) = spec.endpoints
    wal = WalWriter(endpoint.wal_dir)
    kinds = ["price", "ping", "price", "news", "price"]
    wal.append([SSEEvent(k, f'{{"n": {i}}}', str(i)) for i, k in enumerate(kinds)],
               1_733_450_000_000)
    wal.append([SSEEvent("ping", "{}", "9")], 1_733_450_001_000)  # a frame of others only
    wal.close()
    part = WalSlice(endpoint.key, endpoint.wal_dir, endpoint.display, 0, 6)
    batches = list(decode_slice(spec, spark_schema(spec), part))
    rows = [row for batch in batches for row in batch.to_pylist()]
    assert [r["n"] for r in rows] == [0, 2, 4]
    assert {r["timestamp"].year for r in rows} == {2024}  # arrival kept with its event
