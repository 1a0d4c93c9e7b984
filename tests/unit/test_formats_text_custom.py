"""format = 'text' and format = 'custom' (parser_regex)."""

from __future__ import annotations

import datetime as dt

from laminar.formats import Column, FormatOptions, build_row_decoder
from laminar.sse.event import SSEEvent

ARRIVAL_MS = 1_764_320_400_000
ARRIVAL = dt.datetime(2025, 11, 28, 9, 0)
SEED_REGEX = r"^id:(\S+) value:(\d+\.?\d*) meta:(.*)$"


def decoder(columns: list[tuple[str, str]], **opts: object):
    return build_row_decoder(
        "t",
        [Column(n, t) for n, t in columns],
        FormatOptions(**opts),  # type: ignore[arg-type]
    )


def test_text_events_example() -> None:
    dec = decoder(
        [("message", "TEXT"), ("timestamp", "TIMESTAMP")], format="text", add_timestamp=True
    )
    events = [SSEEvent("message", "hello"), SSEEvent("message", "line 1\nline 2")]
    assert dec.decode(events, ARRIVAL_MS).table.to_pylist() == [
        {"message": "hello", "timestamp": ARRIVAL},
        {"message": "line 1\nline 2", "timestamp": ARRIVAL},
    ]


def test_text_envelope_columns_and_leftovers() -> None:
    dec = decoder(
        [("event_type", "TEXT"), ("line", "TEXT"), ("event_id", "BIGINT"), ("extra", "INTEGER")],
        format="text",
    )
    out = dec.decode([SSEEvent("log", "{not json}", "17", 300)], ARRIVAL_MS).table.to_pylist()
    assert out == [{"event_type": "log", "line": "{not json}", "event_id": 17, "extra": None}]


def test_parsed_events_example() -> None:
    dec = decoder(
        [("id", "TEXT"), ("value", "FLOAT"), ("metadata", "JSON")],
        format="custom",
        parser_regex=SEED_REGEX,
    )
    events = [
        SSEEvent("message", 'id:a1 value:42.5 meta:{"unit": "C"}'),
        SSEEvent("message", "id:a2 value:7 meta:null"),
    ]
    result = dec.decode(events, ARRIVAL_MS)
    assert result.errors == 0
    assert result.table.to_pylist() == [
        {"id": "a1", "value": 42.5, "metadata": '{"unit": "C"}'},
        {"id": "a2", "value": 7.0, "metadata": "null"},
    ]


def test_custom_non_matching_payload_is_an_error() -> None:
    dec = decoder(
        [("id", "TEXT"), ("value", "FLOAT"), ("metadata", "JSON"), ("error_message", "TEXT")],
        format="custom",
        parser_regex=SEED_REGEX,
        capture_errors=True,
    )
    result = dec.decode([SSEEvent("message", "garbage")], ARRIVAL_MS)
    assert result.errors == 1
    [row] = result.table.to_pylist()
    assert row["id"] is None and row["value"] is None
    assert row["error_message"] == "payload does not match parser_regex: 'garbage'"


def test_custom_json_group_must_be_valid_json() -> None:
    dec = decoder(
        [("id", "TEXT"), ("value", "FLOAT"), ("metadata", "JSON")],
        format="custom",
        parser_regex=SEED_REGEX,
    )
    result = dec.decode([SSEEvent("message", "id:a value:1 meta:{oops")], ARRIVAL_MS)
    assert (result.errors, result.dropped, result.table.num_rows) == (1, 1, 0)


def test_custom_conversion_error_names_the_column() -> None:
    dec = decoder(
        [("n", "INTEGER"), ("error_message", "TEXT")],
        format="custom",
        parser_regex=r"n=(\S+)",
        capture_errors=True,
    )
    out = dec.decode([SSEEvent("m", "n=12"), SSEEvent("m", "n=x")], ARRIVAL_MS).table.to_pylist()
    assert out[0] == {"n": 12, "error_message": None}
    assert out[1]["n"] is None
    assert out[1]["error_message"] == "column 'n': cannot convert a string 'x' to INTEGER"


def test_custom_groups_skip_captured_and_arrival_columns() -> None:
    dec = decoder(
        [("event_name", "TEXT"), ("level", "TEXT"), ("timestamp", "TIMESTAMP"), ("msg", "TEXT")],
        format="custom",
        parser_regex=r"^\[(\w+)\] (.*)$",
        capture_event_name=True,
        add_timestamp=True,
    )
    out = dec.decode([SSEEvent("log", "[warn] disk 91%")], ARRIVAL_MS).table.to_pylist()
    assert out == [{"event_name": "log", "level": "warn", "timestamp": ARRIVAL, "msg": "disk 91%"}]


def test_custom_named_groups_fill_by_name() -> None:
    dec = decoder(
        [("a", "INTEGER"), ("b", "TEXT")],
        format="custom",
        parser_regex=r"b=(?P<b>\w+) a=(?P<a>\d+)",
    )
    out = dec.decode([SSEEvent("m", "b=x a=5")], ARRIVAL_MS).table.to_pylist()
    assert out == [{"a": 5, "b": "x"}]


def test_custom_regex_is_searched_not_fully_matched() -> None:
    dec = decoder([("n", "INTEGER")], format="custom", parser_regex=r"n=(\d+)")
    out = dec.decode([SSEEvent("m", "prefix n=3 suffix")], ARRIVAL_MS).table.to_pylist()
    assert out == [{"n": 3}]


def test_custom_optional_group_that_did_not_match_is_null_or_falls_back() -> None:
    dec = decoder(
        [("event_type", "TEXT"), ("n", "INTEGER")],
        format="custom",
        parser_regex=r"^(?:type=(\w+) )?n=(\d+)$",
    )
    out = dec.decode([SSEEvent("tick", "n=1"), SSEEvent("tick", "type=x n=2")], ARRIVAL_MS)
    assert out.table.to_pylist() == [{"event_type": "tick", "n": 1}, {"event_type": "x", "n": 2}]
