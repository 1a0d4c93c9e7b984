"""Prometheus metrics of an engine, computed at scrape time (a custom Collector).

Nothing is updated per event: counters and gauges are read from the pipelines'
stats objects when Prometheus scrapes, histograms from the per-batch
``Buckets`` the monitors fill. Labels are ``table`` and ``connection`` (the
CREATE CONNECTION name; empty when the table gives its endpoint inline without
naming one) — never a URL, a header or a token. Queries reading the same table
are summed; finished queries stay counted, so counters never go backwards.

Exposed names (counters carry the ``_total`` suffix; see ``METRIC_NAMES``)::

    laminar_sse_events_received_total         events decoded from the stream
    laminar_sse_bytes_received_total          bytes read from the network (before inflating)
    laminar_sse_connection_status             1 connected, 0 not (every source of the table)
    laminar_sse_reconnection_attempts_total   reconnections scheduled
    laminar_sse_connections_opened_total      streams opened (200, text/event-stream)
    laminar_sse_disconnects_total{reason}     streams that ended, by reason code
    laminar_sse_parse_errors_total            payloads that failed to parse or convert
    laminar_sse_events_dropped_total          bad payloads dropped (not captured as rows)
    laminar_sse_events_filtered_total         events dropped by event_type_filter
    laminar_sse_events_deduplicated_total     events dropped by deduplicate_by
    laminar_sse_events_replayed_total         events sent again after a reconnection
    laminar_sse_id_gaps_total                 reconnections after which integer ids skipped
    laminar_sse_rows_emitted_total            rows the queries handed to their sinks
    laminar_sse_events_late_total             rows windows dropped: event time before the watermark
    laminar_state_bytes                       memory + disk held by open windows and groups
    laminar_state_spilled_bytes               the part of that state spilled to disk
    laminar_sse_buffer_occupancy_ratio        read-ahead queue fill, 0..1 (1: the query is slow)
    laminar_sse_last_event_timestamp_seconds  when the last batch was processed (epoch s)
    laminar_sse_queries_running               continuous queries reading the table
    laminar_sse_event_lag_ms                  histogram: arrival -> sink commit, per event
    laminar_sse_event_source_lag_ms           histogram: payload timestamp -> arrival, per row
    laminar_sse_batch_size_events             histogram: events per micro-batch
    laminar_sse_batch_processing_ms           histogram: query + sink time per micro-batch
    laminar_connector_log_records_total{level} connector log records, by level
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from laminar.observability.logs import LogRing
    from laminar.observability.monitor import QueryMonitor, SeriesHistograms


class CollectedHub(Protocol):
    """What the collector reads at scrape time (``Observability`` is one)."""

    logs: LogRing
    totals: dict[tuple[str, str], dict[str, float]]
    disconnects: dict[tuple[str, str], dict[str, int]]

    def live(self) -> list[QueryMonitor]: ...
    def all_series(self) -> dict[tuple[str, str], SeriesHistograms]: ...


LABELS = ("table", "connection")


def _client_stat(name: str) -> Callable[[QueryMonitor], int]:
    def read(monitor: QueryMonitor) -> int:
        client = monitor.client
        return int(getattr(client.stats, name)) if client is not None else 0

    return read


def _stat(name: str) -> Callable[[QueryMonitor], int]:
    def read(monitor: QueryMonitor) -> int:
        return int(getattr(monitor.stats, name))

    return read


# (family name without _total, help, value of one query) — read at scrape time
COUNTERS: tuple[tuple[str, str, Callable[[QueryMonitor], int]], ...] = (
    ("laminar_sse_events_received", "Events decoded from the SSE stream",
     lambda m: m.events_received()),
    ("laminar_sse_bytes_received", "Bytes read from the network (before decompression)",
     lambda m: m.bytes_received()),
    ("laminar_sse_reconnection_attempts", "Reconnections scheduled",
     _client_stat("reconnect_attempts")),
    ("laminar_sse_connections_opened", "Streams opened (200 text/event-stream)",
     _client_stat("connections")),
    ("laminar_sse_parse_errors", "Payloads that failed to parse or convert",
     _stat("parse_errors")),
    ("laminar_sse_events_dropped", "Bad payloads dropped (not captured as error rows)",
     _stat("events_dropped")),
    ("laminar_sse_events_filtered", "Events dropped by event_type_filter",
     _stat("events_filtered")),
    ("laminar_sse_events_deduplicated", "Events dropped by deduplicate_by",
     _stat("events_deduplicated")),
    ("laminar_sse_rows_emitted", "Rows the continuous queries handed to their sinks",
     _stat("rows_out")),
    ("laminar_sse_events_late", "Rows windows dropped: event time before the watermark",
     _stat("events_late")),
    ("laminar_sse_events_replayed", "Events the server sent again after a reconnection",
     _stat("events_replayed")),
    ("laminar_sse_id_gaps", "Reconnections after which integer event ids skipped ahead",
     _stat("id_gaps")),
)

HISTOGRAMS: tuple[tuple[str, str, str], ...] = (
    ("laminar_sse_event_lag_ms", "event_lag",
     "Per event: milliseconds from arrival (network read) to sink commit"),
    ("laminar_sse_event_source_lag_ms", "source_lag",
     "Per row: milliseconds from the payload's timestamp column to arrival"),
    ("laminar_sse_batch_size_events", "batch_size", "Events per micro-batch"),
    ("laminar_sse_batch_processing_ms", "processing",
     "Milliseconds to run the query on a micro-batch and hand its rows to the sink"),
)

# Every sample name a scrape can expose (histograms add _bucket, _sum, _count).
METRIC_NAMES: tuple[str, ...] = (
    *(name + "_total" for name, _, _ in COUNTERS),
    "laminar_sse_disconnects_total",
    "laminar_sse_connection_status",
    "laminar_sse_buffer_occupancy_ratio",
    "laminar_sse_last_event_timestamp_seconds",
    "laminar_sse_queries_running",
    "laminar_state_bytes",
    "laminar_state_spilled_bytes",
    *(name for name, _, _ in HISTOGRAMS),
    "laminar_connector_log_records_total",
)


class LaminarCollector(Collector):
    """Builds every family from the hub when the registry is collected."""

    def __init__(self, hub: CollectedHub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        live = hub.live()
        keys = sorted({*hub.totals, *(m.key for m in live)})
        by_key: dict[tuple[str, str], list[QueryMonitor]] = {k: [] for k in keys}
        for monitor in live:
            by_key[monitor.key].append(monitor)

        for name, help_text, value in COUNTERS:
            family = CounterMetricFamily(name, help_text, labels=LABELS)
            for key, monitors in by_key.items():
                total = hub.totals.get(key, {}).get(name, 0) + sum(value(m) for m in monitors)
                family.add_metric(key, total)
            yield family
        yield self._disconnects(by_key)
        yield from self._gauges(by_key)
        yield from self._histograms()
        logs = CounterMetricFamily(
            "laminar_connector_log_records", "Connector log records, by level", labels=["level"]
        )
        for level, count in hub.logs.counts.items():
            logs.add_metric([level], count)
        yield logs

    def _disconnects(self, by_key: dict[tuple[str, str], list[QueryMonitor]]) -> Metric:
        family = CounterMetricFamily(
            "laminar_sse_disconnects",
            "Streams that ended, by reason (eof, network_error, keepalive_timeout, ...)",
            labels=[*LABELS, "reason"],
        )
        for key, monitors in by_key.items():
            counts = dict(self.hub.disconnects.get(key, {}))
            for monitor in monitors:
                for reason, n in monitor.observer.disconnects.items():
                    counts[reason] = counts.get(reason, 0) + n
            for reason in sorted(counts):
                family.add_metric([*key, reason], counts[reason])
        return family

    def _gauges(self, by_key: dict[tuple[str, str], list[QueryMonitor]]) -> Iterator[Metric]:
        status = GaugeMetricFamily(
            "laminar_sse_connection_status",
            "1 when every source of the table is connected, else 0",
            labels=LABELS,
        )
        occupancy = GaugeMetricFamily(
            "laminar_sse_buffer_occupancy_ratio",
            "Fill ratio of the read-ahead buffer between socket and query (max of the sources)",
            labels=LABELS,
        )
        last = GaugeMetricFamily(
            "laminar_sse_last_event_timestamp_seconds",
            "Unix time at which the table's last micro-batch was processed",
            labels=LABELS,
        )
        running = GaugeMetricFamily(
            "laminar_sse_queries_running", "Continuous queries reading the table", labels=LABELS
        )
        state = GaugeMetricFamily(
            "laminar_state_bytes",
            "Memory and disk held by the open windows and groups of the table's queries",
            labels=LABELS,
        )
        spilled = GaugeMetricFamily(
            "laminar_state_spilled_bytes",
            "The part of the window and group state spilled to disk (past state_memory_limit_mb)",
            labels=LABELS,
        )
        for key, monitors in by_key.items():
            state.add_metric(key, sum(m.stats.state_bytes for m in monitors))
            spilled.add_metric(key, sum(m.stats.state_spilled_bytes for m in monitors))
            status.add_metric(key, 1 if monitors and all(m.connected for m in monitors) else 0)
            occupancy.add_metric(key, max((m.buffer_occupancy() for m in monitors), default=0.0))
            times = [m.stats.last_event_at for m in monitors if m.stats.last_event_at]
            if times:
                last.add_metric(key, max(times))
            running.add_metric(key, len(monitors))
        yield from (status, occupancy, last, running, state, spilled)

    def _histograms(self) -> Iterator[Metric]:
        series = sorted(self.hub.all_series().items())
        for name, attr, help_text in HISTOGRAMS:
            family = HistogramMetricFamily(name, help_text, labels=LABELS)
            for key, histograms in series:
                buckets: Any = getattr(histograms, attr)
                family.add_metric(key, buckets.cumulative(), buckets.sum)
            yield family
