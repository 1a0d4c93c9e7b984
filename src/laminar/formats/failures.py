"""What happens to payloads that fail to parse or convert (one policy, three outcomes).

* ``continue_on_error = false``: the first bad payload of the batch raises
  :class:`~laminar.errors.PayloadError` naming the table, the event id and the
  reason. The error carries the rows of the events before it (``rows_before``),
  which the source delivers and commits before the query stops, so the output
  does not depend on how events were batched. This holds even when
  ``capture_errors = true``.
* ``capture_errors = true``: each bad payload becomes a row whose
  ``error_message`` holds the reason and ``error_timestamp`` the arrival time.
  Columns filled from the payload are NULL, except the payload column (a
  whole-payload JSON/TEXT column, or the text column) which keeps the raw data:
  as text in a TEXT column, as a JSON string in a JSON column (so the column
  always holds valid JSON). Envelope columns (event type, id, retry) and the
  arrival-time column keep their values.
* otherwise the bad payloads are dropped and counted (``DecodeResult.dropped``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from laminar import arrow_compute as pc
from laminar.errors import PayloadError
from laminar.formats import columns as c
from laminar.formats.codec import dumps
from laminar.formats.converters import convert
from laminar.formats.envelope import DecodeResult, TableLayout, envelope_values
from laminar.formats.layout import (
    ARRIVAL,
    DATA,
    ENVELOPE,
    ERROR_MESSAGE,
    ERROR_TIMESTAMP,
    WHOLE,
)
from laminar.sse.event import SSEEvent


def payload_error(table: str, event: SSEEvent, row: int, reason: str) -> PayloadError:
    who = f"event id '{event.id}'" if event.id else f"event #{row + 1} of the batch (no id)"
    return PayloadError(
        f"table '{table}': {who} (type '{event.event}'): {reason} "
        "(set continue_on_error = true to skip bad events, or capture_errors = true "
        "to keep them as rows with error_message)"
    )


def apply(
    decoder: TableLayout,
    table: pa.Table,
    events: Sequence[SSEEvent],
    datas: list[str],
    arrival: pa.Array,
    errors: dict[int, str],
) -> DecodeResult:
    options = decoder.options
    if not options.continue_on_error:
        row = min(errors)
        error = payload_error(decoder.table_name, events[row], row, errors[row])
        error.event_index, error.rows_before = row, table.slice(0, row)
        raise error
    n = len(events)
    bad = [row in errors for row in range(n)]
    if not options.capture_errors:
        kept = pc.filter(table, pa.array([not b for b in bad]))
        reasons = tuple(errors[row] for row in sorted(errors))
        return DecodeResult(kept, len(errors), len(errors), reasons)
    mask = pa.array(bad)
    raw_slot = next((s for s in decoder.slots if s.source in (WHOLE, DATA)), None)
    arrays = []
    for slot, current in zip(decoder.slots, table.columns, strict=True):
        spec = slot.spec
        if slot.source == ERROR_MESSAGE:
            arrays.append(pa.array([errors.get(row) for row in range(n)], spec.arrow))
        elif slot.source == ERROR_TIMESTAMP:
            arrays.append(pc.if_else(mask, pc.cast(arrival, spec.arrow), pa.nulls(n, spec.arrow)))
        elif slot.source == ARRIVAL or slot.fallback == ARRIVAL:
            arrays.append(pc.if_else(mask, pc.cast(arrival, spec.arrow), current))
        elif slot.source == ENVELOPE or slot.fallback == ENVELOPE:
            given, _ = convert(envelope_values(events, slot.envelope or "event"), spec)
            arrays.append(pc.if_else(mask, given, current))
        elif slot is raw_slot:
            kept = [
                (dumps(datas[row]) if spec.kind == c.JSON else datas[row]) if bad[row] else None
                for row in range(n)
            ]
            arrays.append(pc.if_else(mask, pa.array(kept, spec.arrow), current))
        else:
            arrays.append(pc.if_else(mask, pa.nulls(n, spec.arrow), current))
    captured = pa.Table.from_arrays(arrays, schema=decoder.schema)
    return DecodeResult(captured, len(errors), 0)
