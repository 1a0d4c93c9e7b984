"""Schema inference and DDL rendering (pure functions)."""

from __future__ import annotations

import json

import pytest

from laminar.probe import analyse
from laminar.probe.ddl import quote_name, table_name
from laminar.probe.infer import infer_columns, is_iso_time
from laminar.probe.sample import Sample
from laminar.sql.engine import Engine
from laminar.sse.event import SSEEvent


def _types(payloads: list[object]) -> dict[str, str]:
    return {c.name: c.type for c in infer_columns(payloads)}


def test_scalar_types() -> None:
    assert _types([{"a": 1, "b": 1.5, "c": True, "d": "x", "e": None}]) == {
        "a": "BIGINT", "b": "DOUBLE", "c": "BOOLEAN", "d": "TEXT", "e": "TEXT",
    }


def test_ints_and_floats_widen_to_double_and_mixed_kinds_to_json() -> None:
    assert _types([{"n": 1}, {"n": 2.5}]) == {"n": "DOUBLE"}
    assert _types([{"n": 1}, {"n": "one"}]) == {"n": "JSON"}


def test_nested_values_become_json() -> None:
    assert _types([{"meta": {"a": 1}, "tags": ["x"]}]) == {"meta": "JSON", "tags": "JSON"}


@pytest.mark.parametrize(
    "value", [1733450000, 1733450000.5, 1733450000123, 1733450000123456]
)
def test_epoch_numbers_in_time_fields_become_timestamp(value: float) -> None:
    assert _types([{"created_at": value, "ts": value}]) == {
        "created_at": "TIMESTAMP", "ts": "TIMESTAMP"
    }


def test_epoch_sized_numbers_elsewhere_stay_numbers() -> None:
    assert _types([{"volume": 1733450000}]) == {"volume": "BIGINT"}
    assert _types([{"timestamp": 42}]) == {"timestamp": "BIGINT"}


@pytest.mark.parametrize(
    "text", ["2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123+02:00", "2024-01-02 03:04:05"]
)
def test_iso_times(text: str) -> None:
    assert is_iso_time(text)
    assert _types([{"when": text}]) == {"when": "TIMESTAMP"}


@pytest.mark.parametrize("text", ["2024-01-02", "hello", "2024-13-45T00:00:00", ""])
def test_not_iso_times(text: str) -> None:
    assert not is_iso_time(text)


def test_fields_missing_from_some_payloads_are_nullable_and_ordered() -> None:
    columns = infer_columns([{"a": 1}, {"b": 2, "a": 3}])
    assert [(c.name, c.nullable) for c in columns] == [("a", False), ("b", True)]


def test_names_are_quoted_when_needed() -> None:
    assert quote_name("price") == "price"
    assert quote_name("Price Now") == '"Price Now"'
    assert quote_name('a"b') == '"a""b"'
    assert quote_name("select") == '"select"'
    assert table_name("http://h:1/v2/stocks?x=1") == "stocks"
    assert table_name("http://h:1/") == "stream"
    assert table_name("http://h/9feed") == "stream_9feed"


def _sample(*events: SSEEvent) -> Sample:
    return Sample(events=list(events), seconds=2.0)


def test_ddl_runs_and_carries_filter_capture_and_placeholders() -> None:
    payload = json.dumps({"symbol": "A", "price": 1.5, "timestamp": "2024-01-02T03:04:05Z"})
    report = analyse(
        _sample(
            SSEEvent("price", payload, "1", 1000),
            SSEEvent("trade", payload, "2", None),
        ),
        {"endpoint": "http://127.0.0.1:9/stocks", "token": "real-secret"},
    )
    assert report.rate == 1.0 and report.event_types == {"price": 1, "trade": 1}
    assert report.retry == [1000] and report.ids["kind"] == "increasing integers"
    assert "real-secret" not in report.ddl and "${SSE_TOKEN}" in report.ddl
    assert "event_type_filter = '[\"price\",\"trade\"]'" in report.ddl
    assert "capture_event_name = true" in report.ddl and "capture_event_id = true" in report.ddl
    engine = Engine(env={"SSE_TOKEN": "x"})
    (message,) = engine.execute(report.ddl)
    assert message.text == "CREATE TABLE stocks"  # type: ignore[union-attr]
    table = engine.catalog.tables["stocks"]
    assert [(c.name, c.type) for c in table.columns] == [
        ("symbol", "TEXT"), ("price", "DOUBLE"), ("timestamp", "TIMESTAMP"),
        ("event_type", "TEXT"), ("event_id", "TEXT"),
    ]


def test_text_payloads_get_format_text() -> None:
    report = analyse(_sample(SSEEvent("message", "plain line", "", None)),
                     {"endpoint": "http://127.0.0.1:9/logs"})
    assert report.format == "text"
    assert "event_type_filter" not in report.ddl and "capture_event_id" not in report.ddl
    Engine().execute(report.ddl)


def test_a_payload_field_named_like_a_capture_column_wins() -> None:
    payload = json.dumps({"event_type": "x", "event_id": 7})
    report = analyse(
        _sample(SSEEvent("a", payload, "1", None), SSEEvent("b", payload, "2", None)),
        {"endpoint": "http://127.0.0.1:9/s"},
    )
    assert "capture_event_name" not in report.ddl and "capture_event_id" not in report.ddl
    Engine().execute(report.ddl)


def test_ddl_names_variables_for_credentials_in_the_url_and_headers() -> None:
    payload = json.dumps({"symbol": "A"})
    report = analyse(
        _sample(SSEEvent("message", payload, "1", None)),
        {
            "endpoint": "https://u:pw-secret@127.0.0.1:9/stocks?api_key=key-secret",
            "headers": {"Authorization": "Bearer hdr-secret", "X-Client": "mine",
                        "X-Token": "${MY_TOKEN}"},
            "api_key": "${MY_KEY}",
        },
    )  # fmt: skip
    for secret in ("pw-secret", "key-secret", "hdr-secret"):
        assert secret not in report.ddl
    assert "${SSE_ENDPOINT}" in report.ddl and "${SSE_HEADER_AUTHORIZATION}" in report.ddl
    # What is not a secret stays; a ${VAR} the user gave is kept as written.
    assert '"X-Client":"mine"' in report.ddl and "${MY_TOKEN}" in report.ddl
    assert "${MY_KEY}" in report.ddl
    env = {"SSE_ENDPOINT": "https://127.0.0.1:9/s", "SSE_HEADER_AUTHORIZATION": "Bearer x",
           "MY_TOKEN": "t", "MY_KEY": "k"}  # fmt: skip
    Engine(env=env).execute(report.ddl)  # and it still runs
