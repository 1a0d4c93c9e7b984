"""Tests for laminar.sql: tokenizer, parser and AST of Laminar's statements.

Every SQL block of the product document is parsed as written (copied verbatim below);
then the dialect's corners, the query scanner (sources, LIMIT) and the errors
(line, column, excerpt, "did you mean").
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.examples import examples

from laminar.errors import SQLError
from laminar.sql import (
    ColumnDef,
    CreateConnection,
    CreateTable,
    CreateView,
    Describe,
    Drop,
    Explain,
    InsertInto,
    OptionValue,
    Query,
    Select,
    Show,
    parse_statement,
    parse_statements,
    split_statements,
    statement_complete,
)
from laminar.sql.tokens import TokenType, tokenize

# The SQL blocks of ../shared/seed/sse-source.md, copied verbatim (heading -> block).
SEED_BLOCKS: dict[str, str] = {
    "SQL Example": r"""CREATE CONNECTION sse_stream FROM sse_source
WITH (
    endpoint = 'https://stream.example.com/events',
    headers = '{"Accept": "text/event-stream"}',
    reconnect_interval_ms = 5000
);

CREATE TABLE live_events (
    event_id TEXT,
    event_type TEXT,
    timestamp TIMESTAMP,
    data JSON
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    format = 'json'
);
""",
    "Named Events": r"""CREATE TABLE typed_events (
    event_name TEXT,
    event_data JSON,
    event_id TEXT,
    retry_ms INTEGER
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    capture_event_name = true,
    capture_event_id = true,
    capture_retry = true
);
""",
    "Filtered Events": r"""CREATE TABLE filtered_events (
    data JSON
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    event_type_filter = '["message", "update", "notification"]'
);
""",
    "JSON Events": r"""CREATE TABLE json_events (
    payload JSON
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    format = 'json'
);
""",
    "Plain Text Events": r"""CREATE TABLE text_events (
    message TEXT,
    timestamp TIMESTAMP
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    format = 'text',
    add_timestamp = true
);
""",
    "Custom Parsing": r"""CREATE TABLE parsed_events (
    id TEXT,
    value FLOAT,
    metadata JSON
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    format = 'custom',
    parser_regex = '^id:(\S+) value:(\d+\.?\d*) meta:(.*)$'
);
""",
    "Authenticated Streams": r"""CREATE CONNECTION auth_sse FROM sse_source
WITH (
    endpoint = 'https://api.example.com/stream',
    auth_type = 'bearer',
    token = '${SSE_TOKEN}',
    headers = '{"X-Client-Id": "laminar-consumer"}'
);
""",
    "Last Event ID": r"""CREATE CONNECTION resumable_sse FROM sse_source
WITH (
    endpoint = 'https://stream.example.com/events',
    last_event_id = '${LAST_PROCESSED_ID}',
    persist_event_id = true
);
""",
    "Keep-Alive Handling": r"""CREATE CONNECTION keepalive_sse FROM sse_source
WITH (
    endpoint = 'https://stream.example.com/events',
    keepalive_timeout_ms = 45000,
    ignore_comments = false,
    comment_prefix = ':'
);
""",
    "Reconnection Strategy": r"""CREATE CONNECTION resilient_sse FROM sse_source
WITH (
    endpoint = 'https://stream.example.com/events',
    max_reconnect_attempts = 10,
    reconnect_backoff_ms = 1000,
    reconnect_multiplier = 2.0,
    max_reconnect_interval_ms = 60000
);
""",
    "Error Events": r"""CREATE TABLE sse_with_errors (
    data JSON,
    error_message TEXT,
    error_timestamp TIMESTAMP
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    capture_errors = true,
    continue_on_error = true
);
""",
    "Event Buffering": r"""CREATE TABLE buffered_events (
    data JSON
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    buffer_size = 1000,
    buffer_timeout_ms = 100
);
""",
    "Event Deduplication": r"""CREATE TABLE unique_events (
    event_id TEXT PRIMARY KEY,
    data JSON
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    deduplicate_by = 'event_id',
    dedup_window_ms = 60000
);
""",
    "Health Checks": r"""SELECT * FROM system.connector_status
