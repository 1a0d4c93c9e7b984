"""Batches of SSE events -> one Arrow table with the table's typed columns.

``build_row_decoder(table, columns, options)`` checks the columns against the
options once (raising :class:`~laminar.errors.ConfigError`) and returns a
:class:`RowDecoder`. ``RowDecoder.decode(events, arrival_ms)`` is called once
per micro-batch; it touches each event in Python only to read its fields, and
does the parsing and conversion per column, in native code where it can.
Payloads that fail are handled by :mod:`laminar.formats.failures`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pyarrow as pa

from laminar import arrow_compute as pc
from laminar.formats import columns as c
from laminar.formats import custom, failures, json, text
from laminar.formats.converters import convert
from laminar.formats.envelope import DecodeResult, envelope_values
from laminar.formats.layout import (
    ARRIVAL,
    ENVELOPE,
    MISSING,
    Extracted,
    Slot,
    plan_columns,
)
from laminar.formats.options import FormatOptions
from laminar.sse.event import SSEEvent

_PAYLOAD_SOURCES = frozenset({"field", "whole", "data", "group"})


def arrival_array(arrival_ms: Sequence[int] | int, n: int) -> pa.Array:
    """Arrival times (epoch ms, one or one per event) as microseconds, int64."""
    if isinstance(arrival_ms, int):
        return pa.array([arrival_ms * 1000] * n, pa.int64())
    if len(arrival_ms) != n:
        raise ValueError(f"arrival_ms has {len(arrival_ms)} values for {n} events")
    return pc.multiply(pa.array(arrival_ms, pa.int64()), 1000)


class _Arrival:
    """The batch's arrival times, computed on first use."""

    __slots__ = ("_micros", "_ms", "_n")

    def __init__(self, arrival_ms: Sequence[int] | int, n: int) -> None:
        self._ms, self._n, self._micros = arrival_ms, n, None

    @property
    def micros(self) -> pa.Array:
        if self._micros is None:
            self._micros = arrival_array(self._ms, self._n)
        return self._micros


class RowDecoder:
    """Decodes micro-batches of one table; build it with :func:`build_row_decoder`."""

    def __init__(
        self,
        table_name: str,
        slots: list[Slot],
        options: FormatOptions,
        regex: re.Pattern[str] | None,
    ) -> None:
        self.table_name = table_name
        self.options = options
        self.slots = slots
        self._regex = regex
        self.schema = pa.schema([c.arrow_field(s.column, s.spec) for s in slots])
        self._fast = True  # tests turn it off to check both paths agree
        self._fields = json.field_decoder(slots) if options.format == "json" else None

    def __repr__(self) -> str:
        return f"RowDecoder(table={self.table_name!r}, format={self.options.format!r})"

    def _extract(self, events: Sequence[SSEEvent], datas: list[str]) -> Extracted:
        fmt = self.options.format
        if fmt == "json":
            return json.extract(events, datas, self.slots, self._fields if self._fast else None)
        if fmt == "text":
            return text.extract(events, datas, self.slots)
        assert self._regex is not None
        return custom.extract(events, datas, self.slots, self._regex)

    def decode(
        self,
        events: Sequence[SSEEvent],
        arrival_ms: Sequence[int] | int,
        bad: Mapping[int, str] | None = None,
    ) -> DecodeResult:
        """Decode one batch; ``arrival_ms`` is one epoch-ms time or one per event.

        ``bad`` marks events known to be bad already (row -> reason, e.g. an event that
        outgrew max_event_size): they follow the same failure policy as a bad payload.
        """
        n = len(events)
        datas = envelope_values(events, "data")
        extracted = self._extract(events, datas)
        errors = extracted.errors
        if bad:
            errors.update(bad)
        arrival = _Arrival(arrival_ms, n)
        arrays: list[pa.Array] = []
        for slot in self.slots:
            arrays.append(self._column(slot, events, extracted, arrival, errors))
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        if not errors:
            return DecodeResult(table, 0, 0)
        return failures.apply(self, table, events, datas, arrival.micros, errors)

    def _column(
        self,
        slot: Slot,
        events: Sequence[SSEEvent],
        extracted: Extracted,
        arrival: _Arrival,
        errors: dict[int, str],
    ) -> pa.Array:
        spec = slot.spec
        if slot.source in _PAYLOAD_SOURCES:
            values = extracted.values[slot.index]
            if not isinstance(values, pa.Array):
                if slot.fallback == ENVELOPE:
                    given = envelope_values(events, slot.envelope or "event")
                    values = [g if v is MISSING else v for v, g in zip(values, given, strict=True)]
                values = self._convert(slot, values, errors)
            if slot.fallback == ARRIVAL and values.null_count:
                values = pc.coalesce(values, pc.cast(arrival.micros, spec.arrow))
            return values
        if slot.source == ENVELOPE:
            return self._convert(slot, envelope_values(events, slot.envelope or "event"), errors)
        if slot.source == ARRIVAL:
            return pc.cast(arrival.micros, spec.arrow)
        # NULL, and the error columns (filled by failures.apply)
        return pa.nulls(len(events), spec.arrow)

    def _convert(self, slot: Slot, values: list, errors: dict[int, str]) -> pa.Array:
        array, bad = convert(values, slot.spec, fast=self._fast)
        for row, reason in bad.items():
            errors.setdefault(row, f"column '{slot.column.name}': {reason}")
        return array


def build_row_decoder(
    table_name: str, columns: Sequence[c.Column], options: FormatOptions | None = None
) -> RowDecoder:
    """Check ``columns`` against ``options`` and return the table's :class:`RowDecoder`."""
    options = options or FormatOptions()
    slots, regex = plan_columns(table_name, list(columns), options)
    return RowDecoder(table_name, slots, options, regex)


__all__ = ["DecodeResult", "RowDecoder", "build_row_decoder"]
