"""Batches of SSE events -> one Arrow table with the table's typed columns.

``build_row_decoder(table, columns, options)`` checks the columns against the
options once (raising :class:`~laminar.errors.ConfigError`) and returns a
:class:`RowDecoder`. ``RowDecoder.decode(events, arrival_ms)`` is called once
per micro-batch; it touches each event in Python only to read its fields, and
does the parsing and conversion per column, in native code where it can.
Payloads that fail are handled by :mod:`laminar.formats.failures`.

With ``use_sql = True`` (off by default: today's SQL is slower than the
Python path, see benchmarks/formats_bench.py), format = 'json' batches of at
least ``sql_min_rows`` events go through :mod:`laminar.formats.json_sql` first
(one DuckDB query, GIL released); the rows it cannot prove exact are decoded by
the Python path and spliced back in order, so the result is the Python path's,
row for row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

import pyarrow as pa
import pyarrow.compute as pc

from laminar.formats import columns as c
from laminar.formats import custom, failures, json, json_sql, text
from laminar.formats.converters import convert
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

_GETTERS = {name: attrgetter(name) for name in ("event", "id", "retry", "data")}
_PAYLOAD_SOURCES = frozenset({"field", "whole", "data", "group"})
USE_SQL = False  # the default of RowDecoder.use_sql
SQL_MIN_ROWS = 64  # below this a DuckDB query costs more than it saves


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """One decoded micro-batch: the rows, and how many payloads failed / were dropped."""

    table: pa.Table
    errors: int
    dropped: int


def envelope_values(events: Sequence[SSEEvent], attr: str) -> list:
    """The SSE event type, last event id ("" -> None) or retry of every event."""
    values = list(map(_GETTERS[attr], events))
    if attr == "id" and "" in values:
        values = [v or None for v in values]
    return values


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

    def __init__(
        self, arrival_ms: Sequence[int] | int, n: int, micros: pa.Array | None = None
    ) -> None:
        self._ms, self._n, self._micros = arrival_ms, n, micros

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
        self.use_sql = USE_SQL  # False forces the Python path (tests compare the two)
        self.sql_min_rows = SQL_MIN_ROWS
        self._sql = json_sql.plan(slots) if options.format == "json" else None

    def __repr__(self) -> str:
        return f"RowDecoder(table={self.table_name!r}, format={self.options.format!r})"

    def _extract(self, events: Sequence[SSEEvent], datas: list[str]) -> Extracted:
        fmt = self.options.format
        if fmt == "json":
            return json.extract(events, datas, self.slots)
        if fmt == "text":
            return text.extract(events, datas, self.slots)
        assert self._regex is not None
        return custom.extract(events, datas, self.slots, self._regex)

    def decode(self, events: Sequence[SSEEvent], arrival_ms: Sequence[int] | int) -> DecodeResult:
        """Decode one batch; ``arrival_ms`` is one epoch-ms time or one per event."""
        n = len(events)
        datas = list(map(_GETTERS["data"], events))
        arrival = _Arrival(arrival_ms, n)
        table = None
        if self._sql is not None and self.use_sql and self._fast and n >= self.sql_min_rows:
            table, errors = self._rows_sql(events, datas, arrival)
        if table is None:
            table, errors = self._rows(events, datas, arrival)
        if not errors:
            return DecodeResult(table, 0, 0)
        return failures.apply(self, table, events, datas, arrival.micros, errors)

    def _rows(
        self, events: Sequence[SSEEvent], datas: list[str], arrival: _Arrival
    ) -> tuple[pa.Table, dict[int, str]]:
        """The Python path: every row of the batch, and the reasons of the bad ones."""
        extracted = self._extract(events, datas)
        errors = extracted.errors
        arrays = [self._column(s, events, extracted, arrival, errors) for s in self.slots]
        return pa.Table.from_arrays(arrays, schema=self.schema), errors

    def _rows_sql(
        self, events: Sequence[SSEEvent], datas: list[str], arrival: _Arrival
    ) -> tuple[pa.Table | None, dict[int, str]]:
        """The DuckDB path, with the Python path for the rows it declines."""
        assert self._sql is not None
        batch = self._sql.run(datas)
        if batch is None:
            return None, {}
        n = len(events)
        clean = batch.clean
        values: dict[int, list | pa.Array] = {}
        for slot in self.slots:
            if slot.index not in batch.values:
                continue
            array = batch.values[slot.index]
            if array.type != slot.spec.arrow:
                array = array.cast(slot.spec.arrow)
            if slot.index in batch.missing:
                given, bad = convert(envelope_values(events, slot.envelope or "event"), slot.spec)
                missing = batch.missing[slot.index]
                array = pc.if_else(missing, given, array)
                if bad:
                    unusable = pa.array([row in bad for row in range(n)])
                    clean = pc.and_(clean, pc.invert(pc.and_(missing, unusable)))
            values[slot.index] = array
        extracted = Extracted(values, {})
        other: dict[int, str] = {}  # envelope columns that do not convert
        arrays = [self._column(s, events, extracted, arrival, other) for s in self.slots]
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        if other:
            clean = pc.and_(clean, pa.array([row not in other for row in range(n)]))
        if clean.false_count == 0 and clean.null_count == 0:
            return table, {}
        return self._splice(table, clean, events, datas, arrival)

    def _splice(
        self,
        table: pa.Table,
        clean: pa.Array,
        events: Sequence[SSEEvent],
        datas: list[str],
        arrival: _Arrival,
    ) -> tuple[pa.Table, dict[int, str]]:
        """Rows that are not clean, decoded by the Python path, put back in their places."""
        flags = clean.fill_null(False).to_pylist()
        redo = [row for row, ok in enumerate(flags) if not ok]
        sub_events = [events[row] for row in redo]
        sub_datas = [datas[row] for row in redo]
        sub_arrival = _Arrival(0, len(redo), arrival.micros.take(pa.array(redo, pa.int64())))
        redone, sub_errors = self._rows(sub_events, sub_datas, sub_arrival)
        kept = [row for row, ok in enumerate(flags) if ok]
        merged = pa.concat_tables([table.take(pa.array(kept, pa.int64())), redone])
        place = [0] * len(flags)
        for position, row in enumerate(kept + redo):
            place[row] = position
        errors = {redo[row]: reason for row, reason in sub_errors.items()}
        return merged.take(pa.array(place, pa.int64())), errors

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
                values = pc.coalesce(values, arrival.micros.cast(spec.arrow))
            return values
        if slot.source == ENVELOPE:
            return self._convert(slot, envelope_values(events, slot.envelope or "event"), errors)
        if slot.source == ARRIVAL:
            return arrival.micros.cast(spec.arrow)
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
