"""format = 'text': the event's data, as received, fills the table's text column.

The text column is the first TEXT column that is not an envelope column
(event_name, event_type, event_id, retry_ms) or an error column; text payloads
never fail.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from laminar.formats.layout import DATA, Extracted, Slot
from laminar.sse.event import SSEEvent


def extract(events: Sequence[SSEEvent], datas: list[str], slots: list[Slot]) -> Extracted:
    """The data of every event, as one string column."""
    column = pa.array(datas, pa.string())
    return Extracted({s.index: column for s in slots if s.source == DATA}, {})