WHERE connector_name = 'sse_source';
""",
    "Parallel Processing": r"""CREATE TABLE parallel_sse (
    data JSON
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    parallelism = 4,
    partition_by = 'event_type'
);
""",
    "Compression": r"""CREATE CONNECTION compressed_sse FROM sse_source
WITH (
    endpoint = 'https://stream.example.com/events',
    headers = '{"Accept-Encoding": "gzip, deflate"}',
    decompress_response = true
);
""",
    "Connection Issues": r"""-- Check connection logs
SELECT * FROM system.connector_logs
WHERE connector = 'sse_source'
AND level = 'ERROR'
ORDER BY timestamp DESC
LIMIT 10;
""",
    "Event Processing": r"""-- Monitor event rate
SELECT 
    COUNT(*) as events_per_minute,
    AVG(processing_time_ms) as avg_processing_time
FROM system.connector_metrics
WHERE connector = 'sse_source'
AND timestamp > NOW() - INTERVAL '1 minute';
""",  # noqa: W291 (the document has a trailing space after SELECT)
    "Live Stock Prices": r"""CREATE TABLE stock_stream (
    symbol TEXT,
    price DECIMAL,
    volume BIGINT,
    timestamp TIMESTAMP
) WITH (
    connector = 'sse_source',
    connection = 'stock_sse',
    endpoint = 'https://stream.stocks.com/prices',
    format = 'json'
);

