"""Property tests: a batch decodes to the rows its events give one at a time, and the
native fast path gives exactly what the per-value path gives."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.examples import examples

from laminar.formats import Column, FormatOptions, build_row_decoder
from laminar.formats.decoder import RowDecoder
from laminar.sse.event import SSEEvent

TYPES = [
    "TEXT",
    "BOOLEAN",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "REAL",
    "DOUBLE",
    "DECIMAL",
    "DECIMAL(6,2)",
    "TIMESTAMP",
    "TIMESTAMPTZ",
    "JSON",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-100_000, max_value=100_000),
    st.sampled_from(
        [
            0,
            1,
            1_764_320_400,
            1_764_320_400_123,
            1_764_320_400_123_456,
            1_764_320_400_123_456_789,
            2**53 + 1,
        ]
    ),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.sampled_from([0.0625, 1.0005, 187.25, 1764320400.5, 1.5, 3.0]),
    st.text(max_size=8),
    st.sampled_from(
        [
            "12",
            "-3",
            "1.25",
            "true",
            "False",
            "0",
            "abc",
            "nan",
            "1e3",
            "2026-11-28T09:00:00Z",
            "2026-11-28T09:00:00",
            "2026-11-28 09:00:00.123",
            "2026-11-28T09:00:00+02:00",
            "2026-11-28",
            "2026-11-28T09:00:00.1234567Z",
            "1764320400",
            "20261128T090000Z",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=5,
)
payloads = st.one_of(
    values.map(lambda v: json.dumps({"v": v})),
    values.map(json.dumps),  # top-level non-objects
    st.text(max_size=12),  # mostly not JSON
    st.just('{"v": 1}\n'),
)

ARRIVAL_MS = 1_764_320_400_000


def _decoder(type_: str) -> RowDecoder:
    columns = [
        Column("v", type_),
        Column("data", "JSON"),
        Column("event_id", "TEXT"),
        Column("timestamp", "TIMESTAMP"),
        Column("error_message", "TEXT"),
        Column("error_timestamp", "TIMESTAMP"),
    ]
    return build_row_decoder("t", columns, FormatOptions(capture_errors=True))


DECODERS = {t: _decoder(t) for t in TYPES}


def _run(decoder: RowDecoder, events: list[SSEEvent], *, fast: bool) -> str:
    decoder._fast = fast
    try:
        result = decoder.decode(events, ARRIVAL_MS)
    finally:
        decoder._fast = True
    return repr((result.table.to_pylist(), result.errors))  # repr: nan == nan


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(type_=st.sampled_from(TYPES), batch=st.lists(values, min_size=1, max_size=6))
def test_fast_path_agrees_with_per_value_path(type_: str, batch: list) -> None:
    events = [SSEEvent("m", json.dumps({"v": v}), str(i)) for i, v in enumerate(batch)]
    decoder = DECODERS[type_]
    assert _run(decoder, events, fast=True) == _run(decoder, events, fast=False)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(type_=st.sampled_from(TYPES), batch=st.lists(payloads, min_size=1, max_size=6))
def test_batch_gives_the_rows_of_its_events_one_by_one(type_: str, batch: list[str]) -> None:
    events = [SSEEvent("m", data, str(i)) for i, data in enumerate(batch)]
    decoder = DECODERS[type_]
    whole = decoder.decode(events, ARRIVAL_MS)
    alone = [decoder.decode([e], ARRIVAL_MS) for e in events]
    assert repr(whole.table.to_pylist()) == repr([r.table.to_pylist()[0] for r in alone])
    assert whole.errors == sum(r.errors for r in alone)


@settings(max_examples=examples(), deadline=None)
@given(moment=st.datetimes(min_value=dt.datetime(1974, 1, 1), max_value=dt.datetime(2200, 1, 1)))
def test_timestamps_in_every_shape_agree(moment: dt.datetime) -> None:
    # epoch milliseconds below 1e11 (before 1973-03-03) read as seconds, by design
    aware = moment.replace(tzinfo=dt.UTC)
    millis = (aware - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)
    shapes = [
        moment.isoformat(),
        aware.isoformat(),
        moment.isoformat(sep=" "),
        aware.isoformat().replace("+00:00", "Z"),
        millis,
    ]
    decoder = DECODERS["TIMESTAMP"]
    for shape in shapes:
        events = [SSEEvent("m", json.dumps({"v": shape}))] * 2
        rows = decoder.decode(events, ARRIVAL_MS).table.column("v").to_pylist()
        expected = moment
        if isinstance(shape, int):
            expected = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=millis)
        assert rows == [expected, expected], shape


MIXED = build_row_decoder(
    "mixed",
    [
        Column("v", "TEXT"),
        Column("w", "DOUBLE"),
        Column("event_type", "TEXT"),  # payload field, else the SSE event type
        Column("payload", "JSON"),  # the field named payload, else the whole payload
    ],
)
objects = st.dictionaries(st.sampled_from(["v", "w", "event_type", "payload", "x"]), values)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(objects, min_size=1, max_size=6))
def test_struct_fast_path_agrees_with_the_dict_path(batch: list[dict]) -> None:
    events = [SSEEvent("kind", json.dumps(obj), str(i)) for i, obj in enumerate(batch)]
    fields = MIXED._fields
    with_struct = MIXED.decode(events, ARRIVAL_MS)
    MIXED._fields = None  # force the dict path
    try:
        with_dicts = MIXED.decode(events, ARRIVAL_MS)
    finally:
        MIXED._fields = fields
    assert repr(with_struct.table.to_pylist()) == repr(with_dicts.table.to_pylist())
    assert with_struct.errors == with_dicts.errors
