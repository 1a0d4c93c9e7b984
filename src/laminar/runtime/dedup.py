"""De-duplication within a time window: drop an event whose key was seen in the last window_ms.

Memory is bounded by the window: keys are kept in arrival order and those
older than the window are evicted as time moves on.

Every remembered key also carries the sequence number of the batch that
recorded it, so a checkpoint can save the state *as of a given batch*
(``snapshot(upto=mark)``) even when later batches have been processed since:
a committed checkpoint never remembers keys of events it does not cover
(which, after a restart, would drop those events as duplicates: a loss).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence


class WindowDeduplicator:
    """Remembers keys for ``window_ms`` after they were first seen."""

    def __init__(self, window_ms: int) -> None:
        if window_ms <= 0:
            raise ValueError("window_ms must be positive")
        self.window_ms = window_ms
        self.mark = 0  # sequence number of the last keep_mask() call
        self._seen: OrderedDict[Hashable, tuple[int, int]] = OrderedDict()  # key -> (ms, mark)
        # Batches are de-duplicated in a worker thread while a checkpoint may snapshot.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def keep_mask(self, keys: Sequence[Hashable | None], arrival_ms: Sequence[int]) -> list[bool]:
        """For each key, whether its event is new (True) or a duplicate (False).

        A None key (no value to compare) is always kept. A duplicate does not
        extend its key's window: the window counts from the first sighting.
        """
        with self._lock:
            self.mark += 1
            mark = self.mark
            seen = self._seen
            mask: list[bool] = []
            append = mask.append
            for key, now in zip(keys, arrival_ms, strict=True):
                if key is None:
                    append(True)
                    continue
                first = seen.get(key)
                if first is not None and now - first[0] < self.window_ms:
                    append(False)
                    continue
                if first is not None:
                    del seen[key]
                seen[key] = (now, mark)
                append(True)
            if arrival_ms:
                self._evict(arrival_ms[-1])
        return mask

    def _evict(self, now_ms: int) -> None:
        """Forget keys first seen a full window before ``now_ms`` (the lock is held)."""
        seen = self._seen
        horizon = now_ms - self.window_ms
        while seen:
            key, (first, _) = next(iter(seen.items()))
            if first > horizon:
                break
            del seen[key]

    def snapshot(self, upto: int | None = None) -> list[tuple[Hashable, int]]:
        """The remembered keys with their first-seen times, as of mark ``upto`` (default: now).

        Keys recorded after ``upto`` are left out; keys that later batches evicted or
        re-recorded are missing too, which at worst lets a duplicate through after a
        restart — never drops an event the checkpoint does not cover.
        """
        with self._lock:
            items = list(self._seen.items())
        if upto is None:
            return [(key, ms) for key, (ms, _) in items]
        return [(key, ms) for key, (ms, mark) in items if mark <= upto]

    def restore(self, entries: Sequence[tuple[Hashable, int]]) -> None:
        ordered = OrderedDict((k, (ms, 0)) for k, ms in sorted(entries, key=lambda e: e[1]))
        with self._lock:
            self._seen = ordered
