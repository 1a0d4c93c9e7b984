"""The SQL surface against real local SSE servers: DDL, errors, continuous queries."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pyarrow as pa
import pytest
from tests.support.sse_server import SSEServer, Stream, event, events, sleep, stall, wait

from laminar.api import _rows, connect
from laminar.errors import CatalogError, ConfigError, PayloadError, SQLError
from laminar.sql.continuous import ContinuousQuery
from laminar.sql.engine import Engine, Message, Rows


async def collect(result: Any) -> list[dict[str, Any]]:
    assert isinstance(result, ContinuousQuery)
    rows: list[dict[str, Any]] = []
    async for table in result.arrow_batches():
        rows.extend(_rows(table))
    return rows


async def stream_rows(
    stream: Stream, table: str, query: str
) -> tuple[list[dict[str, Any]], ContinuousQuery]:
    """Serve ``stream``, create ``table`` (``{url}`` is its endpoint), run ``query`` to its end."""
    async with SSEServer(stream) as server:
        engine = Engine(env={})
        engine.execute(table.replace("{url}", server.url))
        [running] = engine.execute(query)
        rows = await asyncio.wait_for(collect(running), 10)
    return rows, running


def ticks(*prices: float, start: int = 1, name: str = "tick") -> list:
    return [
        event(json.dumps({"symbol": f"S{i}", "price": p}), event=name, id=str(start + i))
        for i, p in enumerate(prices)
    ]


TABLE = """
CREATE TABLE stock_stream (symbol TEXT, price DOUBLE)
WITH (connector = 'sse_source', endpoint = '{url}', buffer_timeout_ms = 20,
      reconnect_interval_ms = 10);
