"""SQL types -> Arrow types, Column metadata, FormatOptions and decoder validation."""

from __future__ import annotations

import pyarrow as pa
import pytest

from laminar.errors import ConfigError
from laminar.formats import Column, FormatOptions, build_row_decoder, sql_type_to_arrow


@pytest.mark.parametrize(
    ("written", "arrow"),
    [
        ("TEXT", pa.string()),
        ("varchar", pa.string()),
        ("VARCHAR(255)", pa.string()),
        ("String", pa.string()),
        ("BOOLEAN", pa.bool_()),
        ("bool", pa.bool_()),
        ("SMALLINT", pa.int16()),
        ("INTEGER", pa.int32()),
        ("int", pa.int32()),
        ("BIGINT", pa.int64()),
        ("REAL", pa.float32()),
        ("FLOAT", pa.float64()),
        ("double precision", pa.float64()),
        ("DOUBLE", pa.float64()),
        ("DECIMAL", pa.decimal128(18, 3)),
        ("decimal(10,2)", pa.decimal128(10, 2)),
        ("NUMERIC( 12 , 4 )", pa.decimal128(12, 4)),
        ("DECIMAL(5)", pa.decimal128(5, 0)),
        ("TIMESTAMP", pa.timestamp("us")),
        ("TIMESTAMPTZ", pa.timestamp("us", tz="UTC")),
        ("timestamp with time zone", pa.timestamp("us", tz="UTC")),
        ("JSON", pa.string()),
    ],
)
def test_sql_types_map_to_arrow(written: str, arrow: pa.DataType) -> None:
    assert sql_type_to_arrow(written) == arrow


def test_unknown_type_lists_supported_types_and_suggests() -> None:
    with pytest.raises(ConfigError) as info:
        sql_type_to_arrow("STRNG")
    message = str(info.value)
    assert "did you mean 'STRING'" in message
    assert "TIMESTAMP" in message and "DECIMAL" in message and "JSON" in message


@pytest.mark.parametrize("bad", ["DECIMAL(40,2)", "DECIMAL(4,5)", "DECIMAL(a)", "INTEGER(3)", ""])
def test_bad_type_arguments_are_config_errors(bad: str) -> None:
    with pytest.raises(ConfigError):
        sql_type_to_arrow(bad)


def test_schema_has_one_field_per_column_with_type_metadata() -> None:
    columns = [Column("event_id", "TEXT", primary_key=True), Column("data", "json")]
    schema = build_row_decoder("t", columns, FormatOptions()).schema
    assert schema.names == ["event_id", "data"]
    assert schema.field("data").type == pa.string()
    assert schema.field("data").metadata[b"laminar.type"] == b"JSON"
    assert schema.field("data").metadata[b"laminar.sql_type"] == b"json"
    assert schema.field("event_id").metadata[b"laminar.primary_key"] == b"true"


def test_unknown_format_suggests() -> None:
    with pytest.raises(ConfigError, match="did you mean 'json'") as info:
        FormatOptions(format="jsno")
    assert info.value.option == "format"


def test_format_is_case_insensitive() -> None:
    assert FormatOptions(format="JSON").format == "json"


def _fails(columns: list[Column], option: str, match: str, **opts: object) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        build_row_decoder("t", columns, FormatOptions(**opts))  # type: ignore[arg-type]
    assert info.value.option == option
    assert "'t'" in str(info.value)


def test_custom_needs_parser_regex() -> None:
    _fails([Column("a", "TEXT")], "parser_regex", "needs parser_regex", format="custom")


def test_custom_regex_must_compile() -> None:
    _fails(
        [Column("a", "TEXT")],
        "parser_regex",
        "does not compile",
        format="custom",
        parser_regex="(unclosed",
    )


def test_custom_group_count_must_match_columns() -> None:
    _fails(
        [Column("a", "TEXT"), Column("b", "TEXT")],
        "parser_regex",
        "1 group.*2 column",
        format="custom",
        parser_regex="^(.*)$",
    )


def test_custom_named_group_must_name_a_column() -> None:
    _fails(
        [Column("value", "TEXT")],
        "parser_regex",
        "did you mean 'value'",
        format="custom",
        parser_regex="^(?P<valeu>.*)$",
    )


def test_parser_regex_without_custom_format_is_an_error() -> None:
    _fails(
        [Column("a", "TEXT")],
        "parser_regex",
        "only used with format = 'custom'",
        parser_regex="(.*)",
    )


def test_capture_errors_needs_error_message_column() -> None:
    _fails([Column("data", "JSON")], "capture_errors", "error_message", capture_errors=True)


def test_add_timestamp_needs_timestamp_column() -> None:
    _fails(
        [Column("message", "TEXT")], "add_timestamp", "TIMESTAMP", format="text", add_timestamp=True
    )


def test_capture_flag_needs_its_column() -> None:
    _fails([Column("data", "JSON")], "capture_retry", "retry_ms", capture_retry=True)


def test_text_needs_a_text_column() -> None:
    _fails([Column("n", "INTEGER")], "format", "TEXT column", format="text")


def test_duplicate_column_is_an_error() -> None:
    with pytest.raises(ConfigError, match="twice"):
        build_row_decoder("t", [Column("a", "TEXT"), Column("a", "TEXT")], FormatOptions())


def test_every_seed_table_builds() -> None:
    """Each CREATE TABLE of the product document is accepted as written."""
    text, ts, js = "TEXT", "TIMESTAMP", "JSON"
    seed = {
        "live_events": (
            [("event_id", text), ("event_type", text), ("timestamp", ts), ("data", js)],
            {},
        ),
        "typed_events": (
            [("event_name", text), ("event_data", js), ("event_id", text), ("retry_ms", "INTEGER")],
            {"capture_event_name": True, "capture_event_id": True, "capture_retry": True},
        ),
        "filtered_events": ([("data", js)], {}),
        "json_events": ([("payload", js)], {"format": "json"}),
        "text_events": (
            [("message", text), ("timestamp", ts)],
            {"format": "text", "add_timestamp": True},
        ),
        "parsed_events": (
            [("id", text), ("value", "FLOAT"), ("metadata", js)],
            {"format": "custom", "parser_regex": r"^id:(\S+) value:(\d+\.?\d*) meta:(.*)$"},
        ),
        "sse_with_errors": (
            [("data", js), ("error_message", text), ("error_timestamp", ts)],
            {"capture_errors": True, "continue_on_error": True},
        ),
        "unique_events": ([("event_id", text), ("data", js)], {}),
        "stock_stream": (
            [("symbol", text), ("price", "DECIMAL"), ("volume", "BIGINT"), ("timestamp", ts)],
            {"format": "json"},
        ),
        "social_stream": (
            [
                ("post_id", text),
                ("user_id", text),
                ("content", text),
                ("timestamp", ts),
                ("metrics", js),
            ],
            {},
        ),
        "sensor_stream": (
            [
                ("device_id", text),
                ("reading_type", text),
                ("value", "FLOAT"),
                ("unit", text),
                ("timestamp", ts),
            ],
            {},
        ),
    }
    for name, (cols, opts) in seed.items():
        decoder = build_row_decoder(name, [Column(n, t) for n, t in cols], FormatOptions(**opts))
        assert decoder.schema.names == [n for n, _ in cols]
