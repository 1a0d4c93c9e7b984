"""Spark reader options -> a validated, picklable ``SourceSpec``.

Spark hands a data source its options as strings with case-insensitive names.
Every connection and table option of an SSE table means what it means in
``laminar run``: they are validated by Laminar's own parsers
(``parse_table_options``, ``ConnectionOptions``, ``build_row_decoder``). On top
of them come the options that only make sense here:

    endpoints           JSON array of URLs: one table over several streams (one
                        Spark partition and one committed Last-Event-ID each)
    wal_path            directory of the write-ahead log (default
                        ./laminar-wal/<table or endpoint hash>, local-only)
    maxEventsPerTrigger admission control: at most this many events per micro-batch
    capture_endpoint    fill an ``endpoint`` TEXT column with the event's endpoint
    table               the table's name (messages, the default wal_path)
    columns             JSON [[name, SQL type], ...]: Laminar's column types, set by
                        ``laminar.spark.stream`` so that JSON/DECIMAL keep their meaning

Options that belong to Laminar's own runtime are refused with what to use instead.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from laminar.connectors.sse.options import ConnectionOptions, parse_str, parse_url, redact_url
from laminar.connectors.sse.table_options import (
    SSETableOptions,
    parse_table_options,
    take_bool,
)
from laminar.errors import ConfigError
from laminar.formats import Column, build_row_decoder, parse_type
from laminar.options import parse_int

DEFAULT_WAL_ROOT = "laminar-wal"
ENDPOINT_COLUMN = "endpoint"

# Laminar runtime options with no meaning in Spark, and what to use instead.
REFUSED: dict[str, str] = {
    "buffer_size": "Spark forms the micro-batches: cap them with "
    ".option('maxEventsPerTrigger', N)",
    "buffer_timeout_ms": "Spark forms the micro-batches: set the trigger interval with "
    ".writeStream.trigger(processingTime='100 milliseconds')",
    "parallelism": "there is one Spark partition per endpoint; list several endpoints with "
    "endpoints = '[...]' or call df.repartition(n, col) after load()",
    "partition_by": "there is one Spark partition per endpoint; call df.repartition(n, col) "
    "after load()",
    "deduplicate_by": "de-duplicate in Spark: "
    "df.withWatermark('ts', '1 minute').dropDuplicatesWithinWatermark(['event_id'])",
    "dedup_window_ms": "de-duplicate in Spark: "
    "df.withWatermark('ts', '1 minute').dropDuplicatesWithinWatermark(['event_id'])",
    "event_time_field": "declare event time in Spark: df.withWatermark('timestamp', '5 seconds')",
    "watermark_delay_ms": "declare event time in Spark: "
    "df.withWatermark('timestamp', '5 seconds')",
    "idle_timeout_ms": "windows are Spark's: use its watermark and trigger settings",
    "state_memory_limit_mb": "state lives in Spark's state store: "
    "spark.sql.streaming.stateStore.* settings",
    "max_batch_bytes": "Spark forms the micro-batches: cap them with "
    ".option('maxEventsPerTrigger', N) (a number of events; Spark has no byte cap)",
}
# Options Spark itself may add; never ours to validate.
_SPARK_OWN = frozenset({"path"})
# Spark-only options a DDL WITH clause may carry too (lower-case, as the parser gives them).
WITH_CLAUSE_ONLY = ("endpoints", "wal_path", "maxeventspertrigger", "capture_endpoint")
SPARK_ONLY = (*WITH_CLAUSE_ONLY, "table", "columns")


@dataclass(frozen=True)
class EndpointSpec:
    """One stream of the table: its connection options and its WAL directory."""

    key: str  # stable name of the endpoint (hash of its URL as configured)
    display: str  # the URL as configured, credentials hidden
    connection: ConnectionOptions | None  # None on executors (they never connect)
    wal_dir: str


@dataclass(frozen=True)
class SourceSpec:
    """Everything a reader needs, validated; picklable (it travels to executors)."""

    table: str
    columns: tuple[Column, ...]  # decoded by the formats layer (endpoint column aside)
    options: SSETableOptions
    endpoints: tuple[EndpointSpec, ...]
    wal_path: str
    max_events_per_trigger: int | None
    capture_endpoint: bool

    @property
    def output_names(self) -> list[str]:
        names = [c.name for c in self.columns]
        return [*names, ENDPOINT_COLUMN] if self.capture_endpoint else names


def endpoint_key(endpoint: str) -> str:
    """A stable directory name for an endpoint URL (as configured, ${VAR}s unresolved)."""
    return "ep-" + hashlib.sha256(endpoint.encode()).hexdigest()[:16]


def parse_spark_options(
    raw: Mapping[str, Any], columns: Sequence[Column] | None
) -> SourceSpec:
    """Validate Spark's options; ``columns`` come from the Spark schema (None: no schema)."""
    given = {str(k).strip().lower(): v for k, v in raw.items() if str(k).lower() not in _SPARK_OWN}
    for name, fix in REFUSED.items():
        if name in given:
            raise ConfigError(f"option {name} is not used on Spark: {fix}", option=name)
    table = parse_str("table", given.pop("table", "sse_table")).strip() or "sse_table"
    wal_path = given.pop("wal_path", None)
    max_events = given.pop("maxeventspertrigger", None)
    capture_endpoint = take_bool(given, "capture_endpoint", False)
    declared = given.pop("columns", None)
    urls = _endpoints(given)
    if declared is not None:
        columns = _declared_columns(declared)
    elif columns is None:
        fmt = str(given.get("format", "json")).strip().lower()
        columns = [Column("data", "JSON" if fmt == "json" else "TEXT")]
    elif capture_endpoint and ENDPOINT_COLUMN not in [c.name for c in columns]:
        raise ConfigError(
            "option capture_endpoint = true fills an 'endpoint' column: add endpoint STRING "
            "to .schema(...)",
            option="capture_endpoint",
        )
    columns = [c for c in columns if not (capture_endpoint and c.name == ENDPOINT_COLUMN)]
    names = [c.name for c in columns]
    table_options, inline = parse_table_options(names, given)
    if table_options.connection is not None:
        raise ConfigError(
            "option connection names a CREATE CONNECTION, which only exists in DDL: use "
            "laminar.spark.stream(spark, ddl, table=...) or give endpoint = '...' directly",
            option="connection",
        )
    build_row_decoder(table, columns, table_options.format)  # columns vs format, now
    if wal_path is None:
        name = table if "table" in {k.lower() for k in raw} else endpoint_key(",".join(urls))
        wal_path = os.path.join(os.getcwd(), DEFAULT_WAL_ROOT, name)
    wal_path = os.path.abspath(os.path.expanduser(parse_str("wal_path", wal_path).strip()))
    endpoints = []
    for url in urls:
        connection = ConnectionOptions.from_options({**inline, "endpoint": url})
        key = endpoint_key(url)
        wal_dir = os.path.join(wal_path, key)
        endpoints.append(EndpointSpec(key, redact_url(url), connection, wal_dir))
    return SourceSpec(
        table=table,
        columns=tuple(columns),
        options=table_options,
        endpoints=tuple(endpoints),
        wal_path=wal_path,
        max_events_per_trigger=(
            None if max_events is None
            else parse_int("maxEventsPerTrigger", max_events, minimum=1)
        ),
        capture_endpoint=capture_endpoint,
    )


