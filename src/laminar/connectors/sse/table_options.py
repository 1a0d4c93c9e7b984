"""The WITH clause of an SSE table: table options, inline connection options, leftovers.

``parse_table_options`` takes the options out of a table's WITH map one by one
(Arroyo's habit): the table options below, then any connection option given
inline (it overrides the named connection's), and whatever is left is an error
that names it and suggests the nearest known option.

Compatibility spellings, for users coming from Arroyo and older Laminar docs:
``connector = 'sse'`` (for ``'sse_source'``) and ``events = 'a,b'`` (for
``event_type_filter = '["a", "b"]'``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from laminar._suggest import did_you_mean
from laminar.connectors.sse.options import ConnectionOptions, parse_size, parse_str
from laminar.errors import ConfigError
from laminar.formats import FORMATS, FormatOptions
from laminar.options import option_text, parse_bool, parse_choice, parse_int

CONNECTOR_NAMES = ("sse_source", "sse")
# Names of the SSE metadata a table can partition or de-duplicate by without a column.
SSE_KEYS = ("event_type", "event_name", "event_id")

DEFAULT_BUFFER_SIZE = 32768
DEFAULT_BUFFER_TIMEOUT_MS = 100
DEFAULT_DEDUP_WINDOW_MS = 60_000
MAX_PARALLELISM = 64
DEFAULT_IDLE_TIMEOUT_MS = 1000
DEFAULT_STATE_MEMORY_MB = 1024
# A micro-batch closes at this many bytes of events: memory is bounded by bytes, not
# events (the runtime holds a few batches, each decoded into Arrow and query output).
DEFAULT_MAX_BATCH_BYTES = 2 << 20


@dataclass(frozen=True)
class SSETableOptions:
    """Validated table options of an SSE source table (connection options aside)."""

    connection: str | None
    format: FormatOptions
    event_type_filter: tuple[str, ...] | None
    buffer_size: int
    buffer_timeout_ms: int
    deduplicate_by: str | None
    dedup_window_ms: int
    parallelism: int
    partition_by: str | None
    # Time of windows (laminar.runtime.time): an event-time column and its watermark.
    event_time_field: str | None = None
    watermark_delay_ms: int = 0
    idle_timeout_ms: int = DEFAULT_IDLE_TIMEOUT_MS
    state_memory_limit_mb: int = DEFAULT_STATE_MEMORY_MB
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES

    def describe(self) -> dict[str, str]:
        """The options as text, for SHOW / DESCRIBE (no secrets live here)."""
        fmt = self.format
        shown: dict[str, Any] = {
            "format": fmt.format,
            "parser_regex": fmt.parser_regex,
            "capture_event_name": fmt.capture_event_name,
            "capture_event_id": fmt.capture_event_id,
            "capture_retry": fmt.capture_retry,
            "add_timestamp": fmt.add_timestamp,
            "capture_errors": fmt.capture_errors,
            "continue_on_error": fmt.continue_on_error,
            "event_type_filter": (
                json.dumps(list(self.event_type_filter)) if self.event_type_filter else None
            ),
            "buffer_size": self.buffer_size,
            "buffer_timeout_ms": self.buffer_timeout_ms,
            "max_batch_bytes": self.max_batch_bytes,
            "deduplicate_by": self.deduplicate_by,
            "dedup_window_ms": self.dedup_window_ms,
            "parallelism": self.parallelism,
            "partition_by": self.partition_by,
            "event_time_field": self.event_time_field,
            "watermark_delay_ms": self.watermark_delay_ms if self.event_time_field else None,
            "idle_timeout_ms": self.idle_timeout_ms,
            "state_memory_limit_mb": self.state_memory_limit_mb,
        }
        return {k: option_text(v) for k, v in shown.items() if v is not None}


TABLE_OPTION_NAMES = frozenset(
    {
        "connector",
        "connection",
        "format",
        "parser_regex",
        "capture_event_name",
        "capture_event_id",
        "capture_retry",
        "add_timestamp",
        "capture_errors",
        "continue_on_error",
        "event_type_filter",
        "events",
        "buffer_size",
        "buffer_timeout_ms",
        "max_batch_bytes",
        "deduplicate_by",
        "dedup_window_ms",
        "parallelism",
        "partition_by",
        "event_time_field",
        "watermark_delay_ms",
        "idle_timeout_ms",
        "state_memory_limit_mb",
    }
)


def parse_table_options(
    column_names: Sequence[str], options: Mapping[str, Any]
) -> tuple[SSETableOptions, dict[str, Any]]:
    """Split and validate a table's WITH options.

    Returns the table options and the inline connection options (still raw, to be
    laid over the named connection's by ``ConnectionOptions.with_overrides``).
    """
    rest = dict(options)
    _take_connector(rest)
    connection = rest.pop("connection", None)
    if connection is not None:
        connection = parse_str("connection", connection).strip().lower()
    fmt = FormatOptions(
        format=parse_choice("format", rest.pop("format", "json"), FORMATS),
        parser_regex=_optional_str(rest, "parser_regex"),
        capture_event_name=take_bool(rest, "capture_event_name", False),
        capture_event_id=take_bool(rest, "capture_event_id", False),
        capture_retry=take_bool(rest, "capture_retry", False),
        add_timestamp=take_bool(rest, "add_timestamp", False),
        capture_errors=take_bool(rest, "capture_errors", False),
        continue_on_error=take_bool(rest, "continue_on_error", True),
    )
    parsed = SSETableOptions(
        connection=connection,
        format=fmt,
        event_type_filter=_take_event_filter(rest),
        buffer_size=take_int(rest, "buffer_size", DEFAULT_BUFFER_SIZE, 1, 1_000_000),
        buffer_timeout_ms=take_int(
            rest, "buffer_timeout_ms", DEFAULT_BUFFER_TIMEOUT_MS, 0, 3_600_000
        ),
        deduplicate_by=_key(rest, "deduplicate_by", column_names),
        dedup_window_ms=take_int(
            rest, "dedup_window_ms", DEFAULT_DEDUP_WINDOW_MS, 1, 7 * 86_400_000
        ),
        parallelism=take_int(rest, "parallelism", 1, 1, MAX_PARALLELISM),
        partition_by=_key(rest, "partition_by", column_names),
        event_time_field=_column(rest, "event_time_field", column_names),
        watermark_delay_ms=take_int(rest, "watermark_delay_ms", 0, 0, 7 * 86_400_000),
        idle_timeout_ms=take_int(
            rest, "idle_timeout_ms", DEFAULT_IDLE_TIMEOUT_MS, 1, 86_400_000
        ),
        state_memory_limit_mb=take_int(
            rest, "state_memory_limit_mb", DEFAULT_STATE_MEMORY_MB, 64, 1_048_576
        ),
        max_batch_bytes=parse_size("max_batch_bytes", rest.pop("max_batch_bytes", None))
        if "max_batch_bytes" in rest
        else DEFAULT_MAX_BATCH_BYTES,
    )
    if parsed.event_time_field is None and "watermark_delay_ms" in options:
        raise ConfigError(
            "option watermark_delay_ms: it delays the watermark of an event-time column; set "
            "event_time_field = '<a TIMESTAMP column>' too",
            option="watermark_delay_ms",
        )
    inline = {k: rest.pop(k) for k in list(rest) if k in ConnectionOptions.OPTION_NAMES}
    if rest:
        name = sorted(rest)[0]
        known = TABLE_OPTION_NAMES | ConnectionOptions.OPTION_NAMES
        raise ConfigError(
            f"unknown option '{name}'{did_you_mean(name, known)} "
            f"(table options: {', '.join(sorted(TABLE_OPTION_NAMES - {'events'}))}; "
            "connection options may be given inline too)",
            option=name,
        )
    return parsed, inline


# -- one option at a time ------------------------------------------------------


def _take_connector(rest: dict[str, Any]) -> None:
    connector = rest.pop("connector", "sse_source")
    if not isinstance(connector, str) or connector.strip().lower() not in CONNECTOR_NAMES:
        raise ConfigError(
            f"option connector: unknown connector {connector!r}"
            f"{did_you_mean(str(connector), CONNECTOR_NAMES)}; "
            "Laminar reads SSE streams: write connector = 'sse_source'",
            option="connector",
        )


def _take_event_filter(rest: dict[str, Any]) -> tuple[str, ...] | None:
    raw = rest.pop("event_type_filter", None)
    legacy = rest.pop("events", None)
    if raw is not None and legacy is not None:
        raise ConfigError(
            "options event_type_filter and events both filter event types; keep one "
            "(events = 'a,b' is the older spelling of event_type_filter = '[\"a\", \"b\"]')",
            option="events",
        )
    if legacy is not None:
        text = parse_str("events", legacy)
        names = tuple(part.strip() for part in text.split(",") if part.strip())
        if not names:
            raise ConfigError(
                "option events: list at least one event type, e.g. 'post,comment'", option="events"
            )
        return names
    if raw is None:
        return None
    if isinstance(raw, (list, tuple)):
        values: Any = list(raw)
    else:
        try:
            values = json.loads(parse_str("event_type_filter", raw))
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"option event_type_filter: expected a JSON array of event types such as "
                f'\'["message", "update"]\' ({exc.msg} at position {exc.pos})',
                option="event_type_filter",
            ) from exc
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, str) and v for v in values)
    ):
        raise ConfigError(
            "option event_type_filter: expected a non-empty JSON array of event type names, "
            'such as \'["message", "update"]\'',
            option="event_type_filter",
        )
    return tuple(values)


def _key(rest: dict[str, Any], option: str, column_names: Sequence[str]) -> str | None:
    value = rest.pop(option, None)
    if value is None:
        return None
    name = parse_str(option, value).strip().lower()
    if name not in column_names and name not in SSE_KEYS:
        choices = [*column_names, *SSE_KEYS]
        raise ConfigError(
            f"option {option}: '{name}' is neither a column of the table nor an SSE field"
            f"{did_you_mean(name, choices)} (use a column name or one of {', '.join(SSE_KEYS)})",
            option=option,
        )
    return name


def _column(rest: dict[str, Any], option: str, column_names: Sequence[str]) -> str | None:
    value = rest.pop(option, None)
    if value is None:
        return None
    name = parse_str(option, value).strip().lower()
    if name not in column_names:
        raise ConfigError(
            f"option {option}: '{name}' is not a column of the table"
            f"{did_you_mean(name, column_names)}; name a TIMESTAMP column",
            option=option,
        )
    return name


def take_int(rest: dict[str, Any], option: str, default: int, minimum: int, maximum: int) -> int:
    """Pop ``option`` from ``rest``: a whole number in [minimum, maximum], else ``default``."""
    value = rest.pop(option, None)
    if value is None:
        return default
    return parse_int(option, value, minimum=minimum, maximum=maximum)


def take_bool(rest: dict[str, Any], option: str, default: bool) -> bool:
    """Pop ``option`` from ``rest``: true/false, else ``default``."""
    value = rest.pop(option, None)
    return default if value is None else parse_bool(option, value)


def _optional_str(rest: dict[str, Any], option: str) -> str | None:
    value = rest.pop(option, None)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"option {option}: expected a string, got {value!r}", option=option)
    return value