-- Real-time price alerts
CREATE VIEW price_alerts AS
SELECT * FROM stock_stream
WHERE price > 1000 OR price < 10;
""",
    "Social Media Feed": r"""CREATE TABLE social_stream (
    post_id TEXT,
    user_id TEXT,
    content TEXT,
    timestamp TIMESTAMP,
    metrics JSON
) WITH (
    connector = 'sse_source',
    connection = 'social_sse',
    endpoint = 'https://api.social.com/stream',
    event_type_filter = '["post", "comment", "like"]'
);
""",
    "IoT Sensor Stream": r"""CREATE TABLE sensor_stream (
    device_id TEXT,
    reading_type TEXT,
    value FLOAT,
    unit TEXT,
    timestamp TIMESTAMP
) WITH (
    connector = 'sse_source',
    connection = 'iot_sse',
    endpoint = 'https://iot.example.com/sensors/stream'
);
""",
}


def options(statement) -> dict:
    return {key: option.value for key, option in statement.options.items()}


def columns(statement) -> list[tuple[str, str]]:
    return [(c.name, c.type) for c in statement.columns]


# -- the product document ----------------------------------------------------------------


@pytest.mark.parametrize("heading", list(SEED_BLOCKS))
def test_every_seed_block_parses_and_keeps_its_text(heading: str) -> None:
    sql = SEED_BLOCKS[heading]
    statements = parse_statements(sql)
    assert statements
    for statement in statements:
        # .text is the exact source at .line/.column, and re-parses to the same statement
        lines = sql.splitlines(keepends=True)
        offset = sum(len(line) for line in lines[: statement.line - 1]) + statement.column - 1
        assert sql[offset:].startswith(statement.text)
        again = parse_statement(statement.text)
        assert type(again) is type(statement)
        assert again.text == statement.text
        assert (again.line, again.column) == (1, 1)


def test_sql_example_connection_and_table() -> None:
    connection, table = parse_statements(SEED_BLOCKS["SQL Example"])
    assert isinstance(connection, CreateConnection)
    assert connection.name == "sse_stream"
    assert connection.connector == "sse_source"
    assert options(connection) == {
        "endpoint": "https://stream.example.com/events",
        "headers": '{"Accept": "text/event-stream"}',
        "reconnect_interval_ms": 5000,
    }
    assert connection.options["reconnect_interval_ms"] == OptionValue(5000, "5000", 5, 29)
    assert not connection.if_not_exists and not connection.or_replace
    assert (connection.line, connection.column) == (1, 1)
    assert connection.text.endswith("reconnect_interval_ms = 5000\n)")

    assert isinstance(table, CreateTable)
    assert table.name == "live_events"
    assert (table.line, table.column) == (8, 1)
    assert columns(table) == [
        ("event_id", "TEXT"),
        ("event_type", "TEXT"),
        ("timestamp", "TIMESTAMP"),
        ("data", "JSON"),
    ]
    assert table.columns[2] == ColumnDef("timestamp", "TIMESTAMP", False, False, 11, 5)
    assert options(table) == {
        "connector": "sse_source",
        "connection": "sse_stream",
        "format": "json",
    }


def test_named_events_booleans_are_bools() -> None:
    (table,) = parse_statements(SEED_BLOCKS["Named Events"])
    assert columns(table) == [
        ("event_name", "TEXT"),
        ("event_data", "JSON"),
        ("event_id", "TEXT"),
        ("retry_ms", "INTEGER"),
    ]
    flags = {k: v for k, v in options(table).items() if k.startswith("capture_")}
    assert flags == {"capture_event_name": True, "capture_event_id": True, "capture_retry": True}
    assert table.options["capture_retry"].raw == "true"


def test_filtered_events_keeps_json_array_text() -> None:
    (table,) = parse_statements(SEED_BLOCKS["Filtered Events"])
    assert options(table)["event_type_filter"] == '["message", "update", "notification"]'


def test_custom_parsing_regex_round_trips_backslashes() -> None:
    (table,) = parse_statements(SEED_BLOCKS["Custom Parsing"])
    regex = table.options["parser_regex"]
    assert regex.value == r"^id:(\S+) value:(\d+\.?\d*) meta:(.*)$"
    assert regex.raw == r"'^id:(\S+) value:(\d+\.?\d*) meta:(.*)$'"
    assert columns(table) == [("id", "TEXT"), ("value", "FLOAT"), ("metadata", "JSON")]


def test_connection_option_types() -> None:
    (auth,) = parse_statements(SEED_BLOCKS["Authenticated Streams"])
    assert options(auth)["token"] == "${SSE_TOKEN}"
    (resumable,) = parse_statements(SEED_BLOCKS["Last Event ID"])
    assert options(resumable)["persist_event_id"] is True
    (keepalive,) = parse_statements(SEED_BLOCKS["Keep-Alive Handling"])
    assert options(keepalive) == {
        "endpoint": "https://stream.example.com/events",
        "keepalive_timeout_ms": 45000,
        "ignore_comments": False,
        "comment_prefix": ":",
    }
    (resilient,) = parse_statements(SEED_BLOCKS["Reconnection Strategy"])
    multiplier = resilient.options["reconnect_multiplier"]
    assert multiplier.value == 2.0 and isinstance(multiplier.value, float)
    assert multiplier.raw == "2.0"
    assert isinstance(options(resilient)["max_reconnect_attempts"], int)


def test_dedup_table_column_primary_key() -> None:
    (table,) = parse_statements(SEED_BLOCKS["Event Deduplication"])
    assert table.columns[0] == ColumnDef("event_id", "TEXT", True, False, 2, 5)
    assert table.columns[1].primary_key is False
    assert options(table)["dedup_window_ms"] == 60000


def test_health_check_select() -> None:
    (select,) = parse_statements(SEED_BLOCKS["Health Checks"])
    assert isinstance(select, Select)
    assert select.query == Query(
        "SELECT * FROM system.connector_status\nWHERE connector_name = 'sse_source'",
        ["system.connector_status"],
        None,
        1,
        1,
    )


def test_connection_issues_select_after_comment_with_limit() -> None:
    sql = SEED_BLOCKS["Connection Issues"]
    (select,) = parse_statements(sql)
    assert (select.line, select.column) == (2, 1)
    assert select.query.sources == ["system.connector_logs"]
    assert select.query.limit == 10
    assert select.query.sql == sql[sql.index("SELECT") : sql.index(";")]


def test_event_processing_select_kept_verbatim() -> None:
    sql = SEED_BLOCKS["Event Processing"]
    (select,) = parse_statements(sql)
    assert select.query.sql.startswith("SELECT \n    COUNT(*) as events_per_minute,")
    assert select.query.sql.endswith("AND timestamp > NOW() - INTERVAL '1 minute'")
    assert select.query.sources == ["system.connector_metrics"]
    assert select.query.limit is None


def test_live_stock_prices_table_and_view() -> None:
    table, view = parse_statements(SEED_BLOCKS["Live Stock Prices"])
    assert columns(table) == [
        ("symbol", "TEXT"),
        ("price", "DECIMAL"),
        ("volume", "BIGINT"),
        ("timestamp", "TIMESTAMP"),
    ]
    assert options(table)["endpoint"] == "https://stream.stocks.com/prices"
    assert options(table)["connection"] == "stock_sse"
    assert isinstance(view, CreateView)
    assert view.name == "price_alerts"
    assert (view.line, view.column) == (14, 1)
    assert view.query.sql == "SELECT * FROM stock_stream\nWHERE price > 1000 OR price < 10"
    assert (view.query.line, view.query.column) == (15, 1)
    assert view.query.sources == ["stock_stream"]
    assert view.text == "CREATE VIEW price_alerts AS\n" + view.query.sql


def test_social_and_iot_tables() -> None:
    (social,) = parse_statements(SEED_BLOCKS["Social Media Feed"])
    assert [c.name for c in social.columns][-1] == "metrics"
    assert options(social)["event_type_filter"] == '["post", "comment", "like"]'
    (sensor,) = parse_statements(SEED_BLOCKS["IoT Sensor Stream"])
    assert columns(sensor)[2] == ("value", "FLOAT")
    assert "format" not in sensor.options


def test_whole_document_parses_as_one_script() -> None:
    script = "\n".join(SEED_BLOCKS.values())
    statements = parse_statements(script)
    assert len(statements) == 23
    assert sum(isinstance(s, CreateConnection) for s in statements) == 6
    assert sum(isinstance(s, Select) for s in statements) == 3


# -- the dialect -------------------------------------------------------------------------


def test_identifiers_lower_cased_unless_quoted() -> None:
    (table,) = parse_statements('create TABLE Stocks ("Symbol" text, PRICE decimal(10, 2))')
    assert table.name == "stocks"
    assert columns(table) == [("Symbol", "TEXT"), ("price", "DECIMAL(10,2)")]
    (quoted,) = parse_statements('CREATE TABLE "My ""Table""" (a TEXT)')
    assert quoted.name == 'My "Table"'


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("decimal(10, 2)", "DECIMAL(10,2)"),
        ("DECIMAL ( 10 , 2 )", "DECIMAL(10,2)"),
        ("varchar(255)", "VARCHAR(255)"),
        ("double precision", "DOUBLE PRECISION"),
        ("timestamp with time zone", "TIMESTAMP WITH TIME ZONE"),
        ("character varying(20)", "CHARACTER VARYING(20)"),
        ("integer[]", "INTEGER[]"),
        ("struct(a int, b text)", "STRUCT(A INT,B TEXT)"),
        ("Json", "JSON"),
    ],
)
def test_column_types_normalised(written: str, normalised: str) -> None:
    (table,) = parse_statements(f"CREATE TABLE t (c {written} NOT NULL)")
    assert table.columns == [ColumnDef("c", normalised, False, True, 1, 17)]


