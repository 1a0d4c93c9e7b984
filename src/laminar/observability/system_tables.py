"""The system.* tables, built fresh (live) each time a query reads them.

``build_system_tables(engine)`` maps each name to an installer
``(duckdb connection, relation name) -> None`` that puts the relation in the
query's DuckDB connection. Every installer also sets the connection's
``TimeZone`` to UTC: the ``timestamp`` columns are naive UTC TIMESTAMPs, and
DuckDB compares them with ``NOW()`` (a TIMESTAMPTZ) in the session time zone,
so ``timestamp > NOW() - INTERVAL '1 minute'`` is right only in UTC.

system.connector_status — one row per running query of each SSE table, and one
row (status 'idle', query_id NULL) per table that no query reads. Columns:
``STATUS_SCHEMA``; ``status`` is connected | connecting | reconnecting |
disconnected | failed | idle.

system.connector_logs — the engine's last 10,000 connector log records
(``LOGS_SCHEMA``); level is DEBUG | INFO | WARNING | ERROR | CRITICAL.

system.connector_metrics — one row per event committed in the last 15 minutes
(``METRICS_COLUMNS``), expanded at query time from one stored record per
network read of each batch, so COUNT(*) is the exact number of events.

Nothing secret is ever put in a row: endpoints are shown as configured with
credentials hidden and ``${VAR}``s unresolved; messages come already scrubbed
from the client.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import duckdb
import pyarrow as pa

from laminar.observability.monitor import CONNECTOR

if TYPE_CHECKING:
    from laminar.observability.hub import Observability
    from laminar.observability.monitor import QueryMonitor


@dataclass(frozen=True)
class DeclaredTable:
    """A table as system.connector_status lists it when no query reads it."""

    name: str
    connection: str | None  # its CREATE CONNECTION name, None when inline
    endpoint: str | None  # credentials hidden, ${VAR}s unresolved; None if unresolvable
    parallelism: int


class Engine(Protocol):
    """What the system tables read of an engine (the hook; they never import the SQL layer)."""

    observability: Observability

    def declared_tables(self) -> list[DeclaredTable]: ...


Installer = Callable[[duckdb.DuckDBPyConnection, str], None]

STATUS_SCHEMA = pa.schema(
    [
        ("connector_name", pa.string()),  # always 'sse_source'
        ("table_name", pa.string()),
        ("connection_name", pa.string()),  # CREATE CONNECTION name, NULL when inline
        ("endpoint", pa.string()),  # as configured, credentials hidden, ${VAR}s unresolved
        ("status", pa.string()),  # connected | connecting | reconnecting | disconnected | ...
        ("query_id", pa.int64()),  # NULL: no query reads the table
        ("query_state", pa.string()),  # starting | running | finished | failed | stopped
        ("started_at", pa.timestamp("us")),  # when the query started
        ("connected_since", pa.timestamp("us")),  # NULL when not connected
        ("events_received", pa.int64()),
        ("events_per_second", pa.float64()),  # over about the last 10 s
        ("bytes_received", pa.int64()),
        ("bytes_per_second", pa.float64()),
        ("events_filtered", pa.int64()),
        ("events_deduplicated", pa.int64()),
        ("events_replayed", pa.int64()),  # sent again after a reconnect: Last-Event-ID ignored
        ("id_gaps", pa.int64()),  # reconnections after which integer ids skipped ahead
        ("parse_errors", pa.int64()),
        ("events_dropped", pa.int64()),
        ("rows_emitted", pa.int64()),
        ("events_late", pa.int64()),  # dropped by windows: event time before the watermark
        ("watermark", pa.timestamp("us")),  # of the query's windows (NULL: no event time yet)
        ("state_rows", pa.int64()),  # rows held by open windows and groups
        ("state_bytes", pa.int64()),  # their memory + disk
        ("state_spilled_bytes", pa.int64()),  # the part spilled to disk
        ("batches", pa.int64()),
        ("avg_processing_time_ms", pa.float64()),  # per batch, since the query started
        ("lag_p50_ms", pa.float64()),  # event lag (arrival -> commit), bucket upper bound
        ("lag_p99_ms", pa.float64()),
        ("buffer_occupancy", pa.float64()),  # 0..1
        ("reconnect_attempts", pa.int64()),
        ("connections_opened", pa.int64()),
        ("last_disconnect_reason", pa.string()),
        ("parallelism", pa.int64()),
        ("partition_rows", pa.string()),  # JSON list: rows per partition so far
        ("last_event_id", pa.string()),
        ("last_event_at", pa.timestamp("us")),
        ("last_error", pa.string()),
    ]
)
LOGS_SCHEMA = pa.schema(
    [
        ("timestamp", pa.timestamp("us")),  # UTC
        ("level", pa.string()),
        ("connector", pa.string()),  # 'sse_source'
        ("table_name", pa.string()),
        ("connection_name", pa.string()),
        ("query_id", pa.int64()),
        ("logger", pa.string()),  # e.g. laminar.connectors.sse
        ("message", pa.string()),
    ]
)
METRICS_COLUMNS = (
    ("timestamp", "TIMESTAMP", "when the event's batch was committed to the sink (UTC)"),
    ("connector", "VARCHAR", "'sse_source'"),
    ("table_name", "VARCHAR", "the SSE table"),
    ("connection_name", "VARCHAR", "its CREATE CONNECTION name (NULL when inline)"),
    ("query_id", "BIGINT", "the continuous query that processed the event"),
    ("batch_id", "BIGINT", "the micro-batch's number within the query (1, 2, …)"),
    ("arrival_time", "TIMESTAMP", "when the event's bytes were read from the network (UTC)"),
    ("lag_ms", "DOUBLE", "arrival -> commit, milliseconds"),
    ("processing_time_ms", "DOUBLE", "query + sink time of the event's batch, milliseconds"),
)


def _ts(seconds: float | None) -> datetime | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _hub(engine: Engine) -> Any:
    hub = getattr(engine, "observability", None)
    if hub is None:  # an engine built without observability: empty logs and metrics
        from laminar.observability.hub import Observability

        hub = engine.observability = Observability()
    return hub


# -- system.connector_status ------------------------------------------------------------------


def connector_status(engine: Engine) -> pa.Table:
    hub = _hub(engine)
    running: dict[str, list[QueryMonitor]] = {}
    for monitor in hub.live():
        running.setdefault(monitor.table, []).append(monitor)
    rows: list[dict[str, Any]] = []
    for table in engine.declared_tables():
        monitors = running.pop(table.name, None)
        if monitors:
            rows.extend(_monitor_row(m) for m in monitors)
            continue
        rows.append(
            {
                "connector_name": CONNECTOR,
                "table_name": table.name,
                "connection_name": table.connection,
                "endpoint": table.endpoint,
                "status": "idle",
                "parallelism": table.parallelism,
            }
        )
    for monitors in running.values():  # tables dropped while a query still reads them
        rows.extend(_monitor_row(m) for m in monitors)
    return pa.Table.from_pylist(rows, STATUS_SCHEMA)


def _monitor_row(m: QueryMonitor) -> dict[str, Any]:
    stats = m.stats
    client = m.client
    events_per_s, bytes_per_s = m.rates()
    lag = m.series.event_lag
    return {
        "connector_name": CONNECTOR,
        "table_name": m.table,
        "connection_name": m.connection or None,
        "endpoint": m.endpoint,
        "status": m.connection_state,
        "query_id": m.query_id,
        "query_state": m.state,
        "started_at": _ts(m.started_at),
        "connected_since": _ts(m.observer.connected_since) if m.connected else None,
        "events_received": m.events_received(),
        "events_per_second": round(events_per_s, 3),
        "bytes_received": m.bytes_received(),
        "bytes_per_second": round(bytes_per_s, 3),
        "events_filtered": stats.events_filtered,
        "events_deduplicated": stats.events_deduplicated,
        "events_replayed": stats.events_replayed,
        "id_gaps": stats.id_gaps,
        "parse_errors": stats.parse_errors,
        "events_dropped": stats.events_dropped,
        "rows_emitted": stats.rows_out,
        "events_late": stats.events_late,
        "watermark": _ts(stats.watermark / 1e6) if stats.watermark is not None else None,
        "state_rows": stats.state_rows,
        "state_bytes": stats.state_bytes,
        "state_spilled_bytes": stats.state_spilled_bytes,
        "batches": stats.batches,
        "avg_processing_time_ms": (
            m.series.processing.sum / m.series.processing.count
            if m.series.processing.count
            else None
        ),
        "lag_p50_ms": lag.quantile(0.5),
        "lag_p99_ms": lag.quantile(0.99),
        "buffer_occupancy": m.buffer_occupancy(),
        "reconnect_attempts": client.stats.reconnect_attempts if client else 0,
        "connections_opened": client.stats.connections if client else 0,
        "last_disconnect_reason": m.observer.last_disconnect,
        "parallelism": len(stats.partitions) or 1,
        "partition_rows": json.dumps(list(stats.partitions)),
        "last_event_id": stats.last_event_id or None,
        "last_event_at": _ts(stats.last_event_at),
        "last_error": stats.error or (client.stats.last_error if client else None),
    }


# -- system.connector_logs --------------------------------------------------------------------


def connector_logs(engine: Engine) -> pa.Table:
    entries = _hub(engine).logs.snapshot()
    if not entries:
        return LOGS_SCHEMA.empty_table()
    columns = list(zip(*entries, strict=True))
    return pa.Table.from_arrays(
        [
            pa.array([int(t * 1_000_000) for t in columns[0]], pa.timestamp("us")),
            *(
                pa.array(col, f.type)
                for col, f in zip(columns[1:], list(LOGS_SCHEMA)[1:], strict=True)
            ),
        ],
        schema=LOGS_SCHEMA,
    )


# -- system.connector_metrics -----------------------------------------------------------------

_METRICS_VIEW = """
CREATE VIEW {view} AS
SELECT r.timestamp, r.connector, r.table_name, r.connection_name, r.query_id, r.batch_id,
       r.arrival_time, r.lag_ms, r.processing_time_ms
