"""De-duplication (``deduplicate_by``) as an operator with a checkpointed state.

Keyed by an SSE field (``event_id``, ``event_type``) it works on the events,
before decoding (``process_events``); keyed by a column, on the decoded table
(``process_rows``). Either way a key seen within ``dedup_window_ms`` drops its
event (``laminar.runtime.dedup.WindowDeduplicator``).

Its state is versioned by batch *marks*: ``mark`` is that of the last batch it
processed, and ``snapshot(upto=mark)`` gives the state as of an earlier batch
while later ones are already being processed, so a checkpoint can be taken
between batches at any time (the commit protocol's ``snapshot_anytime``). The
state is checkpointed under the name ``dedup`` (the name version 1 stores used).
"""

from __future__ import annotations

import pyarrow as pa

from laminar import arrow_compute as pc
from laminar.runtime.dedup import WindowDeduplicator
from laminar.runtime.operators.source_stage import EventBatch, select
from laminar.runtime.state import decode_dedup, encode_dedup


class Deduplicate:
    """See the module docstring. Exactly one of ``field`` / ``column`` keys it."""

    name = "dedup"

    def __init__(self, window_ms: int, *, field: str | None, column: str | None) -> None:
        if (field is None) == (column is None):
            raise ValueError("Deduplicate is keyed by an SSE field or by a column, not both")
        self.field = field
        self.column = column
        self._seen = WindowDeduplicator(window_ms)

    @property
    def keys_held(self) -> int:
        """Keys remembered now (not __len__: an empty operator must stay truthy)."""
        return len(self._seen)

    @property
    def mark(self) -> int:
        """The version of the state: that of the last batch processed."""
        return self._seen.mark

    def process_events(self, batch: EventBatch) -> tuple[EventBatch, int]:
        """Keyed by an SSE field: the batch without duplicates, and how many were dropped."""
        if self.field is None:
            return batch, 0
        field = self.field
        keys = [getattr(e, field) or None for e in batch.events]
        kept = select(batch, self._seen.keep_mask(keys, batch.arrival_ms))
        return kept, len(batch.events) - len(kept.events)

    def process_rows(self, table: pa.Table, arrival_ms: list[int]) -> tuple[pa.Table, int]:
        """Keyed by a column: the rows without duplicates, and how many were dropped.

        ``arrival_ms`` has one time per row; when bad payloads were dropped in
        decoding (fewer rows than times), every row takes the batch's last time.
        """
        if self.column is None:
            return table, 0
        if table.num_rows != len(arrival_ms):
            arrival_ms = [arrival_ms[-1]] * table.num_rows
        mask = self._seen.keep_mask(table.column(self.column).to_pylist(), arrival_ms)
        kept = pc.filter(table, pa.array(mask, pa.bool_()))
        return kept, table.num_rows - kept.num_rows

    def snapshot(self, upto: int | None = None) -> bytes:
        """The remembered keys as of batch mark ``upto`` (default: now), serialized."""
        return encode_dedup(self._seen.snapshot(upto))

    def restore(self, state: bytes) -> None:
        self._seen.restore(decode_dedup(state))
