"""Counters of one running pipeline, read by status, metrics and system tables.

Plain attributes updated by the pipeline on every batch (one writer); the
observability layer reads them when asked (gauges computed at scrape time).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class PipelineStats:
    """What one source table of one running query has done so far."""

    table: str
    connection: str | None
    query_id: int = 0
    started_at: float = field(default_factory=time.time)
    events_received: int = 0  # events decoded from the stream
    events_filtered: int = 0  # dropped by event_type_filter
    events_deduplicated: int = 0  # dropped by deduplicate_by
    events_replayed: int = 0  # ids the server sent again after a reconnect (Last-Event-ID ignored)
    id_gaps: int = 0  # reconnections after which integer ids skipped ahead
    parse_errors: int = 0  # payloads that failed to parse or convert
    events_dropped: int = 0  # bad payloads dropped (not captured as error rows)
    rows_out: int = 0  # rows the query produced
    events_late: int = 0  # rows dropped by windows: event time before the watermark
    watermark: int | None = None  # of the query's windows, µs since the epoch
    state_rows: int = 0  # rows held by open windows and groups
    state_bytes: int = 0  # memory + disk of that state (DuckDB's own count)
    state_spilled_bytes: int = 0  # the part of it spilled to disk
    batches: int = 0
    last_batch_ms: float = 0.0  # processing time of the last batch
    last_event_id: str = ""
    last_event_at: float | None = None
    partitions: list[int] = field(default_factory=list)  # rows per partition so far
    state: str = "starting"  # starting | running | finished | failed | stopped
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()}
