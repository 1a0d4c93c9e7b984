"""The event-type filter: keeps the events whose SSE ``event:`` type is allowed.

It runs before decoding (a dropped event's payload is never parsed, so it can
never count as a parse error) and holds no state: its snapshot is empty.
"""

from __future__ import annotations

from collections.abc import Iterable

from laminar.runtime.operators.source_stage import EventBatch, select


class EventTypeFilter:
    """``event_type_filter``: the events of the listed types pass, the others are counted."""

    name = "event_type_filter"

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = frozenset(allowed)

    def process(self, batch: EventBatch) -> tuple[EventBatch, int]:
        """The batch without the other types' events, and how many were dropped."""
        allowed = self.allowed
        kept = select(batch, [e.event in allowed for e in batch.events])
        return kept, len(batch.events) - len(kept.events)

    def snapshot(self) -> bytes:
        return b""

    def restore(self, state: bytes) -> None:
        del state  # stateless
