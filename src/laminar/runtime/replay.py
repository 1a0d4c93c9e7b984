"""Detects a server that does not honour Last-Event-ID: replayed ids and gaps after a reconnect.

The detector remembers the most recent ``memory`` event ids (bounded; kept as
the batches' id lists, so remembering costs nothing per event — the set to look
ids up in is built only when a reconnection needs it). After
each reconnection (``reconnected()``), it inspects the new connection's events
until the first id it has never seen: every remembered id before it is a
*replay* (the server sent it again; counted and logged as duplicates), and
when both the id we resumed from and the first fresh id are integers with a
hole between them, the hole is a *gap* (events the server never sent; counted
and logged). Ids may be any text: replays are found by memory, gaps only for
integer ids. An event without an id field repeats the previous id and is not
a replay. Events are never dropped here — ``deduplicate_by = 'event_id'`` does
that; this only tells the operator that the server misbehaves.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from itertools import chain

DEFAULT_MEMORY = 100_000
_MAX_CHECKED = 1_000_000  # a replay longer than this is not looked for further


class ReplayDetector:
    """See the module docstring. ``warn`` receives one message per replay run or gap."""

    def __init__(
        self, warn: Callable[[str], None] | None = None, memory: int = DEFAULT_MEMORY
    ) -> None:
        self.memory = memory
        self.replayed = 0  # events whose id had been seen before, after a reconnect
        self.gaps = 0  # reconnections after which integer ids skipped ahead
        self.missing = 0  # integer ids skipped, summed over the gaps
        self._warn = warn or (lambda message: None)
        self._batches: deque[Sequence[str]] = deque()  # recent ids, batch by batch
        self._remembered = 0
        self._seen: set[str] = set()  # built at a reconnection, for the inspection
        self._last = ""
        self._checking = False
        self._checked = 0
        self._resumed_from = ""
        self._run = 0  # replays in the current run

    def reconnected(self) -> None:
        """A new connection opened: inspect its first events."""
        if self._checking and self._run:
            # The previous connection sent only ids we had (1-5 again, then closed) and
            # never a fresh one: that is a replay too, or a server resending the same
            # old events on every connection would never be reported.
            self._report_run(", and no new event")
        self._checking = True
        self._checked = 0
        self._run = 0
        self._resumed_from = self._last
        self._seen = set(chain.from_iterable(self._batches))

    def resumed(self, event_id: str) -> None:
        """The first connection resumes after ``event_id`` (a committed checkpoint)."""
        self._last = event_id
        self.reconnected()

    def observe(self, ids: Sequence[str]) -> None:
        """Look at one batch's event ids, in arrival order."""
        if not ids:
            return
        if self._checking:
            self._inspect(ids)
            if not self._checking:
                self._seen = set()
        self._batches.append(ids)
        self._remembered += len(ids)
        while self._remembered - len(self._batches[0]) >= self.memory:
            self._remembered -= len(self._batches.popleft())
        self._last = ids[-1]

    def _inspect(self, ids: Sequence[str]) -> None:
        recent = self._seen
        previous = self._last
        for event_id in ids:
            self._checked += 1
            if event_id == previous or not event_id:  # no id field on this event
                continue
            previous = event_id
            if event_id in recent and self._checked <= _MAX_CHECKED:
                self.replayed += 1
                self._run += 1
                continue
            self._checking = False
            self._finish(event_id)
            return

    def _report_run(self, tail: str = "") -> None:
        self._warn(
            f"the server replayed {self._run} event(s) already received{tail} (ids it sent "
            f"before the reconnection; Last-Event-ID was {self._resumed_from!r}): it does "
            "not honour Last-Event-ID; they are duplicates (use deduplicate_by = "
            "'event_id' to drop them)"
        )
        self._run = 0

    def _finish(self, fresh: str) -> None:
        if self._run:
            self._report_run()
        resumed, new = _as_int(self._resumed_from), _as_int(fresh)
        if resumed is not None and new is not None and new > resumed + 1:
            self.gaps += 1
            self.missing += new - resumed - 1
            self._warn(
                f"gap in event ids after reconnecting: resumed after id {resumed}, the server "
                f"continued at {new} ({new - resumed - 1} id(s) missing); it may not honour "
                "Last-Event-ID"
            )


def _as_int(text: str) -> int | None:
    if text and (text.isdigit() or (text[0] == "-" and text[1:].isdigit())):
        return int(text)
    return None