FROM {records} AS r, range(r.events) AS expanded(i)
"""


def connector_metrics_records(engine: Engine) -> pa.Table:
    """The compact records behind connector_metrics (``RECORD_SCHEMA``: one per read)."""
    return _hub(engine).metrics.snapshot()


def install_connector_metrics(
    engine: Engine, con: duckdb.DuckDBPyConnection, relation: str
) -> None:
    source = relation + "_records"
    con.register(source, connector_metrics_records(engine))
    con.execute(_METRICS_VIEW.format(view=_quote(relation), records=_quote(source)))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- installation ---------------------------------------------------------------------------

_BUILDERS: dict[str, Callable[[Engine], pa.Table]] = {
    "system.connector_status": connector_status,
    "system.connector_logs": connector_logs,
}


def _installer(engine: Engine, name: str) -> Installer:
    def install(con: duckdb.DuckDBPyConnection, relation: str) -> None:
        con.execute("SET TimeZone = 'UTC'")
        if name == "system.connector_metrics":
            install_connector_metrics(engine, con, relation)
        else:
            con.register(relation, _BUILDERS[name](engine))

    return install


SYSTEM_TABLES = ("system.connector_status", "system.connector_logs", "system.connector_metrics")


def build_system_tables(engine: Engine) -> dict[str, Installer]:
    """An installer per system table; each builds its snapshot when it is installed."""
    return {name: _installer(engine, name) for name in SYSTEM_TABLES}
