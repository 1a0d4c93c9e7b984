"""Partitions: split a batch by a stable hash of a key, keeping each key's order.

crc32 rather than hash(): the same key lands in the same partition in every
process (Python's str hash is salted per process).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence


def partition_of(key: object, partitions: int) -> int:
    """The partition (0 … partitions-1) of one key; None goes to partition 0."""
    if key is None:
        return 0
    data = key if isinstance(key, bytes) else str(key).encode("utf-8", "surrogatepass")
    return zlib.crc32(data) % partitions


def partition_indices(keys: Sequence[object], partitions: int) -> list[list[int]]:
    """Row indices of each partition, in their original order."""
    buckets: list[list[int]] = [[] for _ in range(partitions)]
    if partitions == 1:
        buckets[0] = list(range(len(keys)))
        return buckets
    cache: dict[object, int] = {}
    for index, key in enumerate(keys):
        part = cache.get(key)
        if part is None:
            part = cache[key] = partition_of(key, partitions)
        buckets[part].append(index)
    return buckets
