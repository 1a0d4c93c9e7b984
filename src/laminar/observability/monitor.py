"""QueryMonitor: what observability records about one running continuous query.

The engine creates one per ContinuousQuery (``Observability.watch``) and sets it
as ``query.monitor``; the query calls, on the event loop, in this order:

    start()                        before its first batch (sets the log context)
    processed(batch, elapsed_ms)   after DuckDB ran on a micro-batch
    committed(batch)               once the batch's rows were handed to the sink
                                   (right after ``processed`` when it produced none)
    stop()                         when it ends, however it ends

Per batch (never per event in Python) it feeds the lag, batch-size and
processing-time histograms and one record per network read into the
connector_metrics ring. Lags:

* event lag (``laminar_sse_event_lag_ms``): from the moment the event's bytes
  were read from the socket to the moment its batch was committed to the sink
  (rows handed over; for events that produced no row, when the query was done
  with their batch). Events of one network read share their arrival time.
* source lag (``laminar_sse_event_source_lag_ms``): from the time the payload
  says (the table's first TIMESTAMP column other than ``error_timestamp``,
  unless ``add_timestamp`` fills it with the arrival time) to the arrival time.
  Exact per row when the batch's rows line up with its events (one partition,
  nothing dropped), else measured against the batch's last arrival time.

``PipelineObserver`` is the SourceObserver given to the table's EventSource:
it tracks the connection's life (connected since, disconnect reasons) and
files the client's log lines under the query.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from laminar import arrow_compute as pc
from laminar.connectors.sse.observer import SourceObserver
from laminar.observability.histogram import (
    BATCH_SIZE_BUCKETS,
    LAG_BUCKETS_MS,
    PROCESSING_BUCKETS_MS,
    Buckets,
)
from laminar.observability.logs import LogContext
from laminar.runtime.batching import arrival_array

if TYPE_CHECKING:
    from laminar.connectors.sse.source import SSETableSource
    from laminar.observability.batch_ring import BatchRing
    from laminar.observability.logs import LogRing
    from laminar.runtime.operators.source_stage import RowBatch
    from laminar.runtime.stats import PipelineStats

CONNECTOR = "sse_source"


class SeriesHistograms:
    """The histograms of one (table, connection) label set, shared by its queries."""

    __slots__ = ("batch_size", "event_lag", "processing", "source_lag")

    def __init__(self) -> None:
        self.event_lag = Buckets(LAG_BUCKETS_MS)
        self.source_lag = Buckets(LAG_BUCKETS_MS)
        self.batch_size = Buckets(BATCH_SIZE_BUCKETS)
        self.processing = Buckets(PROCESSING_BUCKETS_MS)


class PipelineObserver(SourceObserver):
    """The connection's life, seen from the SSE client (see the module docstring)."""

    def __init__(self) -> None:
        self.monitor: QueryMonitor | None = None
        self.connected_since: float | None = None
        self.disconnects: Counter[str] = Counter()
        self.last_disconnect: str | None = None
        self.next_retry_at: float | None = None
        self._early: list[tuple[str, str]] = []  # log lines before the monitor is bound

    def bind(self, monitor: QueryMonitor) -> None:
        self.monitor = monitor
        for level, message in self._early:
            monitor.log_context.record(level, message)
        self._early.clear()

    def on_open(self, status: int, headers: Mapping[str, str]) -> None:
        self.connected_since = time.time()
        self.next_retry_at = None

    def on_disconnect(self, reason: str, error: BaseException | None) -> None:
        self.connected_since = None
        self.disconnects[reason] += 1
        self.last_disconnect = reason

    def on_retry(self, attempt: int, delay_s: float, reason: str) -> None:
        self.next_retry_at = time.time() + delay_s

    def on_log(self, level: str, message: str) -> None:
        if self.monitor is None:
            self._early.append((level, message))
        else:
            self.monitor.log_context.record(level, message)


class RunningQuery(Protocol):
    """What a monitor reads of its query (``laminar.sql.ContinuousQuery`` is one): the
    runtime's hook, so observability never imports the SQL layer."""

    id: int
    stats: PipelineStats
    source: SSETableSource
    monitor: Any


class MonitorHub(Protocol):
    """What a monitor records into (``Observability`` is one): logs, batch records, series."""

    logs: LogRing
    metrics: BatchRing

    def series(self, table: str, connection: str) -> SeriesHistograms: ...


