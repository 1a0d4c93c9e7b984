"""Rows to people and programs: compact JSON lines, and a live table that stays aligned."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime
from decimal import Decimal

import pytest

from laminar.output import LiveTable, row_json
from laminar.sinks import base as sink_base
from laminar.sinks import stdout as stdout_module


def test_json_lines_are_compact_like_stream_rows() -> None:
    values = [1, '{"k": [1, 2]}', datetime(2026, 1, 2), Decimal("1.5")]
    line = row_json(["a", "j", "t", "d"], values, ["BIGINT", "JSON", "TIMESTAMP", "DECIMAL"])
    assert line == '{"a":1,"j":{"k":[1,2]},"t":"2026-01-02T00:00:00Z","d":1.5}'


def test_live_table_spells_booleans_as_sql_does() -> None:
    out = io.StringIO()
    LiveTable(out, ["column_name", "primary_key"]).write_rows([("id", True), ("v", False)])
    text = out.getvalue()
    assert "true" in text and "false" in text and "True" not in text


def test_live_table_widens_for_later_wider_values_under_a_new_header() -> None:
    out = io.StringIO()
    table = LiveTable(out, ["symbol", "price"])
    table.write_rows([("A", 1)])
    table.write_rows([("ABCDEFGHIJKL", 2)])
    table.write_rows([("B", 3)])
    lines = out.getvalue().splitlines()
    assert [line.startswith("symbol") for line in lines].count(True) == 2
    wide = [line for line in lines if line.startswith(("ABCDEFGHIJKL", "B ", "symbol"))]
    # After the widening, every line puts its separator at the same column.
    assert len({line.index("│") for line in wide[1:]}) == 1


def test_non_finite_floats_are_null_in_json_lines() -> None:
    line = row_json(["a", "b", "c"], [float("nan"), float("inf"), 1.5], ["DOUBLE"] * 3)
    assert line == '{"a":null,"b":null,"c":1.5}'


def test_stdout_writes_big_batches_in_slices_line_for_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sink_base, "LINES_PER_WRITE", 3)
    out = io.StringIO()
    sink = stdout_module.StdoutSink("t", out)
    rows = [f'{{"n":{i}}}' for i in range(10)]
    asyncio.run(sink.write(rows))
    assert out.getvalue() == "".join(f"{row}\n" for row in rows)
    assert sink.rows_written == 10
