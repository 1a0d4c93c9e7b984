"""The records behind system.connector_metrics: one per network read of each committed batch.

``BatchRing.add_batch`` stores, for every committed micro-batch, one record per
distinct arrival time (events of one network read share it): commit time,
table, connection, query id, batch number, arrival time, event count, lag and
the batch's processing time. ``snapshot()`` returns them as an Arrow table;
the system table expands each record to ``events`` rows at query time (in
DuckDB), so ``COUNT(*)`` counts events exactly while memory holds records,
not events.

Memory is bounded twice: records older than ``retention_s`` (15 minutes by
default) are dropped, and at most ``capacity`` records (200,000) are kept.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from typing import Any, NamedTuple

import pyarrow as pa

DEFAULT_RETENTION_S = 15 * 60.0
DEFAULT_CAPACITY = 200_000

RECORD_SCHEMA = pa.schema(
    [
        ("timestamp", pa.timestamp("us")),
        ("connector", pa.string()),
        ("table_name", pa.string()),
        ("connection_name", pa.string()),
        ("query_id", pa.int64()),
        ("batch_id", pa.int64()),
        ("arrival_time", pa.timestamp("us")),
        ("events", pa.int64()),
        ("lag_ms", pa.float64()),
        ("processing_time_ms", pa.float64()),
    ]
)


class BatchRecord(NamedTuple):
    committed: float  # epoch seconds
    connector: str
    table: str
    connection: str | None
    query_id: int
    batch_id: int
    arrival_ms: int  # epoch ms
    events: int
    lag_ms: float
    processing_ms: float


class BatchRing:
    """Bounded history of committed batches; see the module docstring."""

    def __init__(
        self, retention_s: float = DEFAULT_RETENTION_S, capacity: int = DEFAULT_CAPACITY
    ) -> None:
        self.retention_s = retention_s
        self._records: deque[BatchRecord] = deque(maxlen=capacity)

    def add_batch(
        self,
        monitor: Any,
        committed: float,
        batch_id: int,
        processing_ms: float,
        runs: Iterable[tuple[int, int, float]],
    ) -> None:
        """Store the batch's runs: ``(arrival epoch ms, events, lag ms)`` each."""
        records = self._records
        connection = monitor.connection or None
        for arrival_ms, events, lag_ms in runs:
            records.append(
                BatchRecord(
                    committed,
                    "sse_source",
                    monitor.table,
                    connection,
                    monitor.query_id,
                    batch_id,
                    arrival_ms,
                    events,
                    lag_ms,
                    processing_ms,
                )
            )
        horizon = committed - self.retention_s
        while records and records[0].committed < horizon:
            records.popleft()

    def snapshot(self) -> pa.Table:
        """The records as an Arrow table (RECORD_SCHEMA); safe from another thread."""
        records = list(self._records)
        horizon = time.time() - self.retention_s
        records = [r for r in records if r.committed >= horizon]
        if not records:
            return RECORD_SCHEMA.empty_table()
        columns = list(zip(*records, strict=True))
        return pa.Table.from_arrays(
            [
                pa.array([int(t * 1_000_000) for t in columns[0]], pa.timestamp("us")),
                pa.array(columns[1], pa.string()),
                pa.array(columns[2], pa.string()),
                pa.array(columns[3], pa.string()),
                pa.array(columns[4], pa.int64()),
                pa.array(columns[5], pa.int64()),
                pa.array([ms * 1000 for ms in columns[6]], pa.timestamp("us")),
                pa.array(columns[7], pa.int64()),
                pa.array(columns[8], pa.float64()),
                pa.array(columns[9], pa.float64()),
            ],
            schema=RECORD_SCHEMA,
        )

    def __len__(self) -> int:
        return len(self._records)