def test_table_level_primary_key_and_constraints() -> None:
    (table,) = parse_statements(
        "CREATE TABLE t (a TEXT NOT NULL, b INT NULL, c TEXT, PRIMARY KEY (c, a),)"
    )
    assert [(c.name, c.primary_key, c.not_null) for c in table.columns] == [
        ("a", True, True),
        ("b", False, False),
        ("c", True, False),
    ]


def test_create_modifiers() -> None:
    (conn,) = parse_statements("CREATE OR REPLACE CONNECTION c FROM 'SSE_SOURCE' WITH ()")
    assert conn == CreateConnection(
        "c", "sse_source", {}, False, True, text=conn.text, line=1, column=1
    )
    (table,) = parse_statements("create table if not exists t (a text)")
    assert table.if_not_exists and not table.or_replace and table.options == {}
    (view,) = parse_statements(
        "CREATE VIEW IF NOT EXISTS v AS WITH x AS (SELECT 1) SELECT * FROM x"
    )
    assert view.if_not_exists and view.query.sources == []
    (view,) = parse_statements("CREATE OR REPLACE VIEW v AS SELECT 1")
    assert view.or_replace


def test_option_values() -> None:
    (conn,) = parse_statements(
        "CREATE CONNECTION c FROM sse_source WITH (a = -1, b = +2.5, c = 1e3, d = 'it''s', "
        "E = FALSE, \"F\" = TRUE, 'g' = '', h.i = 0, j = - 3)"
    )
    assert options(conn) == {
        "a": -1,
        "b": 2.5,
        "c": 1000.0,
        "d": "it's",
        "e": False,
        "f": True,
        "g": "",
        "h.i": 0,
        "j": -3,
    }
    assert conn.options["a"].raw == "-1"
    assert conn.options["d"].raw == "'it''s'"
    assert conn.options["j"].raw == "- 3"
    assert type(options(conn)["a"]) is int and type(options(conn)["e"]) is bool