class QueryMonitor:
    """See the module docstring."""

    def __init__(
        self, hub: MonitorHub, query: RunningQuery, observer: PipelineObserver
    ) -> None:
        table = query.source.table
        self.hub = hub
        self.query = query
        self.query_id = query.id
        self.table = table.name
        self.connection = table.options.connection or ""
        self.endpoint = table.connection.display_endpoint
        self.observer = observer
        self.log_context = LogContext(
            hub.logs, CONNECTOR, self.table, table.options.connection, self.query_id
        )
        self.series = hub.series(self.table, self.connection)
        self.started_at = time.time()
        self.ended_at: float | None = None
        self.batch_seq = 0
        self.last_processing_ms = 0.0
        self._processed_at = 0.0
        self._elapsed_ms = 0.0
        self._samples: deque[tuple[float, int, int]] = deque(maxlen=128)
        self._token: Any = None
        self._time_column = _source_time_column(table)
        observer.bind(self)

    # -- labels and live values -----------------------------------------------------------

    @property
    def key(self) -> tuple[str, str]:
        return (self.table, self.connection)

    @property
    def stats(self) -> Any:
        return self.query.stats

    @property
    def client(self) -> Any:
        """The table's live EventSource (None until the query starts reading)."""
        return self.query.source.event_source

    @property
    def state(self) -> str:
        """The query's state: starting | running | finished | failed | stopped."""
        return str(self.stats.state)

    @property
    def connection_state(self) -> str:
        """connected | connecting | reconnecting | disconnected | failed | idle."""
        client = self.client
        if self.stats.state == "failed":
            return "failed"
        if client is None:
            return "idle" if self.ended_at is None else "disconnected"
        return _CONNECTION_STATES.get(client.state, client.state)

    @property
    def connected(self) -> bool:
        return self.connection_state == "connected"

    def events_received(self) -> int:
        client = self.client
        return max(client.stats.events_received if client else 0, self.stats.events_received)

    def bytes_received(self) -> int:
        client = self.client
        return client.stats.bytes_received if client else 0

    def buffer_occupancy(self) -> float:
        """Fill ratio (0..1) of the read-ahead queue between the socket and the batcher."""
        batcher = getattr(self.query.source, "batcher", None)
        return batcher.occupancy if batcher is not None else 0.0

    def rates(self, window_s: float = 10.0) -> tuple[float, float]:
        """(events/s, bytes/s) over about the last ``window_s`` seconds."""
        now = time.time()
        events, nbytes = self.events_received(), self.bytes_received()
        self._sample(now, events, nbytes)
        oldest = None
        for sample in self._samples:
            if now - sample[0] <= window_s:
                oldest = sample
                break
        if oldest is None or now - oldest[0] < 0.2:
            oldest = (self.started_at, 0, 0)
        span = max(now - oldest[0], 1e-3)
        return (events - oldest[1]) / span, (nbytes - oldest[2]) / span

    def _sample(self, now: float, events: int, nbytes: int) -> None:
        if not self._samples or now - self._samples[-1][0] >= 0.25:
            self._samples.append((now, events, nbytes))

    # -- hooks called by the running query ---------------------------------------------------

    def start(self) -> None:
        self._token = self.log_context.enter()

    def stop(self) -> None:
        if self._token is not None:
            LogContext.leave(self._token)
            self._token = None
        stats = self.stats
        if stats.state == "failed" and stats.error:
            self.log_context.record("error", f"query {self.query_id} failed: {stats.error}",
                                    "laminar.pipeline")

    def processed(self, batch: RowBatch, elapsed_ms: float) -> None:
        self._processed_at = time.perf_counter()
        self._elapsed_ms = elapsed_ms
        column = self._time_column
        if column is None or not batch.partitions:
            return
        runs = batch.arrival_runs
        events = sum(count for _, count in runs)
        for part in batch.partitions:
            if part.num_rows == 0 or column not in part.column_names:
                continue
            try:
                micros = pc.cast(pc.cast(part.column(column), pa.timestamp("us")), pa.int64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return
            source_ms = pc.divide(micros, 1000)
            if len(batch.partitions) == 1 and part.num_rows == events:
                arrived = arrival_array(runs)  # rows line up with events: exact per row
            else:
                arrived = pa.scalar(runs[-1][0] if runs else int(time.time() * 1000))
            self.series.source_lag.add_array(pc.cast(pc.subtract(arrived, source_ms), pa.float64()))

    def committed(self, batch: RowBatch) -> None:
        now = time.time()
        now_ms = now * 1000
        processing = self._elapsed_ms + (time.perf_counter() - self._processed_at) * 1000
        self.last_processing_ms = processing
        self.batch_seq += 1
        series = self.series
        series.batch_size.add(batch.events)
        series.processing.add(processing)
        runs = batch.arrival_runs or ([(int(now_ms), batch.events)] if batch.events else [])
        lag = series.event_lag
        records = []
        for arrived, count in runs:
            lag_ms = max(now_ms - arrived, 0.0)
            lag.add(lag_ms, count)
            records.append((arrived, count, lag_ms))
        self.hub.metrics.add_batch(self, now, self.batch_seq, processing, records)
        self._sample(now, self.events_received(), self.bytes_received())


_CONNECTION_STATES = {
    "idle": "idle",
    "connecting": "connecting",
    "open": "connected",
    "reconnecting": "reconnecting",
    "closed": "disconnected",
    "failed": "failed",
}


def _source_time_column(table: Any) -> str | None:
    """The column holding the payload's own time (see the module docstring), if any."""
    if getattr(table.options, "add_timestamp", False):
        return None
    for column in table.columns:
        if column.name == "error_timestamp":
            continue
        if column.type.strip().upper().startswith("TIMESTAMP"):
            return str(column.name)
    return None
