"""De-duplication within a time window: drop an event whose key was seen in the last window_ms.

Memory is bounded by the window: keys are kept in arrival order and those
older than the window are evicted as time moves on.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence


class WindowDeduplicator:
    """Remembers keys for ``window_ms`` after they were last seen."""

    def __init__(self, window_ms: int) -> None:
        if window_ms <= 0:
            raise ValueError("window_ms must be positive")
        self.window_ms = window_ms
        self._seen: OrderedDict[Hashable, int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def keep_mask(self, keys: Sequence[Hashable | None], arrival_ms: Sequence[int]) -> list[bool]:
        """For each key, whether its event is new (True) or a duplicate (False).

        A None key (no value to compare) is always kept. A duplicate does not
        extend its key's window: the window counts from the first sighting.
        """
        seen = self._seen
        mask: list[bool] = []
        append = mask.append
        for key, now in zip(keys, arrival_ms, strict=True):
            if key is None:
                append(True)
                continue
            first = seen.get(key)
            if first is not None and now - first < self.window_ms:
                append(False)
                continue
            if first is not None:
                del seen[key]
            seen[key] = now
            append(True)
        if arrival_ms:
            self.evict(arrival_ms[-1])
        return mask

    def evict(self, now_ms: int) -> None:
        """Forget keys first seen a full window before ``now_ms``."""
        seen = self._seen
        horizon = now_ms - self.window_ms
        while seen:
            key, first = next(iter(seen.items()))
            if first > horizon:
                break
            del seen[key]

    def snapshot(self) -> list[tuple[Hashable, int]]:
        """The remembered keys with their first-seen times (for checkpoints)."""
        return list(self._seen.items())

    def restore(self, entries: Sequence[tuple[Hashable, int]]) -> None:
        self._seen = OrderedDict(sorted(entries, key=lambda e: e[1]))
