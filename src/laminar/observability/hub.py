"""Observability: the engine-owned home of metrics, connector logs and query monitors.

One per ``Engine`` (``engine.observability``), so several engines in one
process (tests, notebooks) never share a registry or a log ring:

* ``registry`` — a prometheus_client ``CollectorRegistry`` (not the global one)
  holding one ``LaminarCollector``, which computes every metric at scrape time;
* ``logs`` — the ``LogRing`` behind system.connector_logs;
* ``metrics`` — the ``BatchRing`` behind system.connector_metrics;
* ``monitors`` — a ``QueryMonitor`` per running query; finished ones move to
  ``finished`` (the last 100) and their counters are folded into ``totals``,
  so Prometheus counters of a (table, connection) never go backwards.

``health()`` answers /healthz: failed when a query or its source failed.
"""

from __future__ import annotations

import functools
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from laminar.observability.batch_ring import BatchRing
from laminar.observability.logs import LogRing, install
from laminar.observability.monitor import PipelineObserver, QueryMonitor, SeriesHistograms

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from laminar.observability.monitor import RunningQuery

Key = tuple[str, str]  # (table, connection name or "")


class Observability:
    """See the module docstring."""

    def __init__(
        self, *, enabled: bool = True, log_capacity: int = 10_000, retention_s: float = 900.0
    ) -> None:
        install()
        self.enabled = enabled  # False: queries run without monitors (to measure the cost)
        self.started_at = time.time()
        self.logs = LogRing(log_capacity)
        self.metrics = BatchRing(retention_s)
        self.monitors: dict[int, QueryMonitor] = {}
        self.finished: deque[QueryMonitor] = deque(maxlen=100)
        self.totals: dict[Key, dict[str, float]] = {}
        self.disconnects: dict[Key, dict[str, int]] = {}
        self._series: dict[Key, SeriesHistograms] = {}

    @functools.cached_property
    def registry(self) -> CollectorRegistry:
        """Made on first use: prometheus_client (~10 ms) is imported only if metrics are read."""
        from prometheus_client import CollectorRegistry

        from laminar.observability.metrics import LaminarCollector

        registry = CollectorRegistry(auto_describe=False)
        registry.register(LaminarCollector(self))
        return registry

    # -- queries --------------------------------------------------------------------------

    def observer(self) -> PipelineObserver | None:
        """A SourceObserver for a table's EventSource; ``watch`` binds it to its query."""
        return PipelineObserver() if self.enabled else None

    def watch(
        self, query: RunningQuery, observer: PipelineObserver | None
    ) -> QueryMonitor | None:
        """Monitor ``query`` (sets ``query.monitor``); None when disabled."""
        if observer is None:
            return None
        monitor = QueryMonitor(self, query, observer)
        query.monitor = monitor
        self.monitors[query.id] = monitor
        self.totals.setdefault(monitor.key, {})
        return monitor

    def release(self, query: RunningQuery) -> None:
        """The query ended: fold its counters into the totals, keep it in ``finished``."""
        monitor = self.monitors.pop(query.id, None)
        if monitor is None:
            return
        monitor.ended_at = time.time()
        from laminar.observability.metrics import COUNTERS

        totals = self.totals.setdefault(monitor.key, {})
        for name, _help, value in COUNTERS:
            totals[name] = totals.get(name, 0) + value(monitor)
        reasons = self.disconnects.setdefault(monitor.key, {})
        for reason, count in monitor.observer.disconnects.items():
            reasons[reason] = reasons.get(reason, 0) + count
        if query.stats.batches or query.stats.state == "failed":
            self.finished.append(monitor)

    def series(self, table: str, connection: str) -> SeriesHistograms:
        key = (table, connection)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = SeriesHistograms()
        return found

    def all_series(self) -> dict[Key, SeriesHistograms]:
        return dict(self._series)

    def live(self) -> list[QueryMonitor]:
        return list(self.monitors.values())

    # -- health -----------------------------------------------------------------------------

    def health(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, details): unhealthy when a query or its source failed."""
        sources = []
        failed = False
        for monitor in [*self.live(), *self.finished]:
            state = monitor.connection_state
            bad = monitor.state == "failed" or state == "failed"
            failed = failed or bad
            if monitor.ended_at is not None and not bad:
                continue
            sources.append(
                {
                    "table": monitor.table,
                    "connection": monitor.connection or None,
                    "query_id": monitor.query_id,
                    "query_state": monitor.state,
                    "connection_state": state,
                    "error": monitor.stats.error or (
                        monitor.client.stats.last_error if bad and monitor.client else None
                    ),
                }
            )
        if failed:
            status = "failed"
        elif not self.monitors:
            status = "idle"
        elif all(m.connected for m in self.live()):
            status = "ok"
        else:
            status = "degraded"  # connecting or reconnecting: normal, still healthy
        return not failed, {"status": status, "sources": sources}
