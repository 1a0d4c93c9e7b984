"""Partitioning (``partition_by``, ``parallelism``) as an operator.

Rows are split by a stable hash of a key (``laminar.runtime.partition``), each
key's rows keeping their order. Keyed by an SSE field, the *events* are split
before decoding (each partition is then decoded on its own); keyed by a
column, the decoded table is split. Stateless: the hash alone places a key.
"""

from __future__ import annotations

import pyarrow as pa

from laminar import arrow_compute as pc
from laminar.runtime.operators.source_stage import EventBatch
from laminar.runtime.partition import partition_indices


class Partitioner:
    """See the module docstring. Without a key, or with one partition, nothing is split."""

    name = "partition"

    def __init__(self, partitions: int, *, field: str | None, column: str | None) -> None:
        self.partitions = partitions
        self.field = field if partitions > 1 else None
        self.column = column if partitions > 1 else None

    @property
    def splits_events(self) -> bool:
        return self.field is not None

    def split_events(self, batch: EventBatch) -> list[EventBatch]:
        """One batch per partition (keyed by an SSE field; see ``splits_events``)."""
        assert self.field is not None
        field = self.field
        groups = partition_indices([getattr(e, field) for e in batch.events], self.partitions)
        return [
            EventBatch([batch.events[i] for i in idx], [batch.arrival_ms[i] for i in idx])
            for idx in groups
        ]

    def split_rows(self, table: pa.Table) -> list[pa.Table]:
        """One table per partition when keyed by a column; else ``[table]``."""
        if self.column is None:
            return [table]
        groups = partition_indices(table.column(self.column).to_pylist(), self.partitions)
        return [pc.take(table, pa.array(idx, pa.int64())) for idx in groups]

    def snapshot(self) -> bytes:
        return b""

    def restore(self, state: bytes) -> None:
        del state  # stateless
