"""The SSE source table: a stream of events becomes micro-batches of typed rows.

One ``SSETableSource`` per table read by a running query. It owns the client
(``EventSource``), the event-type filter, SSE-field de-duplication and
partitioning (which need the events), and the format decoder (payload ->
Arrow columns). Column-keyed de-duplication and partitioning happen on the
decoded table. Batching itself is the runtime's (``MicroBatcher``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Hashable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from laminar.connectors.sse.observer import SourceObserver
from laminar.connectors.sse.options import ConnectionOptions
from laminar.connectors.sse.table_options import SSETableOptions
from laminar.connectors.sse.transport import EventSource
from laminar.formats import Column, build_row_decoder
from laminar.runtime.batching import Batch, MicroBatcher
from laminar.runtime.dedup import WindowDeduplicator
from laminar.runtime.partition import partition_indices
from laminar.runtime.replay import ReplayDetector
from laminar.runtime.stats import PipelineStats
from laminar.sse.event import SSEEvent

logger = logging.getLogger("laminar.connectors.sse")

# SSE fields that can key de-duplication and partitioning without a column.
_SSE_FIELDS = {"event_type": "event", "event_name": "event", "event_id": "id"}


@dataclass(frozen=True)
class SSETableDef:
    """Everything needed to read one SSE table."""

    name: str
    columns: tuple[Column, ...]
    options: SSETableOptions
    connection: ConnectionOptions

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(slots=True)
class RowBatch:
    """One micro-batch of rows, split into the table's partitions."""

    partitions: list[pa.Table]
    events: int  # events of the stream this batch covers
    last_event_id: str
    arrival_ms: list[int] = field(default_factory=list)  # of each of those events (epoch ms)
    arrival_runs: list[tuple[int, int]] = field(default_factory=list)  # (ms, events) per read
    dedup_mark: int = 0  # the de-duplication state as of this batch (for its checkpoint)
    # The event behind each row, when rows map one to one onto events (one partition,
    # nothing dropped or de-duplicated): lets a LIMIT commit exactly what it delivered.
    row_events: list[SSEEvent] | None = None

    @property
    def num_rows(self) -> int:
        return sum(p.num_rows for p in self.partitions)


