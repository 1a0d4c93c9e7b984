"""The stream reader's driver-side protocol without a JVM: offsets, admission, commit."""

from __future__ import annotations

import os
import pickle
import socket
import time

import pytest

from laminar.errors import ReconnectExhaustedError
from laminar.formats import Column
from laminar.spark.options import parse_spark_options
from laminar.spark.source import LaminarStreamReader
from laminar.spark.types import spark_schema
from laminar.spark.wal import WalError, WalWriter, list_segments
from laminar.sse.event import SSEEvent
from tests.spark.feed import Feed

# Read limits and Trigger.AvailableNow came with pyspark 4.2.
_limits = pytest.importorskip("pyspark.sql.streaming.datasource", reason="pyspark < 4.2")
ReadAllAvailable, ReadMaxRows = _limits.ReadAllAvailable, _limits.ReadMaxRows


def test_admission_partitions_read_and_commit(feeds, tmp_path):
    feeds.feeds["a"] = Feed(total=500)
    spec = parse_spark_options(
        {"endpoint": feeds.url("a"), "wal_path": str(tmp_path), "maxEventsPerTrigger": "100",
         "event_type_filter": '["price_update"]'},
        [Column("symbol", "TEXT"), Column("seq", "BIGINT")],
    )
    wal_dir = spec.endpoints[0].wal_dir
    writer = WalWriter(wal_dir, segment_bytes=2000)  # the WAL of an earlier run: 50 frames
    for first in range(1, 501, 10):
        batch = [SSEEvent("price_update", f'{{"symbol": "a", "seq": {n}}}', str(n))
                 for n in range(first, first + 10)]
        writer.append(batch, 0)
    writer.close()
    reader = LaminarStreamReader(spec, spark_schema(spec))
    key = spec.endpoints[0].key
    try:
        assert isinstance(reader.getDefaultReadLimit(), ReadMaxRows)
        # pyspark < 4.2 calls latestOffset() alone: the option applies from the last offset
        assert reader.latestOffset()[key]["seq"] == 100
        assert reader.latestOffset()[key]["seq"] == 200
        start = {key: {"seq": 0, "id": ""}}
        end = reader.latestOffset(start, ReadMaxRows(100))
        assert end == {key: {"seq": 100, "id": "100"}}
        assert reader.latestOffset(start, ReadAllAvailable())[key]["seq"] == 500
        (part,) = reader.partitions(start, end)
        batches = list(reader.read(part))
        assert [r["seq"] for b in batches for r in b.to_pylist()] == list(range(1, 101))
        assert reader.partitions(end, end) == []
        segments = len(list_segments(wal_dir))
        reader.commit(end)
        assert len(list_segments(wal_dir)) < segments
        # the server was asked to resume after what the WAL held
        assert feeds.feeds["a"].last_ids == ["500"]
    finally:
        reader.stop()
    assert os.path.exists(os.path.join(wal_dir, "COMMITTED"))


def test_a_fatal_endpoint_error_fails_latest_offset(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = parse_spark_options(
        {"endpoint": f"http://127.0.0.1:{port}/x", "wal_path": str(tmp_path),
         "max_reconnect_attempts": "1", "reconnect_interval_ms": "10", "token": "s3cr3t-tok"},
        [Column("data", "TEXT")],
    )
    reader = LaminarStreamReader(spec, spark_schema(spec))
    assert b"s3cr3t-tok" not in pickle.dumps(reader)  # executors never get credentials
    try:
        reader.initialOffset()  # a new query
        deadline = time.monotonic() + 30
        with pytest.raises(ReconnectExhaustedError):
            while time.monotonic() < deadline:
                reader.latestOffset()
                time.sleep(0.05)
    finally:
        reader.stop()


def test_available_now_freezes_the_target(feeds, tmp_path):
    feeds.feeds["a"] = Feed(total=600)
    spec = parse_spark_options(
        {"endpoint": feeds.url("a"), "wal_path": str(tmp_path)},
        [Column("symbol", "TEXT"), Column("seq", "BIGINT")],
    )
    writer = WalWriter(spec.endpoints[0].wal_dir)  # an earlier run left 500 events
    writer.append([SSEEvent("message", "{}", str(n)) for n in range(1, 501)], 0)
    writer.close()
    reader = LaminarStreamReader(spec, spark_schema(spec))
    key = spec.endpoints[0].key
    start = {key: {"seq": 0, "id": ""}}
    try:
        reader.prepareForTriggerAvailableNow()
        first = reader.latestOffset(start, ReadAllAvailable())
        assert first[key]["seq"] >= 500
        deadline = time.monotonic() + 30
        while reader.reportLatestOffset()[key]["seq"] < 600 and time.monotonic() < deadline:
            time.sleep(0.05)  # the stream goes on (events 501..600 arrive)
        assert reader.reportLatestOffset()[key]["seq"] == 600
        assert reader.latestOffset(first, ReadAllAvailable()) == first  # but not the query
    finally:
        reader.stop()


def test_a_wal_that_lost_sparks_offset_fails_the_batch(tmp_path):
    """pyspark < 4.2 restarts with latestOffset() alone: a lost WAL shows in partitions()."""
    spec = parse_spark_options(
        {"endpoint": "http://127.0.0.1:9/x", "wal_path": str(tmp_path)}, [Column("data", "TEXT")]
    )
    reader = LaminarStreamReader(spec, spark_schema(spec))
    key = spec.endpoints[0].key
    try:
        end = reader.latestOffset()  # the WAL starts empty at 0
        with pytest.raises(WalError, match=r"pyspark >= 4\.2"):
            reader.partitions({key: {"seq": 3000, "id": "3000"}}, end)
    finally:
        reader.stop()
