"""Say so when events are dropped: one warning per kind of drop, then a summary now and then.

Bad payloads are dropped and counted by default, which is right for a noisy feed
and wrong for a table whose types do not fit the feed at all: that table prints
nothing. ``DropReporter`` warns the first time each kind of reason is seen (with
the reason and what to do) and after that at most one summary per interval, so
a feed that is all bad costs one line per interval, not one per event.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

SUMMARY_INTERVAL_S = 60.0


def reason_kind(reason: str) -> str:
    """What a drop reason is about, without its values: one warning per kind."""
    head, _, rest = reason.partition(": ")
    if head.startswith("column "):  # column 'x': cannot convert a string 'abc' to INTEGER
        return f"{head}: {' '.join(rest.split()[:4])}"
    return head.split(" (")[0]  # invalid JSON (why): 'excerpt' -> invalid JSON


class DropReporter:
    """Warns on the first drop of each kind of reason, then summarises at most every
    ``interval_s`` seconds of ``clock`` (and once more at ``close``)."""

    def __init__(
        self,
        table: str,
        warn: Callable[[str], None],
        *,
        interval_s: float = SUMMARY_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.table = table
        self._warn = warn
        self._interval_s = interval_s
        self._clock = clock
        self._kinds: set[str] = set()
        self._pending = 0  # drops since the last line printed
        self._total = 0
        self._last_at = clock()
        self._lock = threading.Lock()  # batches are decoded in worker threads

    def dropped(self, reasons: Iterable[str]) -> None:
        lines = []
        with self._lock:
            for reason in reasons:
                self._total += 1
                kind = reason_kind(reason)
                if kind in self._kinds:
                    self._pending += 1
                    continue
                self._kinds.add(kind)
                lines.append(
                    f"dropped a bad event: {reason}. Bad events are dropped and counted by "
                    "default: set capture_errors = true (with an error_message TEXT column) "
                    "to keep them as rows, or continue_on_error = false to stop on them; "
                    "counts are in system.connector_status (parse_errors, events_dropped)"
                )
            now = self._clock()
            if self._pending and now - self._last_at >= self._interval_s:
                lines.append(self._summary(now))
            elif lines:
                self._last_at = now
        for line in lines:
            self._warn(line)

    def close(self) -> None:
        """The last summary, if drops happened since the last line."""
        with self._lock:
            line = self._summary(self._clock()) if self._pending else None
        if line is not None:
            self._warn(line)

    def _summary(self, now: float) -> str:
        line = (
            f"dropped {self._pending} more bad event{'s' if self._pending != 1 else ''} "
            f"({self._total} in all; kinds: {'; '.join(sorted(self._kinds))})"
        )
        self._pending, self._last_at = 0, now
        return line
