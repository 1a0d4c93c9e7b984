"""format = 'json': fields into typed columns, envelope columns, whole-payload columns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from laminar.formats import Column, FormatOptions, build_row_decoder
from laminar.sse.event import SSEEvent

ARRIVAL_MS = 1_764_320_400_000  # 2025-11-28T09:00:00Z
ARRIVAL = dt.datetime(2025, 11, 28, 9, 0)


def rows(columns: list[tuple[str, str]], events: list[SSEEvent], **opts: object) -> list[dict]:
    decoder = build_row_decoder(
        "t",
        [Column(n, t) for n, t in columns],
        FormatOptions(**opts),  # type: ignore[arg-type]
    )
    result = decoder.decode(events, ARRIVAL_MS)
    assert result.table.schema == decoder.schema
    return result.table.to_pylist()


def ev(data: str, event: str = "message", id: str = "", retry: int | None = None) -> SSEEvent:
    return SSEEvent(event, data, id, retry)


STOCK = [("symbol", "TEXT"), ("price", "DECIMAL"), ("volume", "BIGINT"), ("timestamp", "TIMESTAMP")]


def test_stock_stream_example() -> None:
    data = '{"symbol":"AAPL","price":187.25,"volume":1200,"timestamp":"2026-11-28T09:00:00Z"}'
    assert rows(STOCK, [ev(data, "tick", "1")]) == [
        {
            "symbol": "AAPL",
            "price": Decimal("187.250"),
            "volume": 1200,
            "timestamp": dt.datetime(2026, 11, 28, 9, 0),
        }
    ]


def test_missing_fields_are_null_and_extra_fields_ignored() -> None:
    out = rows([("symbol", "TEXT"), ("price", "DOUBLE")], [ev('{"symbol":"X","other":[1]}')])
    assert out == [{"symbol": "X", "price": None}]


def test_live_events_envelope_and_arrival_fallbacks() -> None:
    """No capture flags: payload fields win, the SSE envelope / arrival time fill gaps."""
    columns = [
        ("event_id", "TEXT"),
        ("event_type", "TEXT"),
        ("timestamp", "TIMESTAMP"),
        ("data", "JSON"),
    ]
    events = [
        ev('{"temp":21.5}', "reading", "41"),
        ev('{"event_type":"own","event_id":7,"timestamp":"2026-01-01T00:00:00+01:00"}', "x", "42"),
    ]
    assert rows(columns, events) == [
        {"event_id": "41", "event_type": "reading", "timestamp": ARRIVAL, "data": '{"temp":21.5}'},
        {
            "event_id": "7",
            "event_type": "own",
            "timestamp": dt.datetime(2025, 12, 31, 23, 0),
            "data": events[1].data,
        },
    ]


def test_typed_events_capture_flags_override_payload() -> None:
    columns = [
        ("event_name", "TEXT"),
        ("event_data", "JSON"),
        ("event_id", "TEXT"),
        ("retry_ms", "INTEGER"),
    ]
    events = [ev('{"event_name":"ignored","n":1}', "update", "9", 5000), ev("{}", "ping", "")]
    out = rows(columns, events, capture_event_name=True, capture_event_id=True, capture_retry=True)
    assert out == [
        {"event_name": "update", "event_data": events[0].data, "event_id": "9", "retry_ms": 5000},
        {"event_name": "ping", "event_data": "{}", "event_id": None, "retry_ms": None},
    ]


def test_whole_payload_column_keeps_the_text_exactly() -> None:
    data = '{\n  "a": 1,\n  "b": [true, null]\n}'  # multi-line data
    assert rows([("payload", "JSON")], [ev(data)]) == [{"payload": data}]


def test_whole_payload_column_takes_its_field_when_present() -> None:
    out = rows([("data", "JSON")], [ev('{"type":"u","data":{"x": 1}}'), ev('{"type":"v"}')])
    assert out == [{"data": '{"x":1}'}, {"data": '{"type":"v"}'}]


def test_whole_payload_accepts_non_objects() -> None:
    out = rows([("data", "JSON"), ("event_id", "TEXT")], [ev("[1, 2]", id="1"), ev("42", id="2")])
    assert out == [{"data": "[1, 2]", "event_id": "1"}, {"data": "42", "event_id": "2"}]


def test_json_field_column_holds_compact_json_text() -> None:
    data = '{"post_id":"p1","metrics":{"likes": 3, "tags": ["a"]},"content":null}'
    out = rows([("post_id", "TEXT"), ("content", "TEXT"), ("metrics", "JSON")], [ev(data)])
    assert out == [{"post_id": "p1", "content": None, "metrics": '{"likes":3,"tags":["a"]}'}]


@pytest.mark.parametrize(
    ("type_", "value", "expected"),
    [
        ("TEXT", '"x"', "x"),
        ("TEXT", "42", "42"),
        ("TEXT", "true", "true"),
        ("TEXT", '{"a":1}', '{"a":1}'),
        ("INTEGER", "3", 3),
        ("INTEGER", "3.0", 3),
        ("INTEGER", '"-12"', -12),
        ("BIGINT", "9007199254740993", 9007199254740993),
        ("SMALLINT", "true", 1),
        ("DOUBLE", "1.5", 1.5),
        ("FLOAT", '"2.25"', 2.25),
        ("REAL", "0.5", 0.5),
        ("DECIMAL(10,2)", "187.256", Decimal("187.26")),
        ("DECIMAL(10,2)", "187.255", Decimal("187.25")),  # the double is 187.2549999…
        ("DECIMAL(10,2)", '"0.125"', Decimal("0.12")),
        ("DECIMAL", "1200", Decimal("1200.000")),
        ("BOOLEAN", "true", True),
        ("BOOLEAN", '"False"', False),
        ("BOOLEAN", "0", False),
        ("TIMESTAMP", '"2026-11-28T09:00:00Z"', dt.datetime(2026, 11, 28, 9)),
        ("TIMESTAMP", '"2026-11-28 09:00:00.5"', dt.datetime(2026, 11, 28, 9, 0, 0, 500000)),
        ("TIMESTAMP", '"2026-11-28T10:00:00+01:00"', dt.datetime(2026, 11, 28, 9)),
        ("TIMESTAMP", '"2026-11-28"', dt.datetime(2026, 11, 28)),
        ("TIMESTAMP", "1764320400", dt.datetime(2025, 11, 28, 9)),  # seconds
        ("TIMESTAMP", "1764320400.25", dt.datetime(2025, 11, 28, 9, 0, 0, 250000)),
        ("TIMESTAMP", "1764320400123", dt.datetime(2025, 11, 28, 9, 0, 0, 123000)),  # ms
        ("TIMESTAMP", "1764320400123456", dt.datetime(2025, 11, 28, 9, 0, 0, 123456)),  # us
        ("TIMESTAMP", "1764320400123456789", dt.datetime(2025, 11, 28, 9, 0, 0, 123457)),  # ns
        ("TIMESTAMP", '"1764320400"', dt.datetime(2025, 11, 28, 9)),
        ("TIMESTAMPTZ", '"2026-11-28T09:00:00Z"', dt.datetime(2026, 11, 28, 9, tzinfo=dt.UTC)),
        ("JSON", "[1, 2]", "[1,2]"),
        ("JSON", '"s"', '"s"'),
        ("INTEGER", "null", None),
    ],
)
def test_conversions(type_: str, value: str, expected: object) -> None:
    for batch in (1, 3):  # alone, and in a batch (fast path when the batch agrees)
        out = rows([("v", type_)], [ev(f'{{"v":{value}}}')] * batch)
        assert out == [{"v": expected}] * batch


@pytest.mark.parametrize(
    ("type_", "value", "reason"),
    [
        ("INTEGER", '"abc"', "cannot convert a string 'abc' to INTEGER"),
        ("INTEGER", "1.5", "not a whole number"),
        ("INTEGER", "3000000000", "out of range"),
        ("SMALLINT", "70000", "out of range"),
        ("DOUBLE", "[1]", "cannot convert an array [1] to DOUBLE"),
        ("DECIMAL(4,2)", "123.4", "too many digits"),
        ("BOOLEAN", '"maybe"', "BOOLEAN"),
        ("TIMESTAMP", '"yesterday"', "ISO-8601"),
        ("TIMESTAMP", "true", "TIMESTAMP"),
    ],
)
def test_unconvertible_values_are_payload_errors(type_: str, value: str, reason: str) -> None:
    decoder = build_row_decoder(
        "t",
        [Column("v", type_), Column("error_message", "TEXT")],
        FormatOptions(capture_errors=True),
    )
    good = ev('{"v":null}')
    result = decoder.decode([good, ev(f'{{"v":{value}}}'), good], ARRIVAL_MS)
    assert result.errors == 1
    messages = result.table.column("error_message").to_pylist()
    assert messages[0] is None and messages[2] is None
    assert messages[1].startswith("column 'v': ")
    assert reason in messages[1]


def test_non_object_payload_is_an_error_when_fields_are_needed() -> None:
    decoder = build_row_decoder("t", [Column("symbol", "TEXT")], FormatOptions())
    result = decoder.decode([ev("[1]"), ev('"s"'), ev('{"symbol":"A"}')], ARRIVAL_MS)
    assert (result.errors, result.dropped) == (2, 2)
    assert result.table.to_pylist() == [{"symbol": "A"}]


def test_big_integers_beyond_64_bits_parse_and_fail_only_their_column() -> None:
    data = '{"n": 123456789012345678901234567890, "s": "ok"}'
    out = rows([("s", "TEXT"), ("n", "DOUBLE"), ("raw", "JSON")], [ev(data)])
    assert out == [{"s": "ok", "n": 1.2345678901234568e29, "raw": data}]


def test_arrival_times_per_event() -> None:
    decoder = build_row_decoder(
        "t",
        [Column("message", "TEXT"), Column("timestamp", "TIMESTAMP")],
        FormatOptions(format="text", add_timestamp=True),
    )
    table = decoder.decode([ev("a"), ev("b")], [0, 1500]).table
    assert table.column("timestamp").to_pylist() == [
        dt.datetime(1970, 1, 1),
        dt.datetime(1970, 1, 1, 0, 0, 1, 500000),
    ]


def test_add_timestamp_in_json_always_holds_the_arrival_time() -> None:
    out = rows(
        [("timestamp", "TIMESTAMP"), ("v", "INTEGER")],
        [ev('{"timestamp":"2020-01-01T00:00:00Z","v":1}')],
        add_timestamp=True,
    )
    assert out == [{"timestamp": ARRIVAL, "v": 1}]


def test_empty_batch() -> None:
    decoder = build_row_decoder("t", [Column(n, t) for n, t in STOCK], FormatOptions())
    result = decoder.decode([], [])
    assert result.table.num_rows == 0 and result.table.schema == decoder.schema
