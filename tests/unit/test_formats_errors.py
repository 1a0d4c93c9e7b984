"""Bad payloads: capture_errors rows, continue_on_error = false, dropping and counting."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from laminar.errors import PayloadError
from laminar.formats import Column, FormatOptions, build_row_decoder
from laminar.sse.event import SSEEvent

ARRIVAL_MS = 1_764_320_400_000
ARRIVAL = dt.datetime(2025, 11, 28, 9, 0)
SSE_WITH_ERRORS = [
    Column("data", "JSON"),
    Column("error_message", "TEXT"),
    Column("error_timestamp", "TIMESTAMP"),
]
BATCH = [
    SSEEvent("message", '{"ok":1}', "1"),
    SSEEvent("message", "{broken", "2"),
    SSEEvent("message", '{"ok":3}', "3"),
]


def test_sse_with_errors_example_captures_bad_payloads() -> None:
    dec = build_row_decoder(
        "sse_with_errors",
        SSE_WITH_ERRORS,
        FormatOptions(capture_errors=True, continue_on_error=True),
    )
    result = dec.decode(BATCH, [ARRIVAL_MS - 1000, ARRIVAL_MS, ARRIVAL_MS + 1000])
    assert (result.errors, result.dropped) == (1, 0)
    out = result.table.to_pylist()
    assert out[0] == {"data": '{"ok":1}', "error_message": None, "error_timestamp": None}
    assert out[2]["data"] == '{"ok":3}'
    bad = out[1]
    assert json.loads(bad["data"]) == "{broken"  # raw data kept, as a JSON string
    assert bad["error_message"].startswith("invalid JSON")
    assert "'{broken'" in bad["error_message"]
    assert bad["error_timestamp"] == ARRIVAL


def test_captured_error_rows_keep_envelope_columns_and_null_payload_columns() -> None:
    columns = [
        Column("event_id", "TEXT"),
        Column("price", "DOUBLE"),
        Column("raw", "TEXT"),
        Column("timestamp", "TIMESTAMP"),
        Column("error_message", "TEXT"),
    ]
    dec = build_row_decoder("t", columns, FormatOptions(capture_errors=True))
    out = dec.decode([SSEEvent("tick", '{"price":"high"}', "e7")], ARRIVAL_MS).table.to_pylist()
    assert out == [
        {
            "event_id": "e7",
            "price": None,
            "raw": '{"price":"high"}',
            "timestamp": ARRIVAL,
            "error_message": "column 'price': cannot convert a string 'high' to DOUBLE",
        }
    ]


def test_continue_on_error_false_raises_naming_table_event_and_reason() -> None:
    dec = build_row_decoder(
        "live", [Column("data", "JSON")], FormatOptions(continue_on_error=False)
    )
    with pytest.raises(PayloadError) as info:
        dec.decode(BATCH, ARRIVAL_MS)
    message = str(info.value)
    assert "table 'live'" in message and "event id '2'" in message
    assert "invalid JSON" in message and "continue_on_error" in message


def test_continue_on_error_false_wins_over_capture_errors() -> None:
    dec = build_row_decoder(
        "t", SSE_WITH_ERRORS, FormatOptions(capture_errors=True, continue_on_error=False)
    )
    with pytest.raises(PayloadError):
        dec.decode(BATCH, ARRIVAL_MS)


def test_event_without_id_is_named_by_position() -> None:
    dec = build_row_decoder("t", [Column("n", "INTEGER")], FormatOptions(continue_on_error=False))
    with pytest.raises(PayloadError, match=r"event #2 of the batch \(no id\)"):
        dec.decode([SSEEvent("m", '{"n":1}'), SSEEvent("m", '{"n":"x"}')], ARRIVAL_MS)


def test_default_drops_and_counts_bad_payloads() -> None:
    dec = build_row_decoder("t", [Column("data", "JSON")], FormatOptions())
    result = dec.decode(BATCH, ARRIVAL_MS)
    assert (result.errors, result.dropped) == (1, 1)
    assert result.table.column("data").to_pylist() == ['{"ok":1}', '{"ok":3}']


def test_empty_and_whitespace_payloads_are_errors() -> None:
    dec = build_row_decoder("t", [Column("data", "JSON")], FormatOptions())
    result = dec.decode([SSEEvent("m", ""), SSEEvent("m", "\n")], ARRIVAL_MS)
    assert (result.errors, result.table.num_rows) == (2, 0)


def test_nan_is_not_json() -> None:
    dec = build_row_decoder("t", [Column("x", "DOUBLE")], FormatOptions())
    assert dec.decode([SSEEvent("m", '{"x": NaN}')], ARRIVAL_MS).errors == 1