@settings(max_examples=examples())
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40))
def test_string_option_round_trips(value: str) -> None:
    literal = "'" + value.replace("'", "''") + "'"
    (conn,) = parse_statements(f"CREATE CONNECTION c FROM sse_source WITH (x = {literal});")
    assert conn.options["x"] == OptionValue(value, literal, 1, 47)


def test_comments_and_separators() -> None:
    sql = """
    -- a comment; with a semicolon
    SHOW /* inline; */ tables;;
    ;
    drop view if exists V; DROP CONNECTION c -- trailing
    ; DESCRIBE system.connector_status; desc "T"
    """
    assert parse_statements(sql) == [
        Show("TABLES", line=3, column=5, text="SHOW /* inline; */ tables"),
        Drop("VIEW", "v", True, line=5, column=5, text="drop view if exists V"),
        Drop("CONNECTION", "c", False, line=5, column=28, text="DROP CONNECTION c"),
        Describe(
            "system.connector_status", line=6, column=7, text="DESCRIBE system.connector_status"
        ),
        Describe("T", line=6, column=41, text='desc "T"'),
    ]
    assert parse_statements("  -- nothing\n /* at all */ ") == []


def test_show_and_drop_kinds() -> None:
    assert [s.kind for s in parse_statements("SHOW CONNECTIONS; SHOW VIEWS; SHOW TABLES")] == [
        "CONNECTIONS",
        "VIEWS",
        "TABLES",
    ]
    drops = parse_statements("DROP TABLE t; DROP VIEW v; DROP CONNECTION IF EXISTS c")
    assert [(d.kind, d.name, d.if_exists) for d in drops] == [
        ("TABLE", "t", False),
        ("VIEW", "v", False),
        ("CONNECTION", "c", True),
    ]
    assert drops[0].label == "DROP TABLE"


def test_insert_into() -> None:
    (insert,) = parse_statements("INSERT INTO sink SELECT * FROM stock_stream LIMIT 5;")
    assert isinstance(insert, InsertInto)
    assert insert.target == "sink"
    assert insert.query.sql == "SELECT * FROM stock_stream LIMIT 5"
    assert insert.query.limit == 5