class SSETableSource:
    """Reads one SSE table as Arrow micro-batches; see the module docstring."""

    def __init__(
        self,
        table: SSETableDef,
        stats: PipelineStats,
        observer: SourceObserver | None = None,
    ) -> None:
        self.table = table
        self.stats = stats
        self._observer = observer
        self._decoder = build_row_decoder(table.name, list(table.columns), table.options.format)
        self.schema: pa.Schema = self._decoder.schema
        opts = table.options
        self._allowed = frozenset(opts.event_type_filter) if opts.event_type_filter else None
        self._dedup = WindowDeduplicator(opts.dedup_window_ms) if opts.deduplicate_by else None
        self._dedup_field = self._sse_field(opts.deduplicate_by)
        self._partition_field = self._sse_field(opts.partition_by)
        self.event_source: EventSource | None = None
        self.batcher: MicroBatcher[SSEEvent] | None = None
        stats.partitions = [0] * opts.parallelism
        # Resume point: a committed id from the state store wins over the last_event_id option.
        self.resume_event_id: str | None = None
        self.replay = ReplayDetector(self._warn)
        self._connections_seen = 0

    def _sse_field(self, key: str | None) -> str | None:
        """The SSEEvent attribute behind ``key`` when it is not a column of the table."""
        if key is None or key in self.table.column_names:
            return None
        return _SSE_FIELDS[key]

    # -- checkpoints (laminar.runtime.commit) -----------------------------------

    def dedup_snapshot(self, upto: int | None = None) -> list[tuple[Hashable, int]]:
        """The de-duplication keys remembered as of batch mark ``upto`` (default: now;
        empty without deduplicate_by). See RowBatch.dedup_mark."""
        return self._dedup.snapshot(upto) if self._dedup is not None else []

    @property
    def dedup_entries(self) -> int:
        """Keys held by the de-duplication window (0 without deduplicate_by)."""
        return len(self._dedup) if self._dedup is not None else 0

    def restore_dedup(self, entries: Sequence[tuple[Hashable, int]]) -> None:
        if self._dedup is not None:
            self._dedup.restore(entries)

    def _warn(self, message: str) -> None:
        text = f"table {self.table.name}: {message}"
        logger.warning(text)
        if self._observer is not None:
            self._observer.on_log("warning", text)

    async def batches(self) -> AsyncIterator[RowBatch]:
        """Row batches until the stream ends for good (or the consumer stops)."""
        opts = self.table.options
        if self.resume_event_id:
            self.replay.resumed(self.resume_event_id)
        # A committed id is the server's text: resumed from literally, never as an option
        # (whose ${VAR}s would be expanded).
        source = EventSource(
            self.table.connection, self._observer, resume_from=self.resume_event_id or None
        )
        self.event_source = source
        batcher: MicroBatcher[SSEEvent] = MicroBatcher(
            source.batches(),
            buffer_size=opts.buffer_size,
            buffer_timeout_ms=opts.buffer_timeout_ms,
        )
        self.batcher = batcher  # read by observability (buffer occupancy)
        try:
            self.stats.state = "running"
            async for batch in batcher:
                # Decoding runs in a worker thread: DuckDB and pyarrow release the GIL,
                # so the socket keeps being read meanwhile.
                rows = await asyncio.to_thread(self.rows, batch)
                if rows is not None:
                    yield rows
        finally:
            await batcher.aclose()
            await source.aclose()

    def rows(self, batch: Batch[SSEEvent]) -> RowBatch | None:
        """Filter, de-duplicate, decode and partition one batch of events."""
        stats = self.stats
        events, arrival = batch.items, batch.arrival_ms
        stats.events_received += len(events)
        stats.last_event_id = events[-1].id
        self._check_replays(events)
        if self._allowed is not None:
            events, arrival = self._filter_types(events, arrival)
        if self._dedup is not None and self._dedup_field is not None:
            keys = [getattr(e, self._dedup_field) or None for e in events]
            before = len(events)
            events, arrival = _select(events, arrival, self._dedup.keep_mask(keys, arrival))
            stats.events_deduplicated += before - len(events)
        if not events:
            return RowBatch(
                [], len(batch.items), stats.last_event_id, batch.arrival_ms, batch.runs,
                self._dedup.mark if self._dedup is not None else 0,
            )
        parallelism = self.table.options.parallelism
        if parallelism > 1 and self._partition_field is not None:
            keys = [getattr(e, self._partition_field) for e in events]
            groups = partition_indices(keys, parallelism)
            partitions = []
            for idx in groups:  # decoded (and de-duplicated by column) partition by partition
                times = [arrival[i] for i in idx]
                table = self._decode([events[i] for i in idx], times)
                partitions.append(self._dedup_table(table, times))
        else:
            table = self._dedup_table(self._decode(events, arrival), arrival)
            partitions = self._partition_table(table)
        for index, part in enumerate(partitions):
            stats.partitions[index] += part.num_rows
        result = RowBatch(
            partitions, len(batch.items), stats.last_event_id, batch.arrival_ms, batch.runs,
            self._dedup.mark if self._dedup is not None else 0,
        )
        if self._dedup is None and len(partitions) == 1 and partitions[0].num_rows == len(events):
            result.row_events = events  # row i came from event i
        return result

    def _check_replays(self, events: list[SSEEvent]) -> None:
        source = self.event_source
        if source is not None and source.stats.connections != self._connections_seen:
            if self._connections_seen:
                self.replay.reconnected()
            self._connections_seen = source.stats.connections
        self.replay.observe([e.id for e in events])
        self.stats.events_replayed = self.replay.replayed
        self.stats.id_gaps = self.replay.gaps

    def _filter_types(
        self, events: list[SSEEvent], arrival: list[int]
    ) -> tuple[list[SSEEvent], list[int]]:
        allowed = self._allowed
        assert allowed is not None
        mask = [e.event in allowed for e in events]
        kept = _select(events, arrival, mask)
        self.stats.events_filtered += len(events) - len(kept[0])
        return kept

    def _decode(self, events: list[SSEEvent], arrival: list[int]) -> pa.Table:
        if not events:
            return self.schema.empty_table()
        result = self._decoder.decode(events, arrival)
        self.stats.parse_errors += result.errors
        self.stats.events_dropped += result.dropped
        return result.table

    def _dedup_table(self, table: pa.Table, arrival: list[int]) -> pa.Table:
        key = self.table.options.deduplicate_by
        if self._dedup is None or self._dedup_field is not None or key is None:
            return table
        if table.num_rows != len(arrival):  # bad payloads were dropped: time ~ batch time
            arrival = [arrival[-1]] * table.num_rows
        mask = self._dedup.keep_mask(table.column(key).to_pylist(), arrival)
        kept = table.filter(pa.array(mask, pa.bool_()))
        self.stats.events_deduplicated += table.num_rows - kept.num_rows
        return kept

    def _partition_table(self, table: pa.Table) -> list[pa.Table]:
        opts = self.table.options
        if opts.parallelism == 1 or opts.partition_by is None:
            return [table]
        groups = partition_indices(table.column(opts.partition_by).to_pylist(), opts.parallelism)
        return [table.take(pa.array(idx, pa.int64())) for idx in groups]


def _select(
    events: list[SSEEvent], arrival: list[int], mask: Sequence[bool]
) -> tuple[list[SSEEvent], list[int]]:
    if all(mask):
        return events, arrival
    return (
        [e for e, keep in zip(events, mask, strict=True) if keep],
        [a for a, keep in zip(arrival, mask, strict=True) if keep],
    )
