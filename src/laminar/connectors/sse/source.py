"""The SSE source table: a stream of events becomes micro-batches of typed rows.

One ``SSETableSource`` per table read by a running query. It owns the client
(``EventSource``) and the format decoder (payload -> Arrow columns), and runs
each batch through the runtime's operators at the head of the pipeline
(``laminar.runtime.operators``): the event-type filter, de-duplication and
partitioning, keyed by an SSE field (before decoding) or by a column (after).
Their state is checkpointed per operator (``operator_states``). Batching
itself is the runtime's (``MicroBatcher``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

import pyarrow as pa

from laminar.connectors.sse.observer import SourceObserver
from laminar.connectors.sse.options import ConnectionOptions
from laminar.connectors.sse.table_options import SSETableOptions
from laminar.connectors.sse.transport import EventSource
from laminar.errors import PayloadError
from laminar.formats import Column, build_row_decoder
from laminar.runtime.batching import Batch, MicroBatcher
from laminar.runtime.drops import DropReporter
from laminar.runtime.operators.dedup import Deduplicate
from laminar.runtime.operators.filter_types import EventTypeFilter
from laminar.runtime.operators.partition import Partitioner
from laminar.runtime.operators.replay import ReplayCheck
from laminar.runtime.operators.source_stage import EventBatch, sse_field
from laminar.runtime.stats import PipelineStats
from laminar.sse.event import OversizedEvent, SSEEvent

logger = logging.getLogger("laminar.connectors.sse")


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
    # continue_on_error = false and an event failed: this batch holds the rows of the
    # events before it; the source raises ``stop`` once the batch has been handed on.
    stop: PayloadError | None = None

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
        columns = table.column_names
        self._filter = EventTypeFilter(opts.event_type_filter) if opts.event_type_filter else None
        self.dedup: Deduplicate | None = None
        if opts.deduplicate_by:
            field = sse_field(opts.deduplicate_by, columns)
            self.dedup = Deduplicate(
                opts.dedup_window_ms,
                field=field,
                column=opts.deduplicate_by if field is None else None,
            )
        field = sse_field(opts.partition_by, columns)
        self._partitioner = Partitioner(
            opts.parallelism, field=field, column=opts.partition_by if field is None else None
        )
        self.event_source: EventSource | None = None
        self.batcher: MicroBatcher[SSEEvent] | None = None
        stats.partitions = [0] * opts.parallelism
        # Resume point: a committed id from the state store wins over the last_event_id option.
        self.resume_event_id: str | None = None
        self.replay = ReplayCheck(self._warn)
        self._failed: list[tuple[PayloadError, SSEEvent]] = []  # of the batch being decoded
        self._drops = DropReporter(table.name, self._warn)
        self._oversized_routed = 0  # OversizedEvents found in batches so far
        self._batch_oversized = False  # the batch being decoded holds one

    # -- checkpoints (laminar.runtime.commit) -----------------------------------

    def operator_states(self, upto: int | None = None) -> dict[str, bytes]:
        """The state of each stateful operator, by name, as of batch mark ``upto``
        (default: now): safe while later batches are processed (see RowBatch.dedup_mark)."""
        return {self.dedup.name: self.dedup.snapshot(upto)} if self.dedup is not None else {}

    def restore_operators(self, states: Mapping[str, bytes]) -> None:
        """Restore the operators from a checkpoint's states (other names are not theirs)."""
        if self.dedup is not None and self.dedup.name in states:
            self.dedup.restore(states[self.dedup.name])

    @property
    def dedup_entries(self) -> int:
        """Keys held by the de-duplication window (0 without deduplicate_by)."""
        return self.dedup.keys_held if self.dedup is not None else 0

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
            self.table.connection,
            self._observer,
            resume_from=self.resume_event_id or None,
            report_oversized=True,  # routed like a bad payload by _decode
        )
        self.event_source = source
        stats = source.stats
        batcher: MicroBatcher[SSEEvent] = MicroBatcher(
            source.batches(),
            buffer_size=opts.buffer_size,
            buffer_timeout_ms=opts.buffer_timeout_ms,
            eager_first=True,
            max_bytes=opts.max_batch_bytes,
            byte_counter=lambda: stats.bytes_decoded,
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
                    if rows.stop is not None:
                        raise rows.stop
        finally:
            self._drops.close()
            await batcher.aclose()
            await source.aclose()

    def rows(self, batch: Batch[SSEEvent]) -> RowBatch | None:
        """Filter, de-duplicate, decode and partition one batch of events."""
        stats = self.stats
        stats.events_received += len(batch.items)
        previous_id = stats.last_event_id
        stats.last_event_id = batch.items[-1].id
        self._failed = []
        source = self.event_source
        self._batch_oversized = False
        if source is not None and source.stats.events_oversized > self._oversized_routed:
            # Some were read and not yet routed: they may be in this batch (the count is
            # the network reader's, ahead of the batches: scan until they are found).
            found = sum(1 for e in batch.items if type(e) is OversizedEvent)
            self._oversized_routed += found
            self._batch_oversized = found > 0
        connection = source.stats.connections if source is not None else 0
        events = self.replay.process(EventBatch(batch.items, batch.arrival_ms), connection)
        stats.events_replayed, stats.id_gaps = self.replay.replayed, self.replay.gaps
        if self._filter is not None:
            events, dropped = self._filter.process(events)
            stats.events_filtered += dropped
        dedup = self.dedup
        mark_before = dedup.mark if dedup is not None else 0  # the state before this batch
        if dedup is not None:
            events, dropped = dedup.process_events(events)
            stats.events_deduplicated += dropped
        if not events.events:
            return RowBatch(
                [], len(batch.items), stats.last_event_id, batch.arrival_ms, batch.runs,
                dedup.mark if dedup is not None else 0,
            )
        partitioner = self._partitioner
        split: list[EventBatch] | None = None
        if partitioner.splits_events:  # decoded (and de-duplicated by column) one by one
            split = partitioner.split_events(events)
            partitions = [self._decode_rows(part) for part in split]
        else:
            partitions = partitioner.split_rows(self._decode_rows(events))
        if self._failed:
            return self._stopped(batch, events.events, partitions, split, previous_id, mark_before)
        for index, part in enumerate(partitions):
            stats.partitions[index] += part.num_rows
        result = RowBatch(
            partitions, len(batch.items), stats.last_event_id, batch.arrival_ms, batch.runs,
            dedup.mark if dedup is not None else 0,  # as of this batch, column keys included
        )
        if dedup is None and len(partitions) == 1 and partitions[0].num_rows == len(events.events):
            result.row_events = events.events  # row i came from event i
        return result

    def _stopped(
        self,
        batch: Batch[SSEEvent],
        events: list[SSEEvent],
        partitions: list[pa.Table],
        split: list[EventBatch] | None,
        previous_id: str,
        mark_before: int,
    ) -> RowBatch:
        """The batch cut just before its first failing event (continue_on_error = false):
        the rows of the events before it, covering the stream up to that event."""
        position = {id(e): i for i, e in enumerate(events)}
        error, bad = min(self._failed, key=lambda failed: position[id(failed[1])])
        if split is not None:  # partitions decoded apart: keep what precedes the first failure
            # (rows map onto their partition's events unless a column-keyed de-duplication
            # dropped some: then a row past the cut may go too — sent again, never lost)
            first = position[id(bad)]
            partitions = [
                table.slice(0, sum(1 for e in part.events if position[id(e)] < first))
                for table, part in zip(partitions, split, strict=True)
            ]
        cut = next(i for i, e in enumerate(batch.items) if e is bad)
        last_id = batch.items[cut - 1].id if cut else previous_id
        self.stats.last_event_id = last_id
        for index, part in enumerate(partitions):
            self.stats.partitions[index] += part.num_rows
        runs, left = [], cut
        for ms, count in batch.runs:
            if left <= 0:
                break
            runs.append((ms, min(count, left)))
            left -= count
        return RowBatch(
            partitions, cut, last_id, batch.arrival_ms[:cut], runs,
            # as of the previous batch: this one's keys may include events after the cut
            # (one batch may advance the state several times: once per partition)
            mark_before,
            stop=error,
        )

    def _decode(self, events: list[SSEEvent], arrival: list[int]) -> pa.Table:
        if not events:
            return self.schema.empty_table()
        bad = None
        if self._batch_oversized:  # route them like bad payloads (see rows())
            bad = {i: e.reason for i, e in enumerate(events) if type(e) is OversizedEvent}
        try:
            result = self._decoder.decode(events, arrival, bad)
        except PayloadError as error:
            if error.event_index is None:
                raise
            # continue_on_error = false: keep the rows before it; rows() cuts the batch there
            self.stats.parse_errors += 1
            self._failed.append((error, events[error.event_index]))
            return error.rows_before
        self.stats.parse_errors += result.errors
        self.stats.events_dropped += result.dropped
        if result.dropped:
            self._drops.dropped(result.dropped_reasons)
        return result.table

    def _decode_rows(self, batch: EventBatch) -> pa.Table:
        """Decode ``batch``, then drop the rows a column-keyed de-duplication finds again."""
        table = self._decode(batch.events, batch.arrival_ms)
        if self.dedup is not None:
            table, dropped = self.dedup.process_rows(table, batch.arrival_ms)
            self.stats.events_deduplicated += dropped
        return table