# -- the query scanner -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "sources", "limit"),
    [
        ("SELECT 1", [], None),
        ("SELECT * FROM a, b AS x, System.Logs", ["a", "b", "system.logs"], None),
        ('SELECT * FROM "Quoted"."Name" q', ["Quoted.Name"], None),
        (
            "SELECT * FROM a JOIN b ON a.id = b.id LEFT OUTER JOIN c USING (id)",
            ["a", "b", "c"],
            None,
        ),
        ("SELECT * FROM a t1 JOIN a t2 ON t1.x = t2.x", ["a"], None),
        (
            "SELECT * FROM (SELECT * FROM inner_t) s WHERE x IN (SELECT y FROM other)",
            ["inner_t", "other"],
            None,
        ),
        ("SELECT EXTRACT(year FROM ts), SUBSTRING(s FROM 2) FROM t", ["t"], None),
        ("SELECT * FROM t WHERE a IS DISTINCT FROM b", ["t"], None),
        ("SELECT * FROM read_json('x.json'), t", ["t"], None),
        (
            "WITH recent AS (SELECT * FROM events), b AS (FROM c) SELECT * FROM recent JOIN b ON 1",
            ["events", "c"],
            None,
        ),
        ("SELECT * FROM t, LATERAL (SELECT 1) l ORDER BY a, b LIMIT 3 OFFSET 2", ["t"], 3),
        ("SELECT * FROM t LIMIT 10%", ["t"], None),
        ("SELECT * FROM t LIMIT ALL", ["t"], None),
        ("SELECT * FROM t LIMIT 2 + 3", ["t"], None),
        ("SELECT * FROM (SELECT * FROM t LIMIT 4) s", ["t"], None),
        ("SELECT * FROM t FETCH FIRST 7 ROWS ONLY", ["t"], 7),
        ("SELECT * FROM t WHERE ts > NOW() - INTERVAL '1 minute' LIMIT 1", ["t"], 1),
        ("SELECT 'FROM x', \"from\" FROM t -- FROM y\n", ["t"], None),
        ("SELECT * FROM a UNION ALL SELECT * FROM b", ["a", "b"], None),
        ("SELECT data->>'$.x', a::INT, [1, 2][1] FROM t", ["t"], None),
    ],
)
def test_query_sources_and_limit(sql: str, sources: list[str], limit: int | None) -> None:
    (select,) = parse_statements(sql)
    assert select.query.sql == sql.rstrip().removesuffix("-- FROM y").rstrip()
    assert select.query.sources == sources
    assert select.query.limit == limit


# -- errors ------------------------------------------------------------------------------


def error_of(sql: str) -> SQLError:
    with pytest.raises(SQLError) as info:
        parse_statements(sql)
    return info.value


def test_unknown_statement_suggests_keyword() -> None:
    error = error_of("CREAT TABLE x (a TEXT)")
    assert (error.line, error.column) == (1, 1)
    assert "unknown statement CREAT" in error.message
    assert "did you mean 'CREATE'?" in error.message
    assert error.excerpt == "1 | CREAT TABLE x (a TEXT)\n  | ^^^^^"
    assert str(error).startswith("line 1, column 1: unknown statement CREAT")
    assert "statements start with one of" in error_of("FOO").message


def test_missing_with_parenthesis() -> None:
    error = error_of(
        "CREATE CONNECTION sse_stream FROM sse_source\nWITH\n  endpoint = 'https://x'\n"
    )
    assert (error.line, error.column) == (3, 3)
    assert error.message.startswith("CREATE CONNECTION sse_stream: expected '(' after WITH")
    assert "write WITH (key = value, ...)" in error.message
    assert error.excerpt == "3 |   endpoint = 'https://x'\n  |   ^^^^^^^^"


def test_unterminated_string_points_at_its_start() -> None:
    error = error_of("CREATE TABLE t (a TEXT)\nWITH (\n  format = 'json,\n  x = 1\n)")
    assert (error.line, error.column) == (3, 12)
    assert "unterminated string" in error.message
    assert error.excerpt.endswith("  |            ^")


def test_unterminated_comment_and_identifier() -> None:
    assert error_of("SELECT 1 /* never closed").column == 10
    assert "quoted identifier" in error_of('SELECT "abc').message


def test_duplicate_column() -> None:
    error = error_of("CREATE TABLE t (\n  id TEXT,\n  ID INT\n)")
    assert (error.line, error.column) == (3, 3)
    assert "CREATE TABLE t: duplicate column 'id'" in error.message
    assert "line 2, column 3" in error.message


def test_duplicate_option() -> None:
    error = error_of("CREATE TABLE t (a TEXT) WITH (\n  format = 'json',\n  FORMAT = 'text'\n)")
    assert (error.line, error.column) == (3, 3)
    assert "duplicate option 'format'" in error.message
    assert error.message.startswith("CREATE TABLE t:")


