"""Replay detection as an operator: watches the event ids, passes every event on.

A server that does not honour ``Last-Event-ID`` sends ids again after a reconnect
(or skips some): ``laminar.runtime.replay.ReplayDetector`` tells which. This
operator feeds it each batch, with the connection count the batch arrived on, so
that a new connection starts a new inspection. It drops nothing (that is
``deduplicate_by = 'event_id'``'s job). Its memory of recent ids is not
checkpointed: after a restart the detector starts from the resumed id
(``resumed``), which is what a replay is judged against.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter

from laminar.runtime.operators.source_stage import EventBatch
from laminar.runtime.replay import DEFAULT_MEMORY, ReplayDetector

_ID = attrgetter("id")


class ReplayCheck:
    """See the module docstring. ``warn`` receives one message per replay run or gap."""

    name = "replay_check"

    def __init__(self, warn: Callable[[str], None], memory: int = DEFAULT_MEMORY) -> None:
        self.detector = ReplayDetector(warn, memory)
        self._connection = 0  # the connection the last batch arrived on (0: none yet)

    @property
    def replayed(self) -> int:
        return self.detector.replayed

    @property
    def gaps(self) -> int:
        return self.detector.gaps

    @property
    def missing(self) -> int:
        """Integer ids skipped, summed over the gaps."""
        return self.detector.missing

    def resumed(self, event_id: str) -> None:
        """The stream resumes after ``event_id`` (a committed id)."""
        self.detector.resumed(event_id)

    def process(self, batch: EventBatch, connection: int) -> EventBatch:
        """Watch ``batch``'s ids; ``connection`` counts the connections opened so far."""
        if connection != self._connection:
            if self._connection:
                self.detector.reconnected()
            self._connection = connection
        self.detector.observe(list(map(_ID, batch.events)))
        return batch

    def snapshot(self) -> bytes:
        return b""

    def restore(self, state: bytes) -> None:
        del state  # see the module docstring
