"""What the operators at the head of a source's pipeline work on.

Some operators must see the events before their payloads are decoded: the
event-type filter, and de-duplication or partitioning keyed by an SSE field
(``event_type``, ``event_id``) rather than a column. They take an
``EventBatch`` (the events and their arrival times) and return one; those keyed
by a column take the decoded Arrow table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from laminar.errors import PayloadError
from laminar.sse.event import SSEEvent

# SSE fields that can key de-duplication and partitioning without a column.
SSE_FIELDS = {"event_type": "event", "event_name": "event", "event_id": "id"}


@dataclass(frozen=True, slots=True)
class EventBatch:
    """Events of one micro-batch, with the arrival time of each (epoch ms)."""

    events: list[SSEEvent]
    arrival_ms: list[int]


def select(batch: EventBatch, mask: Sequence[bool]) -> EventBatch:
    """The events of ``batch`` whose ``mask`` entry is true (the same batch if all are)."""
    if all(mask):
        return batch
    return EventBatch(
        [e for e, keep in zip(batch.events, mask, strict=True) if keep],
        [a for a, keep in zip(batch.arrival_ms, mask, strict=True) if keep],
    )


def sse_field(key: str | None, columns: Sequence[str]) -> str | None:
    """The SSEEvent attribute behind ``key`` when it is not a column of the table."""
    if key is None or key in columns:
        return None
    return SSE_FIELDS[key]


@dataclass(slots=True)
class RowBatch:
    """One micro-batch of rows, split into the table's partitions: what the head of a
    source's pipeline (``laminar.runtime.operators.head``) hands to the query."""

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
    # events before it; the pipeline raises ``stop`` once the batch has been handed on.
    stop: PayloadError | None = None

    @property
    def num_rows(self) -> int:
        return sum(p.num_rows for p in self.partitions)