@pytest.mark.parametrize(
    ("sql", "fragment", "position"),
    [
        ("SHOW TABELS", "did you mean 'TABLES'?", (1, 6)),
        ("CREATE TABEL t (a TEXT)", "did you mean 'TABLE'?", (1, 8)),
        ("CREATE CONNECTION c FORM sse_source", "did you mean 'FROM'?", (1, 21)),
        ("CREATE VIEW v SELECT 1", "expected AS", (1, 15)),
        ("CREATE TABLE t (a TEXT) WTIH (x = 1)", "did you mean 'WITH'?", (1, 25)),
        ("CREATE TABLE t (a TEXT PRIMRY KEY)", "did you mean 'PRIMARY'?", (1, 24)),
        ("CREATE TABLE t (a TEXT PRIMARY KYE)", "did you mean 'KEY'?", (1, 32)),
        ("CREATE TABLE t (a, b TEXT)", "a type for column 'a'", (1, 18)),
        ("CREATE TABLE t ()", "at least one column", (1, 17)),
        ("CREATE TABLE t (a TEXT, PRIMARY KEY (b))", "unknown column 'b'", (1, 38)),
        ("CREATE TABLE t (a TEXT) WITH (format = json)", "write 'json'", (1, 40)),
        ("CREATE TABLE t (a TEXT) WITH (a = 'x' b = 'y')", "is a ',' missing?", (1, 39)),
        ("CREATE TABLE t (a TEXT) WITH (a 'x')", "'=' after option 'a'", (1, 33)),
        ("CREATE TABLE t (a TEXT) WITH (a = )", "a value for option 'a', found ')'", (1, 35)),
        ("CREATE TABLE t (a TEXT) WITH (a = -'x')", "number after the sign", (1, 36)),
        ("CREATE TABLE t (a TEXT) WITH (a = 1", "found the end of the statement", (1, 36)),
        ("CREATE TABLE t AS SELECT 1", "write CREATE VIEW t AS SELECT", (1, 16)),
        ("CREATE OR REPLACE TABLE IF NOT EXISTS t (a TEXT)", "cannot be combined", (1, 25)),
        (
            "CREATE TABLE t (a TEXT) WITH (x = 1)\nCREATE VIEW v AS SELECT 1",
            "is a ';' missing",
            (2, 1),
        ),
        ("DROP STREAM s", "CONNECTION, TABLE or VIEW after DROP", (1, 6)),
        ("SELECT (1))", "unbalanced ')'", (1, 11)),
        ("SELECT * FROM (SELECT 1", "unclosed '('", (1, 15)),
        ("INSERT INTO t (a) SELECT 1", "column list", (1, 15)),
        ("INSERT INTO t UPDATE", "a query", (1, 15)),
        ("DESCRIBE", "a name to describe", (1, 9)),
    ],
)
def test_errors_point_at_the_token(sql: str, fragment: str, position: tuple[int, int]) -> None:
    error = error_of(sql)
    assert fragment in error.message
    assert (error.line, error.column) == position
    assert error.excerpt is not None and "^" in error.excerpt


def test_error_in_later_statement_reports_absolute_position() -> None:
    error = error_of("SHOW TABLES;\n\n  DROP TABLE;")
    assert (error.line, error.column) == (3, 13)
    assert error.message == "DROP TABLE: expected a table name, found the end of the statement"


def test_excerpt_keeps_tabs_aligned() -> None:
    error = error_of("SHOW\tTABELS")
    assert error.excerpt == "1 | SHOW\tTABELS\n  |     \t^^^^^^"


# -- shell helpers and tokenizer --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("", False),
        ("SELECT 1", False),
        ("SELECT 1;", True),
        ("SELECT 1;  \n", True),
        ("SELECT 1; -- done", True),
        ("SELECT ';", False),
        ("SELECT 1 /* ; */", False),
        ("SELECT 1 -- ;", False),
        ("SELECT 'a;b' ;", True),
        ("SELECT 1; SELECT 2", False),
    ],
)
def test_statement_complete(text: str, complete: bool) -> None:
    assert statement_complete(text) is complete


