"""The head of a source's pipeline: events in, partitioned Arrow rows out.

One batch of events goes, in this order, through

    replay check -> event-type filter -> de-duplication (SSE field)
      -> decode (the source's format: events -> Arrow, one call per table/partition)
      -> de-duplication (column) -> partitioning

where partitioning keyed by an SSE field splits the events before decoding and
one keyed by a column splits the decoded table. Decoding is the source's job
(``EventDecoder``); everything else here is a runtime operator with a name and
a checkpointed state (only de-duplication has one). With
``continue_on_error = false`` a failing event cuts the batch just before it
(``RowBatch.stop``).

``process`` runs in a worker thread (DuckDB, pyarrow and the decoders release
the GIL): it touches each event in Python only where an operator must (a
filter or an SSE-field key), never otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import pyarrow as pa

from laminar.errors import PayloadError
from laminar.runtime.batching import Batch
from laminar.runtime.operators.dedup import Deduplicate
from laminar.runtime.operators.filter_types import EventTypeFilter
from laminar.runtime.operators.partition import Partitioner
from laminar.runtime.operators.replay import ReplayCheck
from laminar.runtime.operators.source_stage import EventBatch, RowBatch
from laminar.runtime.stats import PipelineStats
from laminar.sse.event import SSEEvent


class EventDecoder(Protocol):
    """What the head needs of a source: the events of a batch turned into Arrow rows."""

    def begin(self, batch: Batch[SSEEvent]) -> int:
        """Count ``batch`` in (its last id is the source's); the connection it came on."""
        ...

    def decode(self, events: list[SSEEvent], arrival_ms: list[int]) -> pa.Table:
        """The rows of ``events``; with continue_on_error = false, those before a failure."""
        ...

    def failures(self) -> list[tuple[PayloadError, SSEEvent]]:
        """The failures (continue_on_error = false) of the batch since ``begin``."""
        ...


class SourceHead:
    """See the module docstring."""

    def __init__(
        self,
        decoder: EventDecoder,
        stats: PipelineStats,
        warn: Callable[[str], None],
        *,
        event_types: frozenset[str] | None = None,
        dedup: Deduplicate | None = None,
        partitioner: Partitioner | None = None,
    ) -> None:
        self.decoder = decoder
        self.stats = stats
        self.replay = ReplayCheck(warn)
        self.filter = EventTypeFilter(event_types) if event_types else None
        self.dedup = dedup
        self.partitioner = partitioner or Partitioner(1, field=None, column=None)
        stats.partitions = [0] * self.partitioner.partitions

    # -- checkpoints ----------------------------------------------------------------

    def snapshot(self, upto: int | None = None) -> dict[str, bytes]:
        """The state of each stateful operator by name, as of batch mark ``upto``
        (default: now): safe while later batches are processed (see RowBatch.dedup_mark)."""
        return {self.dedup.name: self.dedup.snapshot(upto)} if self.dedup is not None else {}

    def restore(self, states: Mapping[str, bytes]) -> None:
        """Restore the operators from a checkpoint's states (other names are not theirs)."""
        if self.dedup is not None and self.dedup.name in states:
            self.dedup.restore(states[self.dedup.name])

    @property
    def mark(self) -> int:
        return self.dedup.mark if self.dedup is not None else 0

    # -- per batch --------------------------------------------------------------------

    def process(self, batch: Batch[SSEEvent]) -> RowBatch:
        """Filter, de-duplicate, decode and partition one batch of events."""
        stats = self.stats
        previous_id = stats.last_event_id
        connection = self.decoder.begin(batch)
        events = self.replay.process(EventBatch(batch.items, batch.arrival_ms), connection)
        stats.events_replayed, stats.id_gaps = self.replay.replayed, self.replay.gaps
        if self.filter is not None:
            events, dropped = self.filter.process(events)
            stats.events_filtered += dropped
        dedup = self.dedup
        mark_before = self.mark  # the state before this batch
        if dedup is not None:
            events, dropped = dedup.process_events(events)
            stats.events_deduplicated += dropped
        if not events.events:
            return RowBatch(
                [], len(batch.items), stats.last_event_id, batch.arrival_ms, batch.runs, self.mark
            )
        partitioner = self.partitioner
        split: list[EventBatch] | None = None
        if partitioner.splits_events:  # decoded (and de-duplicated by column) one by one
            split = partitioner.split_events(events)
            partitions = [self._decode_rows(part) for part in split]
        else:
            partitions = partitioner.split_rows(self._decode_rows(events))
        failed = self.decoder.failures()
        if failed:
            return self._stopped(
                batch, events.events, partitions, split, failed, previous_id, mark_before
            )
        for index, part in enumerate(partitions):
            stats.partitions[index] += part.num_rows
        result = RowBatch(
            partitions, len(batch.items), stats.last_event_id, batch.arrival_ms, batch.runs,
            self.mark,  # as of this batch, column keys included
        )
        if dedup is None and len(partitions) == 1 and partitions[0].num_rows == len(events.events):
            result.row_events = events.events  # row i came from event i
        return result

    def _decode_rows(self, batch: EventBatch) -> pa.Table:
        """Decode ``batch``, then drop the rows a column-keyed de-duplication finds again."""
        table = self.decoder.decode(batch.events, batch.arrival_ms)
        if self.dedup is not None:
            table, dropped = self.dedup.process_rows(table, batch.arrival_ms)
            self.stats.events_deduplicated += dropped
        return table

    def _stopped(
        self,
        batch: Batch[SSEEvent],
        events: list[SSEEvent],
        partitions: list[pa.Table],
        split: list[EventBatch] | None,
        failed: list[tuple[PayloadError, SSEEvent]],
        previous_id: str,
        mark_before: int,
    ) -> RowBatch:
        """The batch cut just before its first failing event (continue_on_error = false):
        the rows of the events before it, covering the stream up to that event."""
        position = {id(e): i for i, e in enumerate(events)}
        error, bad = min(failed, key=lambda failure: position[id(failure[1])])
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
