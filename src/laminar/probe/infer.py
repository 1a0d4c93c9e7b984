"""Schema inference from sample JSON payloads: pure functions, no I/O.

``infer_columns(payloads)`` looks at the top-level fields of JSON objects and
gives each a Laminar type:

    true/false                        BOOLEAN
    integers                          BIGINT
    numbers with a fraction (or both) DOUBLE
    ISO-8601 text                     TIMESTAMP
    epoch numbers in a time-named field (seconds, ms, µs)   TIMESTAMP
    objects and arrays                JSON (nested values stay whole)
    other text                        TEXT
    values of several kinds           JSON (no value is lost)
    only nulls                        TEXT

Fields keep the order in which they were first seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

BOOLEAN, BIGINT, DOUBLE, TIMESTAMP, JSON, TEXT = (
    "BOOLEAN", "BIGINT", "DOUBLE", "TIMESTAMP", "JSON", "TEXT"
)
_TIME_WORDS = ("time", "timestamp", "ts", "date", "created", "updated", "at", "when", "epoch")
# Plausible epochs (2001 to 2096) in seconds, milliseconds or microseconds.
_EPOCH_RANGES = ((1e9, 4e9), (1e12, 4e12), (1e15, 4e15))


@dataclass(frozen=True)
class InferredColumn:
    name: str
    type: str
    nullable: bool
    example: Any


def infer_columns(payloads: Iterable[Any]) -> list[InferredColumn]:
    """One column per top-level field of the object payloads (see the module docstring)."""
    kinds: dict[str, set[str]] = {}
    examples: dict[str, Any] = {}
    seen = 0
    present: dict[str, int] = {}
    for payload in payloads:
        if not isinstance(payload, dict):
            continue
        seen += 1
        for name, value in payload.items():
            kinds.setdefault(name, set())
            present[name] = present.get(name, 0) + 1
            if value is None:
                continue
            kinds[name].add(value_kind(name, value))
            examples.setdefault(name, value)
    return [
        InferredColumn(name, merge(found), present[name] < seen or not found, examples.get(name))
        for name, found in kinds.items()
    ]


def value_kind(name: str, value: Any) -> str:
    """The type of one value of field ``name``."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, (int, float)):
        if _time_named(name) and _epoch_like(value):
            return TIMESTAMP
        return BIGINT if isinstance(value, int) else DOUBLE
    if isinstance(value, str):
        return TIMESTAMP if is_iso_time(value) else TEXT
    return JSON  # dict or list


def merge(kinds: set[str]) -> str:
    if not kinds:
        return TEXT
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds == {BIGINT, DOUBLE}:
        return DOUBLE
    if kinds <= {BIGINT, DOUBLE, TIMESTAMP} and TIMESTAMP in kinds:
        return DOUBLE  # a time-named number that is sometimes not an epoch
    return JSON


def is_iso_time(text: str) -> bool:
    """ISO-8601 date-times ("2024-01-02T03:04:05Z", with or without offset or fraction)."""
    if len(text) < 16 or not text[:4].isdigit() or text[4] != "-" or text[10] not in "T ":
        return False
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


def _time_named(name: str) -> bool:
    words = name.lower().replace("-", "_").split("_")
    lowered = name.lower()
    return any(w in _TIME_WORDS for w in words) or lowered.endswith(("time", "timestamp", "ts"))


def _epoch_like(value: float) -> bool:
    return any(low <= abs(value) < high for low, high in _EPOCH_RANGES)
