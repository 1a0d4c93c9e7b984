"""The DuckDB path of format = 'json' gives exactly the Python path's rows, errors and drops."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from laminar.errors import PayloadError
from laminar.formats import Column, FormatOptions, build_row_decoder
from laminar.formats.decoder import RowDecoder
from laminar.sse.event import SSEEvent

ARRIVAL_MS = 1_764_320_400_000

TABLES = {
    "stock": [("symbol", "TEXT"), ("price", "DECIMAL"), ("volume", "BIGINT"), ("ts", "BIGINT")],
    "typed": [
        ("b", "BOOLEAN"),
        ("i", "INTEGER"),
        ("s", "SMALLINT"),
        ("r", "REAL"),
        ("f", "DOUBLE"),
        ("m", "DECIMAL(6,2)"),
        ("j", "JSON"),
        ("timestamp", "TIMESTAMP"),
        ("tz", "TIMESTAMPTZ"),
    ],
    "live_events": [
        ("event_id", "TEXT"),
        ("event_type", "TEXT"),
        ("timestamp", "TIMESTAMP"),
        ("data", "JSON"),
    ],
    "raw": [("symbol", "TEXT"), ("payload", "TEXT"), ("retry_ms", "INTEGER")],
}
KEYS = ["symbol", "price", "volume", "ts", "b", "i", "s", "r", "f", "m", "j", "timestamp", "tz"]
KEYS += ["event_id", "event_type", "data", "payload", "retry_ms", "other"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-1000, max_value=100_000),
    st.sampled_from([0, 1, -1, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 1_764_320_400])
    | st.sampled_from([1_764_320_400_123, 1_764_320_400_123_456, 1_764_320_400_123_456_789]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 4)),
    st.sampled_from([0.0625, 1.0005, 187.25, 0.125, 2.675, 1764320400.5, -0.0, 3.0, 1e17]),
    st.text(max_size=6),
    st.sampled_from(
        [
            *("12", "true", "0", "AAPL", "é", 'a"b', "a\\b", "\n", "\u2028", "\x7f", "nan"),
            *("2026-11-28T09:00:00Z", "2026-11-28 09:00:00.123", "2026-11-28T09:00:00+02:00"),
            *("2026-11-28", "2026-11-28T09:00", "2026-11-28T24:00:00", "0000-01-01T00:00:00"),
            *("2026-02-30T00:00:00", "2026-11-28T09:00:00.1234567Z", "1764320400"),
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from(KEYS), inner),
    max_leaves=4,
)
objects = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)


def _compact(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


payloads = st.one_of(
    objects.map(_compact),
    objects.map(json.dumps),  # spaces, \\u escapes
    values.map(_compact),  # top-level non-objects
    st.text(max_size=10),  # mostly not JSON
    st.sampled_from(
        [
            '{"symbol":"A","price":1,}',
            '{"price":NaN}',
            '{"other":Infinity,"price":1}',
            '{"price":1e400}',
            '{"symbol":"A","symbol":"B"}',
            '{"sym\\u0062ol":"A","symbol":"B"}',
            '{"volume":123456789012345678901234567890}',
            ' {"symbol":"A"}',
            '{"symbol":"A"} ',
            '{"data":null}',
            '{"data":{"x":[1,2.5]}}',
            '{"event_id":null}',
            '{"event_id":7,"timestamp":1764320400.5}',
            "",
            "[1,2]",
            '"text"',
        ]
    ),
)


def _decoder(name: str, **options: bool) -> RowDecoder:
    columns = [Column(n, t) for n, t in TABLES[name]]
    if options.get("capture_errors"):
        columns += [Column("error_message", "TEXT"), Column("error_timestamp", "TIMESTAMP")]
    return build_row_decoder(name, columns, FormatOptions(**options))  # type: ignore[arg-type]


POLICIES = [
    {},
    {"capture_errors": True},
    {"continue_on_error": False},
    {"capture_errors": True, "continue_on_error": False},
]
DECODERS = {(t, i): _decoder(t, **p) for t in TABLES for i, p in enumerate(POLICIES)}


def _run(decoder: RowDecoder, events: list[SSEEvent], *, sql: bool) -> str:
    decoder.use_sql, decoder.sql_min_rows = sql, 1
    try:
        result = decoder.decode(events, ARRIVAL_MS)
    except PayloadError as exc:
        return f"raised {exc}"
    finally:
        decoder.use_sql = False
    assert result.table.schema == decoder.schema
    # repr: nan == nan, -0.0 != 0.0
    return repr((result.table.to_pylist(), result.errors, result.dropped))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=st.sampled_from(sorted(TABLES)),
    policy=st.integers(0, len(POLICIES) - 1),
    batch=st.lists(payloads, min_size=1, max_size=8),
)
def test_sql_path_gives_the_python_rows(table: str, policy: int, batch: list[str]) -> None:
    events = [SSEEvent("tick", data, str(i) if i % 3 else "", 5) for i, data in enumerate(batch)]
    decoder = DECODERS[(table, policy)]
    assert _run(decoder, events, sql=True) == _run(decoder, events, sql=False)


def _stock_events(n: int) -> list[SSEEvent]:
    return [
        SSEEvent(
            "message",
            _compact({"symbol": "AAPL", "price": 187.25 + i / 100, "volume": i, "ts": 17 + i}),
            str(i),
        )
        for i in range(n)
    ]


def test_clean_batches_never_touch_the_python_path(monkeypatch: pytest.MonkeyPatch) -> None:
    decoder = _decoder("stock")
    decoder.use_sql, decoder.sql_min_rows = True, 1

    def boom(*args: object) -> None:
        raise AssertionError("python path used")

    monkeypatch.setattr(decoder, "_rows", boom)
    result = decoder.decode(_stock_events(100), ARRIVAL_MS)
    assert result.table.num_rows == 100
    assert str(result.table.column("price")[1]) == "187.260"


def test_bad_rows_are_spliced_back_in_order() -> None:
    events = _stock_events(5)
    events[1] = SSEEvent("message", "not json", "x")
    events[3] = SSEEvent("message", '{"symbol":"Z","price":"1.5"}', "y")  # string: Python
    decoder = _decoder("stock", capture_errors=True)
    decoder.use_sql, decoder.sql_min_rows = True, 1
    result = decoder.decode(events, ARRIVAL_MS)
    rows = result.table.to_pylist()
    assert [r["symbol"] for r in rows] == ["AAPL", None, "AAPL", "Z", "AAPL"]
    assert rows[1]["error_message"].startswith("invalid JSON")
    assert str(rows[3]["price"]) == "1.500"
    assert result.errors == 1


def test_continue_on_error_false_names_the_event_of_the_whole_batch() -> None:
    events = [*_stock_events(3), SSEEvent("message", "{", "")]
    decoder = _decoder("stock", continue_on_error=False)
    decoder.use_sql, decoder.sql_min_rows = True, 1
    with pytest.raises(PayloadError, match="event #4 of the batch"):
        decoder.decode(events, ARRIVAL_MS)


def test_small_batches_and_the_switch_use_the_python_path() -> None:
    decoder = _decoder("stock")
    assert decoder.use_sql is False  # off by default until the SQL is faster
    decoder.use_sql = True
    assert decoder.sql_min_rows > 1
    assert decoder.decode(_stock_events(2), ARRIVAL_MS).table.num_rows == 2


def test_tables_with_unusual_column_names_have_no_sql_plan() -> None:
    decoder = build_row_decoder("t", [Column("my-field", "TEXT")], FormatOptions())
    assert decoder._sql is None
    assert build_row_decoder("t", [Column("m", "TEXT")], FormatOptions(format="text"))._sql is None