def test_split_statements() -> None:
    assert split_statements("SELECT ';'; -- x\n SHOW TABLES ;;") == ["SELECT ';'", "SHOW TABLES"]
    assert split_statements("  ") == []
    assert split_statements("SELECT 'open") == ["SELECT 'open"]


def test_parse_statement_requires_exactly_one() -> None:
    assert isinstance(parse_statement("SHOW TABLES;"), Show)
    with pytest.raises(SQLError, match="exactly one statement"):
        parse_statement("SHOW TABLES; SHOW VIEWS")
    with pytest.raises(SQLError, match="no statement"):
        parse_statement("-- nothing")


def test_tokens_carry_exact_spans() -> None:
    sql = "SELECT a::INT, 'x''y' -- c\n FROM \"T\" WHERE b >= 1.5e3;"
    tokens = tokenize(sql)
    assert all(sql[t.start : t.end] == t.text for t in tokens)
    assert [t.type for t in tokens][:4] == [
        TokenType.WORD,
        TokenType.WORD,
        TokenType.OP,
        TokenType.WORD,
    ]
    from_token = next(t for t in tokens if t.upper == "FROM")
    assert (from_token.line, from_token.column) == (2, 2)
    assert [t.text for t in tokens if t.type is TokenType.NUMBER] == ["1.5e3"]


def test_statements_are_frozen() -> None:
    (show,) = parse_statements("SHOW TABLES")
    with pytest.raises(AttributeError):
        show.kind = "VIEWS"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("node", "parts"),
    [
        (CreateConnection, ["name", "connector", "options", "if_not_exists", "or_replace"]),
        (CreateTable, ["name", "columns", "options", "if_not_exists", "or_replace", "watermark"]),
        (CreateView, ["name", "query", "or_replace", "if_not_exists"]),
        (Select, ["query"]),
        (InsertInto, ["target", "query"]),
        (Drop, ["kind", "name", "if_exists"]),
        (Show, ["kind"]),
        (Describe, ["name"]),
        (Query, ["sql", "sources", "limit", "line", "column"]),
        (ColumnDef, ["name", "type", "primary_key", "not_null", "line", "column"]),
        (OptionValue, ["value", "raw", "line", "column"]),
    ],
)
def test_nodes_declare_their_parts(node: type, parts: list[str]) -> None:
    positional = [f.name for f in dataclasses.fields(node) if not f.kw_only]
    assert positional == parts
    if node not in (Query, ColumnDef, OptionValue):
        keyword = [f.name for f in dataclasses.fields(node) if f.kw_only]
        assert keyword == ["line", "column", "text"]


def test_a_query_sqlglot_cannot_read_is_reported_where_it_fails() -> None:
    error = error_of("CREATE VIEW v AS\nSELECT *\nFROM t WHERE a = = 1")
    assert (error.line, error.column) == (3, 18)
    assert error.message.startswith("cannot read the query: ")
    assert "(line" not in error.message  # one position: the statement's
    assert error.excerpt == "3 | FROM t WHERE a = = 1\n  |                  ^"


def test_window_fields_are_quoted_for_duckdb() -> None:
    (select,) = parse_statements(
        "SELECT window.start, w.Window.end, 'window.x' AS s FROM v w WINDOW x AS ();"
    )
    assert isinstance(select, Select)
    assert select.query.sql == (
        """SELECT "window".start, w."Window".end, 'window.x' AS s FROM v w WINDOW x AS ()"""
    )


def test_explain_takes_a_query() -> None:
    (explain,) = parse_statements("EXPLAIN SELECT a FROM t WHERE a > 1;")
    assert isinstance(explain, Explain)
    assert explain.query.sql == "SELECT a FROM t WHERE a > 1" and explain.query.sources == ["t"]
    with pytest.raises(SQLError, match="a query"):
        parse_statements("EXPLAIN DROP TABLE t")
