"""LIMIT as an operator: the first ``limit`` rows a query produces in this run.

It cuts the output of the batch in which the limit is reached and says the
query is done. What is committed then must be exactly what was delivered: for
a per-batch query (filter / projection) whose rows map one to one onto the
batch's events (``RowBatch.row_events``), ``delivered_through`` finds the event
behind the last delivered row: the shortest prefix of the batch whose output
holds ``wanted`` rows, by binary search (such a query's output over a prefix is
a prefix of its output). Otherwise the position stays at the previous batch (a
restart replays the batch rather than skip rows).

The count is per run, on purpose: a LIMIT query run again after a restart
resumes after the committed id and delivers up to ``limit`` new rows, so the
operator checkpoints nothing (``snapshot()`` is empty).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import pyarrow as pa

from laminar.runtime.operator import Rows
from laminar.runtime.operators.source_stage import RowBatch

T = TypeVar("T")


class Limit(Generic[T]):
    """See the module docstring. ``limit`` None: no limit (every row passes)."""

    name = "limit"

    def __init__(self, limit: int | None, rows: Rows[T]) -> None:
        self.limit = limit
        self.rows = rows
        self.delivered = 0

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.delivered, 0)

    @property
    def done(self) -> bool:
        return self.limit is not None and self.delivered >= self.limit

    def process(self, rows: T) -> tuple[T, bool]:
        """``rows`` cut to what the limit still allows, and whether it cut them (reached)."""
        remaining = self.remaining
        produced = self.rows.size(rows)
        reached = remaining is not None and produced >= remaining
        if reached:
            assert remaining is not None
            if produced > remaining:
                rows = self.rows.head(rows, remaining)
            produced = remaining
        self.delivered += produced
        return rows, reached

    @staticmethod
    def delivered_through(
        batch: RowBatch, wanted: int, count: Callable[[pa.Table], int]
    ) -> str | None:
        """The id of the event behind the ``wanted``-th output row of ``batch``, or None
        (see the module docstring); ``count`` gives the output rows of a prefix."""
        events = batch.row_events
        if events is None or len(batch.partitions) != 1 or wanted <= 0:
            return None
        rows = batch.partitions[0]
        low, high = 1, rows.num_rows
        while low < high:
            middle = (low + high) // 2
            if count(rows.slice(0, middle)) >= wanted:
                high = middle
            else:
                low = middle + 1
        return events[low - 1].id

    def snapshot(self) -> bytes:
        return b""  # per run: see the module docstring

    def restore(self, state: bytes) -> None:
        del state  # per run: see the module docstring