"""


# -- DDL ----------------------------------------------------------------------------


def test_ddl_lifecycle_and_show_describe() -> None:
    engine = Engine(env={})
    results = engine.execute(
        """
        CREATE CONNECTION feed FROM sse_source WITH (endpoint = 'http://127.0.0.1:1/x');
        CREATE TABLE t (id TEXT PRIMARY KEY, price DECIMAL(10, 2), data JSON)
            WITH (connector = 'sse_source', connection = 'feed');
        CREATE VIEW v AS SELECT id, price * 2 AS double_price FROM t WHERE price > 1;
        """
    )
    assert [r.text for r in results] == [
        "CREATE CONNECTION feed",
        "CREATE TABLE t",
        "CREATE VIEW v",
    ]
    [tables] = engine.execute("SHOW TABLES")
    assert isinstance(tables, Rows) and tables.as_dicts()[0]["name"] == "t"
    [view] = engine.execute("DESCRIBE v")
    assert view.rows == [("id", "VARCHAR", False), ("double_price", "DECIMAL(18,2)", False)]
    [table] = engine.execute("DESCRIBE t")
    assert table.rows[0] == ("id", "TEXT", True)  # as declared
    assert table.rows[2] == ("data", "JSON", False)
    with pytest.raises(CatalogError, match="v still uses 't'"):
        engine.execute("DROP TABLE t")
    with pytest.raises(CatalogError, match="t still uses 'feed'"):
        engine.execute("DROP CONNECTION feed")
    engine.execute("DROP VIEW v; DROP TABLE t; DROP CONNECTION feed")
    assert engine.execute("DROP VIEW IF EXISTS v")[0].text == "VIEW v does not exist, skipped"
    with pytest.raises(CatalogError, match="does not exist — did you mean"):
        engine.execute(
            "CREATE TABLE ticker (a TEXT) WITH (endpoint = 'http://x/y'); DROP TABLE tickr"
        )


def test_if_not_exists_and_or_replace() -> None:
    engine = Engine(env={})
    engine.execute("CREATE CONNECTION c FROM sse_source WITH (endpoint = 'http://a/1')")
    with pytest.raises(CatalogError, match="already exists; use CREATE OR REPLACE CONNECTION"):
        engine.execute("CREATE CONNECTION c FROM sse_source WITH (endpoint = 'http://a/2')")
    [skipped] = engine.execute(
        "CREATE CONNECTION IF NOT EXISTS c FROM sse_source WITH (endpoint = 'http://a/2')"
    )
    assert isinstance(skipped, Message) and "skipped" in skipped.text
    assert engine.catalog.connections["c"].options.endpoint == "http://a/1"
    engine.execute("CREATE OR REPLACE CONNECTION c FROM sse_source WITH (endpoint = 'http://a/3')")
    assert engine.catalog.connections["c"].options.endpoint == "http://a/3"


def test_show_never_prints_secrets() -> None:
    engine = Engine(env={"SSE_TOKEN": "from-env-secret"})
    engine.execute(
        """
        CREATE CONNECTION a FROM sse_source WITH (
            endpoint = 'https://api.example.com/stream?api_key=k3y',
            auth_type = 'bearer', token = 'literal-secret',
            headers = '{"Authorization": "Basic xyz", "X-Client-Id": "visible"}');
        CREATE CONNECTION c FROM sse_source WITH (
            endpoint = 'https://user:hunter2@api.example.com/stream');
        CREATE CONNECTION b FROM sse_source WITH (
            endpoint = 'https://api.example.com/s', token = '${SSE_TOKEN}');
        CREATE TABLE t (data JSON) WITH (connection = 'a', api_key = 'inline-key');
        """
    )
    shown = repr([engine.execute(s)[0].rows for s in ("SHOW CONNECTIONS", "SHOW TABLES")])
    shown += repr([engine.execute(f"DESCRIBE {n}")[0].rows for n in ("a", "b", "c", "t")])
    for secret in ("literal-secret", "hunter2", "k3y", "Basic xyz", "inline-key", "from-env"):
        assert secret not in shown
    assert "visible" in shown


def test_errors_name_the_option_position_and_suggest_a_fix() -> None:
    engine = Engine(env={})
    sql = (
        "CREATE TABLE x (a TEXT)\n"
        "WITH (endpoint = 'http://a/b',\n"
        "      reconect_interval_ms = 5);"
    )
    with pytest.raises(ConfigError) as info:
        engine.execute(sql)
    message = str(info.value)
    assert message.startswith("line 3, column 30: CREATE TABLE x")  # at the option's value
    assert "did you mean 'reconnect_interval_ms'?" in message
    with pytest.raises(ConfigError, match="buffer_size: expected a whole number"):
        engine.execute(
            "CREATE TABLE y (a TEXT) WITH (endpoint = 'http://a/b', buffer_size = 'lots')"
        )
    with pytest.raises(ConfigError, match="between 1 and"):
        engine.execute("CREATE TABLE y (a TEXT) WITH (endpoint = 'http://a/b', parallelism = 0)")
    with pytest.raises(ConfigError, match="no endpoint"):
        engine.execute("CREATE TABLE z (a TEXT) WITH (format = 'json')")
    with pytest.raises(CatalogError, match="connection 'nope' does not exist"):
        engine.execute("CREATE TABLE z (a TEXT) WITH (connection = 'nope')")
    with pytest.raises(ConfigError, match="got 'jsn' — did you mean 'json'"):
        engine.execute("CREATE TABLE z (a TEXT) WITH (endpoint = 'http://a/b', format = 'jsn')")
    with pytest.raises(ConfigError, match=r"partition_by: 'evnt_type'.*did you mean 'event_type'"):
        engine.execute(
            "CREATE TABLE z (a TEXT) WITH (endpoint = 'http://a/b', partition_by = 'evnt_type')"
        )
    with pytest.raises(ConfigError, match="event_type_filter: expected a JSON array"):
        engine.execute(
            "CREATE TABLE z (a TEXT) WITH (endpoint = 'http://a/b', event_type_filter = 'a,b')"
        )
    with pytest.raises(CatalogError, match="unknown table or view 'stock_strem'"):
        engine.execute("SELECT * FROM stock_strem")
    assert "z" not in engine.catalog.tables  # a failed statement leaves nothing behind


def test_compatibility_spellings() -> None:
    engine = Engine(env={})
    engine.execute(
        "CREATE TABLE t (data JSON) WITH (connector = 'sse', endpoint = 'http://a/b', "
        "events = 'post, comment', headers = 'X-One: 1,X-Two: two')"
    )
    table = engine.catalog.resolve_table("t")
    assert table.options.event_type_filter == ("post", "comment")
    assert table.connection.headers == {"X-One": "1", "X-Two": "two"}


def test_inline_options_override_the_named_connection() -> None:
    engine = Engine(env={})
    engine.execute(
        "CREATE CONNECTION c FROM sse_source WITH (endpoint = 'http://a/1', timeout_ms = 5000);"
        "CREATE TABLE t (data JSON) WITH (connection = 'c', endpoint = 'http://a/2')"
    )
    table = engine.catalog.resolve_table("t")
    assert table.connection.endpoint == "http://a/2"
    assert table.connection.timeout_ms == 5000


def test_batch_dependent_queries_and_stream_joins_are_refused_with_a_reason() -> None:
    engine = Engine(env={})
    engine.execute(TABLE.format(url="http://a/b"))
    engine.execute("CREATE TABLE other (symbol TEXT) WITH (endpoint = 'http://a/c')")
    batch_dependent = {
        "SELECT * FROM stock_stream ORDER BY price DESC LIMIT 3": "ORDER BY",
        "SELECT * FROM stock_stream LIMIT 2 OFFSET 3": "OFFSET",
        "SELECT a.symbol FROM stock_stream a JOIN stock_stream b USING (symbol)": "more than once",
        "SELECT * FROM stock_stream UNION ALL SELECT * FROM stock_stream": "more than once",
        "SELECT symbol, row_number() OVER () FROM stock_stream": "window function",
    }
    for sql, reason in batch_dependent.items():
        with pytest.raises(SQLError, match=reason):
            engine.execute(sql)
    with pytest.raises(SQLError, match="reads 2 streams"):
        engine.execute("SELECT * FROM stock_stream JOIN other USING (symbol)")
    with pytest.raises(SQLError, match="line 1, column 1"):
        engine.execute("SELECT no_such_column FROM stock_stream")


# -- continuous queries ----------------------------------------------------------------


async def test_continuous_select_filters_and_stops_at_limit() -> None:
    async with SSEServer(Stream(*ticks(5, 1500, 20, 2000, 3000, 4))) as server:
        engine = Engine(env={})
        engine.execute(TABLE.format(url=server.url))
        engine.execute("CREATE VIEW alerts AS SELECT * FROM stock_stream WHERE price > 1000")
        [query] = engine.execute("SELECT symbol, price FROM alerts LIMIT 2")
        rows = await collect(query)
    assert rows == [{"symbol": "S1", "price": 1500.0}, {"symbol": "S3", "price": 2000.0}]
    assert query.stats.state == "finished"
    assert not engine.queries  # a finished query is forgotten


async def test_stream_end_with_204_ends_the_query() -> None:
    # the script serves 3 events and ends; the reconnection gets the default 204: stop
    async with SSEServer(Stream(*ticks(1, 2, 3))) as server:
        engine = Engine(env={})
        engine.execute(TABLE.format(url=server.url) + ";")
        [query] = engine.execute("SELECT price FROM stock_stream")
        rows = await asyncio.wait_for(collect(query), 10)
        assert [r["price"] for r in rows] == [1, 2, 3]
        assert server.requests[1].last_event_id == "3"


async def test_row_latency_at_low_rate_is_buffer_timeout_plus_a_little() -> None:
    go = asyncio.Event()
    async with SSEServer(Stream(*ticks(1), wait(go), *ticks(2, start=2), sleep(5))) as server:
        engine = Engine(env={})
        engine.execute(TABLE.format(url=server.url))
        [query] = engine.execute("SELECT price FROM stock_stream LIMIT 2")
        batches = query.arrow_batches()
        await batches.__anext__()
        sent = time.monotonic()
        go.set()
        await batches.__anext__()
        latency_ms = (time.monotonic() - sent) * 1000
        await batches.aclose()
    assert latency_ms < 20 + 150  # buffer_timeout_ms = 20, plus loopback and a loaded CI


async def test_json_output_renders_timestamps_and_json_columns() -> None:
    payload = {"symbol": "A", "timestamp": "2026-11-28T09:00:00.5Z", "meta": {"k": [1, 2]}}
    async with SSEServer(Stream(event(json.dumps(payload), id="1"))) as server:
        engine = Engine(env={})
        engine.execute(
            "CREATE TABLE t (symbol TEXT, timestamp TIMESTAMP, meta JSON) "
            f"WITH (endpoint = '{server.url}', buffer_timeout_ms = 10)"
        )
        [query] = engine.execute("SELECT * FROM t LIMIT 1")
        lines = [line async for batch in query.json_batches() for line in batch]
    assert [json.loads(line) for line in lines] == [
        {"symbol": "A", "timestamp": "2026-11-28T09:00:00.500000Z", "meta": {"k": [1, 2]}}
    ]


async def test_continue_on_error_false_stops_naming_table_and_event() -> None:
    stream = Stream(event('{"price": 1}', id="1"), event("not json", id="2"), sleep(5))
    async with SSEServer(stream) as server:
        engine = Engine(env={})
        engine.execute(
            f"CREATE TABLE prices (price DOUBLE) WITH (endpoint = '{server.url}', "
            "continue_on_error = false, buffer_timeout_ms = 10)"
        )
        [query] = engine.execute("SELECT * FROM prices")
        with pytest.raises(PayloadError, match=r"prices.*\b2\b"):
            await asyncio.wait_for(collect(query), 10)
    assert query.stats.state == "failed"


async def test_bad_payloads_dropped_and_counted_by_default() -> None:
    stream = Stream(event('{"price": 1}', id="1"), event("{oops", id="2"),
                    event('{"price": "abc"}', id="3"), event('{"price": 4}', id="4"))
    rows, query = await stream_rows(
        stream,
        "CREATE TABLE p (price DOUBLE) WITH (endpoint = '{url}', "
        "reconnect_interval_ms = 1)",
        "SELECT * FROM p",
    )
    assert [r["price"] for r in rows] == [1, 4]
    assert query.stats.parse_errors == 2 and query.stats.events_dropped == 2


async def test_event_type_filter_and_dedup_by_column() -> None:
    stream = Stream(
        event('{"k": "a"}', event="keep", id="1"),
        event('{"k": "b"}', event="skip", id="2"),
        event('{"k": "a"}', event="keep", id="3"),
        event('{"k": "c"}', event="keep", id="4"),
    )
    rows, query = await stream_rows(
        stream,
        "CREATE TABLE t (k TEXT) WITH (endpoint = '{url}', "
        "event_type_filter = '[\"keep\"]', deduplicate_by = 'k', dedup_window_ms = 60000, "
        "reconnect_interval_ms = 1)",
        "SELECT k FROM t",
    )
    assert [r["k"] for r in rows] == ["a", "c"]
    assert query.stats.events_filtered == 1 and query.stats.events_deduplicated == 1


async def test_parallel_partitions_keep_order_per_key() -> None:
    names = ["post", "like", "comment"]
    stream = Stream(*[
        event(json.dumps({"n": i}), event=names[i % 3], id=str(i)) for i in range(60)
    ])
    rows, query = await stream_rows(
        stream,
        "CREATE TABLE t (n INTEGER, event_type TEXT) WITH (endpoint = '{url}', "
        "parallelism = 3, partition_by = 'event_type', reconnect_interval_ms = 1)",
        "SELECT n, event_type FROM t",
    )
    assert sorted(r["n"] for r in rows) == list(range(60))
    for name in names:
        per_key = [r["n"] for r in rows if r["event_type"] == name]
        assert per_key == sorted(per_key)
    assert sum(query.stats.partitions) == 60 and len(query.stats.partitions) == 3


async def test_python_api_async_iteration(sse_server: SSEServer) -> None:
    sse_server.add(Stream(events(5, data='{"price": 7}')))
    db = connect(env={})
    db.execute(TABLE.format(url=sse_server.url))
    cursor = db.execute("SELECT price FROM stock_stream LIMIT 3")
    assert cursor.is_continuous and cursor.columns == ["price"]
    assert [row async for row in cursor] == [{"price": 7.0}] * 3


def test_python_api_sync_iteration_and_one_shot() -> None:
    async def serve(ready: asyncio.Future, stop: asyncio.Event) -> None:
        # The first stays open: the LIMIT query closes it, and the next query gets the next.
        streams = [Stream(events(4, data='{"price": 2}'), stall()) for _ in range(2)]
        async with SSEServer(*streams) as server:
            ready.set_result(server.url)
            await stop.wait()

    import threading

    loop = asyncio.new_event_loop()
    ready: asyncio.Future = loop.create_future()
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(ready, stop),))
    thread.start()
    try:
        url = _wait_future(ready)
        with connect(env={}) as db:
            db.execute(TABLE.format(url=url))
            rows = list(db.execute("SELECT price FROM stock_stream LIMIT 2"))
            assert rows == [{"price": 2.0}] * 2
            batches = list(db.execute("SELECT price FROM stock_stream LIMIT 3").batches())
            assert all(isinstance(b, pa.RecordBatch) and b.num_rows for b in batches)
            assert sum(b.num_rows for b in batches) == 3
            [one] = list(db.execute("SELECT 1 AS x FROM system.connector_status").batches())
            assert isinstance(one, pa.RecordBatch)
            for _ in db.execute("SELECT price FROM stock_stream"):
                break  # leaving early closes the query
            assert not db.engine.queries
            status = db.execute("SELECT table_name FROM system.connector_status").fetchall()
            assert status == [{"table_name": "stock_stream"}]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(5)


def _wait_future(future: asyncio.Future) -> str:
    deadline = time.monotonic() + 5
    while not future.done():
        if time.monotonic() > deadline:
            raise TimeoutError("test server did not start")
        time.sleep(0.01)
    return future.result()


async def test_python_api_insert_into_runs_into_the_sink(tmp_path) -> None:
    from laminar.errors import LaminarError

    async with SSEServer(Stream(*ticks(5, 1500, 20, 2000))) as server:
        db = connect(env={})
        db.execute(TABLE.format(url=server.url))
        db.execute(
            "CREATE TABLE alerts (symbol TEXT, price DOUBLE) WITH (connector = 'filesystem', "
            f"path = '{tmp_path}', format = 'json')"
        )
        cursor = db.execute("INSERT INTO alerts SELECT * FROM stock_stream WHERE price > 1000")
        assert cursor.is_insert
        with pytest.raises(LaminarError, match=r"call cursor\.run"):
            next(iter(cursor))
        await asyncio.wait_for(cursor.arun(), 10)
    lines = [json.loads(line) for f in sorted(tmp_path.glob("*.jsonl")) for line in f.open()]
    assert lines == [{"symbol": "S1", "price": 1500.0}, {"symbol": "S3", "price": 2000.0}]


async def test_sink_columns_take_their_declared_types(tmp_path) -> None:
    import pyarrow.parquet as pq

    async with SSEServer(Stream(*ticks(1500.5, 20))) as server:
        db = connect(env={})
        db.execute(
            "CREATE TABLE prices (symbol TEXT, price DECIMAL(10, 2)) "
            f"WITH (endpoint = '{server.url}', reconnect_interval_ms = 1)"
        )
        db.execute(
            "CREATE TABLE out (price FLOAT, symbol TEXT) WITH (connector = 'filesystem', "
            f"path = '{tmp_path}', format = 'parquet')"
        )
        await asyncio.wait_for(db.execute("INSERT INTO out SELECT * FROM prices").arun(), 10)
    [table] = [pq.read_table(f) for f in tmp_path.glob("*.parquet")]
    assert table.schema.names == ["price", "symbol"]
    assert str(table.schema.field("price").type) == "double"  # FLOAT is DOUBLE, as declared
    assert table.to_pylist() == [{"price": 1500.5, "symbol": "S0"}, {"price": 20.0, "symbol": "S1"}]


def test_one_shot_queries_cannot_read_files(tmp_path) -> None:
    secret = tmp_path / "token.txt"
    secret.write_text("s3cr3t")
    engine = Engine(env={})
    with pytest.raises(SQLError, match="Permission Error"):
        engine.execute(f"SELECT content FROM read_text('{secret}')")
    [rows] = engine.execute("SELECT 1 AS one")  # the sandbox still answers queries
    assert rows.rows == [(1,)]


def test_replacing_a_view_keeps_the_views_that_read_it_working(tmp_path) -> None:
    from laminar.runtime.state import StateStore

    sql = (
        TABLE.format(url="http://127.0.0.1:1/x") + ";"
        "CREATE VIEW v2 AS SELECT * FROM stock_stream;"
        "CREATE VIEW v1 AS SELECT symbol FROM v2;"
        "CREATE OR REPLACE VIEW v2 AS SELECT * FROM stock_stream WHERE price > 1;"
    )
    with StateStore.open(tmp_path) as state:
        engine = Engine(env={}, state=state)
        engine.execute(sql)
        [described] = engine.execute("DESCRIBE v1")
        assert described.rows == [("symbol", "VARCHAR", False)]
    with StateStore.open(tmp_path) as state:  # a restart replays v1 although v2 is stored last
        restarted = Engine(env={}, state=state)
        assert set(restarted.catalog.views) == {"v1", "v2"}
        [again] = restarted.execute("DESCRIBE v1")
        assert again.rows == [("symbol", "VARCHAR", False)]


async def test_dedup_by_column_also_applies_with_sse_partitions() -> None:
    stream = Stream(*[
        event(json.dumps({"order_id": "o-1"}), event=kind, id=str(i))
        for i, kind in enumerate(["post", "like", "comment"])
    ])
    rows, query = await stream_rows(
        stream,
        "CREATE TABLE t (order_id TEXT) WITH (endpoint = '{url}', parallelism = 2, "
        "partition_by = 'event_type', deduplicate_by = 'order_id', reconnect_interval_ms = 1)",
        "SELECT order_id FROM t",
    )
    assert rows == [{"order_id": "o-1"}]
    assert query.stats.events_deduplicated == 2


def test_system_names_inside_string_literals_stay_as_written() -> None:
    engine = Engine(env={})
    [rows] = engine.execute(
        "SELECT 'see system.connector_logs' AS hint FROM system.connector_status"
    )
    assert rows.columns == ["hint"]  # no table: no rows, but the query ran and kept its text
    [one] = engine.execute("SELECT 'system.connector_logs' AS hint")
    assert one.rows == [("system.connector_logs",)]


def test_names_differing_only_in_case_are_refused() -> None:
    engine = Engine(env={})
    engine.execute("""CREATE TABLE "Events" (a TEXT) WITH (endpoint = 'http://a/b')""")
    with pytest.raises(CatalogError, match="only in case"):
        engine.execute('CREATE VIEW events AS SELECT * FROM "Events"')


async def test_json_output_is_valid_json_even_for_nan_and_infinity() -> None:
    async with SSEServer(Stream(event('{"price": 4}', id="1"))) as server:
        engine = Engine(env={})
        engine.execute(TABLE.format(url=server.url))
        [query] = engine.execute(
            "SELECT price / 0 AS inf, sqrt(-price) AS nan, price FROM stock_stream LIMIT 1"
        )
        lines = [line async for batch in query.json_batches() for line in batch]
    assert [json.loads(line) for line in lines] == [{"inf": None, "nan": None, "price": 4.0}]
