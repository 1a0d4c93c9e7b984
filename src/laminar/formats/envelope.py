"""What every format shares: the result of decoding a batch, and the SSE envelope.

Kept apart from ``decoder`` (which drives the formats) and ``failures`` (which
handles bad payloads) so that both can use it without importing each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Protocol

import pyarrow as pa

from laminar.formats.layout import Slot
from laminar.formats.options import FormatOptions
from laminar.sse.event import SSEEvent

_GETTERS = {name: attrgetter(name) for name in ("event", "id", "retry", "data")}


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """One decoded micro-batch: the rows, and how many payloads failed / were dropped."""

    table: pa.Table
    errors: int
    dropped: int
    dropped_reasons: tuple[str, ...] = ()  # why each dropped payload failed, in row order


class TableLayout(Protocol):
    """What the failure policy reads of a row decoder: its table, options and columns."""

    @property
    def table_name(self) -> str: ...
    @property
    def options(self) -> FormatOptions: ...
    @property
    def slots(self) -> list[Slot]: ...
    @property
    def schema(self) -> pa.Schema: ...


def envelope_values(events: Sequence[SSEEvent], attr: str) -> list[Any]:
    """The SSE event type, last event id ("" -> None) or retry of every event."""
    values = list(map(_GETTERS[attr], events))
    if attr == "id" and "" in values:
        values = [v or None for v in values]
    return values