def _endpoints(given: dict[str, Any]) -> list[str]:
    single = given.pop("endpoint", None)
    many = given.pop("endpoints", None)
    if single is not None and many is not None:
        raise ConfigError(
            "options endpoint and endpoints are both set: keep endpoint for one stream or "
            "endpoints = '[\"https://a/...\", \"https://b/...\"]' for several",
            option="endpoints",
        )
    if many is None:
        if single is None:
            raise ConfigError(
                "option endpoint is required: .option('endpoint', 'https://.../events') "
                "(or endpoints = '[...]' for several streams)",
                option="endpoint",
            )
        return [parse_url("endpoint", single)]
    try:
        urls = json.loads(many) if isinstance(many, str) else list(many)
    except ValueError:
        urls = None
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise ConfigError(
            "option endpoints: expected a non-empty JSON array of URLs such as "
            "'[\"https://a/events\", \"https://b/events\"]'",
            option="endpoints",
        )
    urls = [parse_url("endpoints", u) for u in urls]
    if len(set(urls)) != len(urls):
        raise ConfigError("option endpoints: an endpoint is listed twice", option="endpoints")
    return urls


def _declared_columns(text: Any) -> list[Column]:
    try:
        pairs = json.loads(text)
        columns = [Column(str(name), str(kind)) for name, kind in pairs]
    except (ValueError, TypeError):
        raise ConfigError(
            "option columns: expected JSON [[name, SQL type], ...] (laminar.spark.stream sets "
            "it; with .schema(...) leave it out)",
            option="columns",
        ) from None
    for column in columns:
        parse_type(column.type, column=column.name)
    return columns


__all__ = [
    "ENDPOINT_COLUMN",
    "REFUSED",
    "SPARK_ONLY",
    "WITH_CLAUSE_ONLY",
    "EndpointSpec",
    "SourceSpec",
    "endpoint_key",
    "parse_spark_options",
]
