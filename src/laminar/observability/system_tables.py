"""The system.* tables, built as Arrow tables when a query reads them.

system.connector_status   one row per SSE table (and per running query reading it)
system.connector_logs     recent connector log records (bounded history)
system.connector_metrics  one row per event processed recently

Nothing secret is ever put in a row: endpoints are redacted, errors come
already scrubbed from the client.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from laminar.sql.engine import Engine

STATUS_SCHEMA = pa.schema(
    [
        ("connector_name", pa.string()),
        ("table_name", pa.string()),
        ("connection_name", pa.string()),
        ("endpoint", pa.string()),
        ("status", pa.string()),
        ("query_id", pa.int64()),
        ("events_received", pa.int64()),
        ("bytes_received", pa.int64()),
        ("reconnect_attempts", pa.int64()),
        ("parse_errors", pa.int64()),
        ("last_event_id", pa.string()),
        ("last_event_at", pa.timestamp("us")),
        ("last_error", pa.string()),
    ]
)
LOGS_SCHEMA = pa.schema(
    [
        ("timestamp", pa.timestamp("us")),
        ("level", pa.string()),
        ("connector", pa.string()),
        ("table_name", pa.string()),
        ("connection_name", pa.string()),
        ("message", pa.string()),
    ]
)
METRICS_SCHEMA = pa.schema(
    [
        ("timestamp", pa.timestamp("us")),
        ("connector", pa.string()),
        ("table_name", pa.string()),
        ("event_id", pa.string()),
        ("processing_time_ms", pa.float64()),
    ]
)


def _ts(seconds: float | None) -> datetime | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def connector_status(engine: Engine) -> pa.Table:
    rows = []
    running = {}
    for query in engine.queries.values():
        running.setdefault(query.table, []).append(query)
    for name, table in engine.catalog.tables.items():
        try:
            endpoint = engine.catalog.connection_options(table).display_endpoint
        except Exception:  # a table whose connection was dropped: still listed
            endpoint = None
        queries = running.get(name) or [None]
        for query in queries:
            source = query.source.event_source if query is not None else None
            stats = query.stats if query is not None else None
            rows.append(
                {
                    "connector_name": "sse_source",
                    "table_name": name,
                    "connection_name": table.options.connection,
                    "endpoint": endpoint,
                    "status": _status(source.state if source else None),
                    "query_id": query.id if query else None,
                    "events_received": stats.events_received if stats else 0,
                    "bytes_received": source.stats.bytes_received if source else 0,
                    "reconnect_attempts": source.stats.reconnect_attempts if source else 0,
                    "parse_errors": stats.parse_errors if stats else 0,
                    "last_event_id": stats.last_event_id if stats else None,
                    "last_event_at": _ts(stats.last_event_at) if stats else None,
                    "last_error": source.stats.last_error if source else None,
                }
            )
    return pa.Table.from_pylist(rows, STATUS_SCHEMA)


def _status(state: str | None) -> str:
    return {
        None: "idle",
        "idle": "idle",
        "connecting": "connecting",
        "open": "connected",
        "reconnecting": "reconnecting",
        "closed": "disconnected",
        "failed": "failed",
    }.get(state, state or "idle")


def build_system_tables(engine: Engine) -> dict[str, pa.Table]:
    return {
        "system.connector_status": connector_status(engine),
        "system.connector_logs": LOGS_SCHEMA.empty_table(),
        "system.connector_metrics": METRICS_SCHEMA.empty_table(),
    }
