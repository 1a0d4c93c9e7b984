"""The SSE source table: a stream of events becomes micro-batches of typed rows.

One ``SSETableSource`` per table read by a running query. It owns the client
(``EventSource``), the micro-batcher (``MicroBatcher``: buffer_size,
buffer_timeout_ms, max_batch_bytes) and the format decoder (payload -> Arrow
columns), and keeps the last event id it read. It turns events into Arrow and
nothing more: the replay check, event-type filter, de-duplication and
partitioning are runtime operators (``laminar.runtime.operators.head``, built
for a table by ``source_head``), run by the pipeline (``laminar.runtime.pipeline``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

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
from laminar.runtime.operators.head import SourceHead
from laminar.runtime.operators.partition import Partitioner
from laminar.runtime.operators.source_stage import RowBatch, sse_field
from laminar.runtime.stats import PipelineStats
from laminar.sse.event import OversizedEvent, SSEEvent

__all__ = ["RowBatch", "SSETableDef", "SSETableSource", "source_head"]

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


class SSETableSource:
    """Reads one SSE table as micro-batches of events, decoded to Arrow on request;
    see the module docstring."""

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
        self.event_source: EventSource | None = None
        self.batcher: MicroBatcher[SSEEvent] | None = None
        # Resume point: a committed id from the state store wins over the last_event_id option.
        self.resume_event_id: str | None = None
        self._failed: list[tuple[PayloadError, SSEEvent]] = []  # of the batch being decoded
        self._drops = DropReporter(table.name, self.warn)
        self._oversized_routed = 0  # OversizedEvents found in batches so far
        self._batch_oversized = False  # the batch being decoded holds one

    def warn(self, message: str) -> None:
        text = f"table {self.table.name}: {message}"
        logger.warning(text)
        if self._observer is not None:
            self._observer.on_log("warning", text)

    async def batches(self) -> AsyncIterator[Batch[SSEEvent]]:
        """Micro-batches of events until the stream ends for good (or the consumer stops)."""
        opts = self.table.options
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
                yield batch
        finally:
            self._drops.close()
            await batcher.aclose()
            await source.aclose()

    # -- decoding (laminar.runtime.operators.head.EventDecoder) --------------------------

    def begin(self, batch: Batch[SSEEvent]) -> int:
        """Count ``batch`` in and keep its last id; the connection it arrived on."""
        stats = self.stats
        stats.events_received += len(batch.items)
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
        return source.stats.connections if source is not None else 0

    def decode(self, events: list[SSEEvent], arrival: list[int]) -> pa.Table:
        """The rows of ``events`` (one table; continue_on_error = false: those before the
        first failure, which ``failures`` then names)."""
        return self._decode(events, arrival)

    def failures(self) -> list[tuple[PayloadError, SSEEvent]]:
        return self._failed

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


def source_head(source: SSETableSource) -> SourceHead:
    """The operators at the head of ``source``'s pipeline, from its table's options."""
    opts = source.table.options
    columns = source.table.column_names
    dedup: Deduplicate | None = None
    if opts.deduplicate_by:
        field = sse_field(opts.deduplicate_by, columns)
        dedup = Deduplicate(
            opts.dedup_window_ms,
            field=field,
            column=opts.deduplicate_by if field is None else None,
        )
    field = sse_field(opts.partition_by, columns)
    partitioner = Partitioner(
        opts.parallelism, field=field, column=opts.partition_by if field is None else None
    )
    return SourceHead(
        source,
        source.stats,
        source.warn,
        event_types=frozenset(opts.event_type_filter) if opts.event_type_filter else None,
        dedup=dedup,
        partitioner=partitioner,
    )
