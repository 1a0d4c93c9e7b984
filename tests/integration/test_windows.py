"""Windows and aggregates over real local SSE streams: the issue's queries, as written."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from tests.chaos.test_chaos_kill import until
from tests.integration.test_sql_engine import collect
from tests.support.sse_server import SSEServer, Stream, event, wait

from laminar.errors import ConfigError, SQLError
from laminar.runtime.state import StateStore
from laminar.sql.continuous import ContinuousQuery
from laminar.sql.engine import Engine
from laminar.sql.pipelines import run_all

TRADES = """
CREATE TABLE trades (symbol TEXT, price DOUBLE, volume BIGINT, ts TIMESTAMP) WITH (
    connector = 'sse_source', endpoint = '{url}', format = 'json',
    event_time_field = 'ts', watermark_delay_ms = 2000,
    buffer_timeout_ms = 10, reconnect_interval_ms = 10);
"""


def trade(i: int, symbol: str, price: float, volume: int, second: float) -> Any:
    ts = f"2026-01-01T00:00:{second:09.6f}Z" if second < 60 else None
    if ts is None:
        minutes, rest = divmod(second, 60)
        ts = f"2026-01-01T00:{int(minutes):02d}:{rest:09.6f}Z"
    payload = {"symbol": symbol, "price": price, "volume": volume, "ts": ts}
    return event(json.dumps(payload), id=str(i))


def window(start: str, end: str) -> dict[str, str]:
    return {"start": f"2026-01-01T00:{start}.000000Z", "end": f"2026-01-01T00:{end}.000000Z"}


async def run_json(stream: Stream, ddl: str, query: str) -> list[dict[str, Any]]:
    async with SSEServer(stream) as server:
        engine = Engine(env={})
        engine.execute(ddl.replace("{url}", server.url))
        [running] = engine.execute(query)
        assert isinstance(running, ContinuousQuery)
        rows: list[dict[str, Any]] = []

        async def drain() -> None:
            async for lines in running.json_batches():
                rows.extend(json.loads(line) for line in lines)

        await asyncio.wait_for(drain(), 20)
    return rows


TRADES_STREAM = [
    trade(1, "A", 10.0, 1, 1),
    trade(2, "B", 20.0, 2, 2),
    trade(3, "A", 30.0, 3, 9.5),
    trade(4, "A", 50.0, 4, 11),  # next window
    trade(5, "B", 60.0, 5, 12.5),
    trade(6, "A", 70.0, 6, 25),  # watermark 23: closes [10, 20)
]


async def test_tumbling_window_arroyo_spelling() -> None:
    rows = await run_json(
        Stream(*TRADES_STREAM),
        TRADES,
        "SELECT symbol, COUNT(*) AS trades, AVG(price) AS avg_price, SUM(volume) AS volume, "
        "TUMBLE(INTERVAL '10' SECOND) AS window FROM trades GROUP BY symbol, window",
    )
    assert rows == [
        {"symbol": "A", "trades": 2, "avg_price": 20.0, "volume": 4,
         "window": window("00:00", "00:10")},
        {"symbol": "B", "trades": 1, "avg_price": 20.0, "volume": 2,
         "window": window("00:00", "00:10")},
        {"symbol": "A", "trades": 1, "avg_price": 50.0, "volume": 4,
         "window": window("00:10", "00:20")},
        {"symbol": "B", "trades": 1, "avg_price": 60.0, "volume": 5,
         "window": window("00:10", "00:20")},
        # the source ended for good: the open window is emitted too
        {"symbol": "A", "trades": 1, "avg_price": 70.0, "volume": 6,
         "window": window("00:20", "00:30")},
    ]


async def test_windows_close_when_the_watermark_passes_not_at_the_end() -> None:
    go = asyncio.Event()
    stream = Stream(*TRADES_STREAM[:3], trade(4, "A", 1.0, 1, 12.5), wait(go), TRADES_STREAM[5])
    async with SSEServer(stream) as server:
        engine = Engine(env={})
        engine.execute(TRADES.replace("{url}", server.url))
        [running] = engine.execute(
            "SELECT symbol, COUNT(*) AS n, TUMBLE(INTERVAL '10' SECOND) AS window "
            "FROM trades GROUP BY symbol, window"
        )
        batches = running.json_batches()
        first = await asyncio.wait_for(batches.__anext__(), 10)
        # 12.5 s - 2 s delay passed 10 s: the first window is out before the stream goes on
        assert [json.loads(line)["n"] for line in first] == [2, 1]
        go.set()
        rest = [json.loads(line) async for lines in batches for line in lines]
    assert [(r["symbol"], r["n"], r["window"]["start"][14:19]) for r in rest] == [
        ("A", 1, "00:10"),
        ("A", 1, "00:20"),
    ]


async def test_hop_with_having_and_expression() -> None:
    events = [trade(i + 1, "A", float(i), 1, i * 4) for i in range(8)]  # 0, 4, … 28 s
    rows = await run_json(
        Stream(*events),
        TRADES,
        "SELECT symbol, MAX(price) - MIN(price) AS spread, "
        "HOP(INTERVAL '10 SECONDS', INTERVAL '20 SECONDS') AS window "
        "FROM trades GROUP BY symbol, window HAVING COUNT(*) > 2",
    )
    # 20 s windows every 10 s: [-10,10) holds 0,4,8; [0,20) 0..16; [10,30) 12..28; [20,40) 20..28
    spans = [(r["window"]["start"][14:19], r["spread"]) for r in rows]
    assert spans == [("59:50", 2.0), ("00:00", 4.0), ("00:10", 4.0), ("00:20", 2.0)]


async def test_session_windows_per_user() -> None:
    ddl = """CREATE TABLE clicks (user_id TEXT, at TIMESTAMP) WITH (endpoint = '{url}',
        event_time_field = 'at', buffer_timeout_ms = 10, reconnect_interval_ms = 10)"""

    def click(i: int, user: str, second: int) -> Any:
        return event(json.dumps({"user_id": user, "at": f"2026-01-01T00:00:{second:02d}Z"}),
                     id=str(i))

    stream = Stream(click(1, "u1", 0), click(2, "u2", 1), click(3, "u1", 20), click(4, "u2", 40),
                    click(5, "u1", 55))
    rows = await run_json(
        stream,
        ddl,
        "SELECT user_id, COUNT(*) AS actions, SESSION(INTERVAL '30' SECOND) AS window "
        "FROM clicks GROUP BY user_id, window",
    )
    got = [(r["user_id"], r["actions"], r["window"]["start"][17:19], r["window"]["end"][14:19])
           for r in rows]
    # u1: 0, 20 (gap < 30) then 55 (gap 35): two sessions; u2: 1 then 40: two sessions
    assert sorted(got) == [
        ("u1", 1, "55", "01:25"),
        ("u1", 2, "00", "00:50"),
        ("u2", 1, "01", "00:31"),
        ("u2", 1, "40", "01:10"),
    ]


async def test_flink_spelling() -> None:
    rows = await run_json(
        Stream(*TRADES_STREAM),
        TRADES,
        "SELECT symbol, window_start, window_end, COUNT(*) AS n FROM trades "
        "GROUP BY symbol, TUMBLE(ts, INTERVAL '10' SECOND)",
    )
    assert [(r["symbol"], r["window_start"][14:19], r["window_end"][14:19], r["n"]) for r in rows] \
        == [("A", "00:00", "00:10", 2), ("B", "00:00", "00:10", 1), ("A", "00:10", "00:20", 1),
            ("B", "00:10", "00:20", 1), ("A", "00:20", "00:30", 1)]


async def test_group_by_all_groups_by_the_window_and_the_keys() -> None:
    rows = await run_json(
        Stream(*TRADES_STREAM),
        TRADES,
        "SELECT symbol, COUNT(*) AS n, TUMBLE(INTERVAL '10' SECOND) AS window FROM trades "
        "GROUP BY ALL",
    )
    assert [(r["symbol"], r["window"]["start"][14:19], r["n"]) for r in rows] == [
        ("A", "00:00", 2), ("B", "00:00", 1), ("A", "00:10", 1), ("B", "00:10", 1),
        ("A", "00:20", 1),
    ]


async def test_a_view_reads_the_window_fields() -> None:
    # `window` is a reserved word to DuckDB: window.start is quoted for it
    rows = await run_json(
        Stream(*TRADES_STREAM),
        TRADES + "CREATE VIEW per10 AS SELECT symbol, COUNT(*) AS n, "
        "TUMBLE(INTERVAL '10' SECOND) AS window FROM trades GROUP BY symbol, window;",
        "SELECT window.start AS starts, p.window.end AS ends, n FROM per10 p WHERE n > 1",
    )
    assert rows == [{"starts": window("00:00", "00:10")["start"],
                     "ends": window("00:00", "00:10")["end"], "n": 2}]


PER_WINDOW = (
    "CREATE VIEW per10 AS SELECT symbol, SUM(volume) AS volume, "
    "TUMBLE(INTERVAL '10' SECOND) AS window FROM trades GROUP BY symbol, window;"
)
TOP_ONE = [("A", 4, "00:00"), ("B", 5, "00:10"), ("A", 6, "00:20")]  # by volume, per window


@pytest.mark.parametrize("batching", ["buffer_timeout_ms = 10", "buffer_size = 1"])
async def test_top_n_per_window_over_a_windowed_view(batching: str) -> None:
    # every window comes out whole in one batch: the ranking cannot depend on batching
    rows = await run_json(
        Stream(*TRADES_STREAM),
        TRADES.replace("buffer_timeout_ms = 10", batching) + PER_WINDOW,
        "SELECT symbol, volume, window.start AS starts FROM per10 "
        "QUALIFY row_number() OVER (PARTITION BY window ORDER BY volume DESC) = 1 "
        "ORDER BY window, volume DESC",
    )
    assert [(r["symbol"], r["volume"], r["starts"][14:19]) for r in rows] == TOP_ONE


async def test_flink_top_n_with_subqueries() -> None:
    rows = await run_json(
        Stream(*TRADES_STREAM),
        TRADES,
        "SELECT symbol, volume, window_start FROM ("
        "  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end "
        "    ORDER BY volume DESC) AS rownum FROM ("
        "    SELECT symbol, window_start, window_end, SUM(volume) AS volume FROM trades "
        "    GROUP BY symbol, TUMBLE(ts, INTERVAL '10' SECOND))"
        ") WHERE rownum <= 1 ORDER BY window_start",
    )
    assert [(r["symbol"], r["volume"], r["window_start"][14:19]) for r in rows] == TOP_ONE


async def test_a_windowed_aggregate_ranks_and_sorts_its_own_rows() -> None:
    rows = await run_json(
        Stream(*TRADES_STREAM),
        TRADES,
        "SELECT symbol, SUM(volume) AS volume, TUMBLE(INTERVAL '10' SECOND) AS window "
        "FROM trades GROUP BY symbol, window "
        "QUALIFY row_number() OVER (PARTITION BY window ORDER BY volume DESC) = 1 "
        "ORDER BY window.start LIMIT 2",
    )
    assert [(r["symbol"], r["volume"], r["window"]["start"][14:19]) for r in rows] == TOP_ONE[:2]


async def test_a_cte_that_aggregates_plans_like_a_view() -> None:
    rows = await run_json(
        Stream(*TRADES_STREAM),
        TRADES,
        "WITH big AS (SELECT * FROM trades WHERE volume > 1), "
        "per10 AS (SELECT symbol, COUNT(*) AS n, TUMBLE(INTERVAL '10' SECOND) AS window "
        "FROM big GROUP BY symbol, window) "
        "SELECT symbol, n, window.start AS starts FROM per10 ORDER BY window, n DESC, symbol",
    )
    assert [(r["symbol"], r["n"], r["starts"][14:19]) for r in rows] == [
        ("A", 1, "00:00"), ("B", 1, "00:00"), ("A", 1, "00:10"), ("B", 1, "00:10"),
        ("A", 1, "00:20"),
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT * FROM trades ORDER BY price", "query a windowed result"),
        ("SELECT *, row_number() OVER (ORDER BY price) FROM trades", "query a windowed result"),
        ("SELECT * FROM per10 ORDER BY volume DESC",
         r"start it with the window, ascending \(window or"),
        ("SELECT * FROM per10 ORDER BY window DESC", "start it with the window"),
        ("SELECT symbol, volume AS window FROM per10 ORDER BY window", "start it with the window"),
        ("SELECT *, rank() OVER (ORDER BY volume) FROM per10",
         r"partition it by the window \(window or"),
        ("SELECT *, rank() OVER (PARTITION BY symbol ORDER BY volume) FROM per10",
         r"partition it by the window \(window or"),
        ("SELECT symbol, COUNT(*) AS n, TUMBLE(INTERVAL '10' SECOND) AS window FROM trades "
         "GROUP BY symbol, window ORDER BY n", "start it with the window"),
        ("WITH RECURSIVE r AS (SELECT 1 AS x) SELECT COUNT(*) FROM trades",
         "WITH RECURSIVE does not run over a stream"),
        ("SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol ORDER BY n",
         "for a live top N of an updating result, QUALIFY"),
        ("SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol "
         "QUALIFY rank() OVER (ORDER BY COUNT(*)) <= 3", "not COUNT"),
        ("SELECT symbol, COUNT(*) AS n, TUMBLE(INTERVAL '10' SECOND) AS w FROM trades "
         "GROUP BY symbol, w QUALIFY COUNT(*) > 1", "a condition on an aggregate goes in HAVING"),
        ("SELECT symbol, COUNT(*) AS n, TUMBLE(INTERVAL '10' SECOND) AS w FROM trades GROUP BY "
         "symbol, w QUALIFY row_number() OVER (PARTITION BY w ORDER BY COUNT(*) DESC) <= 1",
         r"aliases\), not COUNT\(\*\)"),
        ("SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol "
         "QUALIFY rank() OVER (ORDER BY volume) <= 3", "not 'volume'"),
        ("SELECT symbol, rank() OVER (PARTITION BY window ORDER BY COUNT(*)) AS r, "
         "TUMBLE(INTERVAL '10' SECOND) AS window FROM trades GROUP BY symbol, window",
         "query a windowed result"),
    ],
)
def test_rankings_that_depend_on_batching_are_refused(query: str, message: str) -> None:
    engine = Engine(env={})
    engine.execute(TRADES.replace("{url}", "http://127.0.0.1:9/") + PER_WINDOW)
    with pytest.raises(SQLError, match=message):
        engine.execute(query)


async def test_a_stream_joined_with_a_file_is_aggregated_through_a_view(tmp_path: Path) -> None:
    names = tmp_path / "names.csv"
    names.write_text("symbol,name\nA,Alpha\nB,Beta\n")
    ddl = TRADES + (
        "CREATE VIEW named AS SELECT t.*, n.name FROM trades t "
        f"JOIN read_csv('{names}') n ON t.symbol = n.symbol;"
    )
    rows = await run_json(
        Stream(*TRADES_STREAM), ddl,
        "SELECT name, COUNT(*) AS n, TUMBLE(INTERVAL '10' SECOND) AS window FROM named "
        "GROUP BY name, window",
    )
    assert [(r["name"], r["n"], r["window"]["start"][14:19]) for r in rows] == [
        ("Alpha", 2, "00:00"), ("Beta", 1, "00:00"), ("Alpha", 1, "00:10"),
        ("Beta", 1, "00:10"), ("Alpha", 1, "00:20"),
    ]
    engine = Engine(env={})
    engine.execute(TRADES.replace("{url}", "http://127.0.0.1:9/"))
    with pytest.raises(SQLError, match="join them in a view"):
        engine.execute(
            f"SELECT n.name, COUNT(*) FROM trades t JOIN read_csv('{names}') n "
            "ON t.symbol = n.symbol GROUP BY n.name"
        )


def test_explain_names_the_stages_without_starting_anything() -> None:
    engine = Engine(env={})
    engine.execute(TRADES.replace("{url}", "http://127.0.0.1:9/") + PER_WINDOW)
    [plan] = engine.execute(
        "EXPLAIN SELECT * FROM per10 QUALIFY row_number() OVER (PARTITION BY window "
        "ORDER BY volume DESC) <= 3"
    )
    assert plan.columns == ["step", "operator", "detail"]
    assert [(r[0], r[1]) for r in plan.rows] == [
        (1, "per-batch query"), (2, "window"), (3, "query")
    ]
    window = plan.rows[1][2]
    assert "TUMBLE(INTERVAL '10' SECOND) by symbol" in window
    assert "watermark = largest seen - 2000 ms" in window and "partial aggregates" in window
    assert "QUALIFY ROW_NUMBER() OVER (PARTITION BY \"window\"" in plan.rows[2][2]
    [live] = engine.execute(
        "EXPLAIN SELECT symbol, SUM(volume) AS v FROM trades GROUP BY symbol "
        "QUALIFY row_number() OVER (ORDER BY v DESC) <= 3"
    )
    assert live.rows[1][1] == "updating aggregate" and "a live top N" in live.rows[1][2]
    [once] = engine.execute("EXPLAIN SELECT * FROM system.connector_status")
    assert once.rows[0][1] == "one-shot query"
    assert engine.queries == {}  # planned, then let go
    with pytest.raises(SQLError, match="EXPLAIN: this query sorts the stream"):
        engine.execute("EXPLAIN SELECT * FROM trades ORDER BY price")  # refusals as SELECT's


async def test_late_events_are_dropped_and_counted() -> None:
    stream = Stream(trade(1, "A", 1, 1, 10), trade(2, "A", 1, 1, 30), trade(3, "A", 1, 1, 5))
    async with SSEServer(stream) as server:
        engine = Engine(env={})
        engine.execute(TRADES.replace("{url}", server.url))
        [running] = engine.execute(
            "SELECT COUNT(*) AS n, TUMBLE(INTERVAL '10' SECOND) AS window FROM trades "
            "GROUP BY window"
        )
        rows = await asyncio.wait_for(collect(running), 10)
    # 5 s is before the watermark (30 - 2 = 28): dropped, counted
    assert [r["n"] for r in rows] == [1, 1]
    assert running.stats.events_late == 1


async def test_updating_group_by_emits_changes() -> None:
    stream = Stream(trade(1, "A", 1, 1, 1), trade(2, "B", 1, 1, 2), trade(3, "A", 1, 1, 3))
    ddl = TRADES.replace("buffer_timeout_ms = 10", "buffer_size = 1")
    rows = await run_json(stream, ddl, "SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol")
    assert rows == [
        {"symbol": "A", "n": 1, "op": "c"},
        {"symbol": "B", "n": 1, "op": "c"},
        {"symbol": "A", "n": 2, "op": "u"},
    ]


async def test_updating_result_deletes_a_group_leaving_having() -> None:
    stream = Stream(trade(1, "A", 5, 1, 1), trade(2, "A", -10, 1, 2), trade(3, "A", 20, 1, 3))
    ddl = TRADES.replace("buffer_timeout_ms = 10", "buffer_size = 1")
    rows = await run_json(
        stream, ddl, "SELECT symbol, SUM(price) AS total FROM trades GROUP BY symbol "
        "HAVING SUM(price) > 0"
    )
    assert [(r["total"], r["op"]) for r in rows] == [(5.0, "c"), (5.0, "d"), (15.0, "c")]


async def test_a_live_top_n_of_an_updating_result() -> None:
    # the leader by volume, event by event: groups the event did not touch leave and enter
    ddl = TRADES.replace("buffer_timeout_ms = 10", "buffer_size = 1")
    rows = await run_json(
        Stream(*TRADES_STREAM), ddl,
        "SELECT symbol, SUM(volume) AS volume FROM trades GROUP BY symbol "
        "QUALIFY row_number() OVER (ORDER BY volume DESC, symbol) <= 1",
    )
    assert [(r["symbol"], r["volume"], r["op"]) for r in rows] == [
        ("A", 1, "c"),
        ("A", 1, "d"), ("B", 2, "c"),  # B (2) passes A (1); what leaves goes first
        ("B", 2, "d"), ("A", 4, "c"),
        ("A", 8, "u"),
        ("A", 14, "u"),  # B's 5 (7 in all) changed nothing
    ]


async def test_select_star_over_an_updating_view_passes_its_changes() -> None:
    stream = Stream(trade(1, "A", 1, 1, 1), trade(2, "B", 1, 1, 2), trade(3, "A", 1, 1, 3))
    ddl = TRADES.replace("buffer_timeout_ms = 10", "buffer_size = 1") + (
        "CREATE VIEW per_symbol AS SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol;"
    )
    rows = await run_json(stream, ddl, "SELECT * FROM per_symbol")
    assert [(r["symbol"], r["n"], r["op"]) for r in rows] == [
        ("A", 1, "c"), ("B", 1, "c"), ("A", 2, "u")
    ]
    engine = Engine(env={})
    engine.execute(ddl.replace("{url}", "http://127.0.0.1:9/"))
    [running] = engine.execute("SELECT * FROM per_symbol")
    assert running.query.keys == ["symbol"]  # a terminal updates its lines in place
    running.close()
    with pytest.raises(SQLError, match="only its columns as they are"):
        engine.execute("SELECT * FROM per_symbol WHERE n > 1")


async def test_cascading_windows_over_a_windowed_view() -> None:
    events = [trade(i + 1, "A", float(i), 1, i * 5) for i in range(30)]  # 0..145 s
    async with SSEServer(Stream(*events)) as server:
        engine = Engine(env={})
        engine.execute(TRADES.replace("{url}", server.url))
        engine.execute(
            "CREATE VIEW per_10s AS SELECT symbol, COUNT(*) AS n, "
            "TUMBLE(INTERVAL '10' SECOND) AS window FROM trades GROUP BY symbol, window"
        )
        [running] = engine.execute(
            "SELECT symbol, MAX(n) AS most, SUM(n) AS total, "
            "TUMBLE(INTERVAL '1' MINUTE) AS window FROM per_10s GROUP BY symbol, window"
        )
        rows = await asyncio.wait_for(collect(running), 10)
    assert [(r["total"], r["most"]) for r in rows] == [(12, 2), (12, 2), (6, 2)]


async def test_distinct_is_an_updating_result() -> None:
    stream = Stream(trade(1, "A", 1, 1, 1), trade(2, "B", 1, 1, 2), trade(3, "A", 1, 1, 3))
    rows = await run_json(stream, TRADES, "SELECT DISTINCT symbol FROM trades")
    assert sorted((r["symbol"], r["op"]) for r in rows) == [("A", "c"), ("B", "c")]


def test_refusals_name_what_is_supported() -> None:
    engine = Engine(env={})
    engine.execute(TRADES.replace("{url}", "http://127.0.0.1:9/x"))
    engine.execute("CREATE TABLE other (symbol TEXT) WITH (endpoint = 'http://127.0.0.1:9/y')")
    with pytest.raises(SQLError, match="reads 2 streams"):
        engine.execute("SELECT * FROM trades JOIN other USING (symbol)")
    with pytest.raises(SQLError, match="GROUP BY that lists the window"):
        engine.execute("SELECT COUNT(*), TUMBLE(INTERVAL '1' SECOND) AS window FROM trades")
    with pytest.raises(SQLError, match="TIMESTAMP"):
        engine.execute(
            "SELECT COUNT(*), TUMBLE(volume, INTERVAL '1' SECOND) AS w FROM trades GROUP BY w"
        )
    with pytest.raises(SQLError, match=r"'symbl' is not a column of trades — did you mean "
                       r"'symbol'\? \(its columns: symbol, price, volume, ts\)"):
        engine.execute("SELECT symbl, COUNT(*) AS n, TUMBLE(INTERVAL '1' SECOND) AS w "
                       "FROM trades GROUP BY symbl, w")
    with pytest.raises(SQLError, match="'prce' is not a column of trades"):
        engine.execute("SELECT symbol, SUM(prce) FROM trades GROUP BY symbol")
    with pytest.raises(SQLError, match="its FROM subquery is an updating result"):
        engine.execute("SELECT * FROM (SELECT symbol, COUNT(*) AS n FROM trades GROUP BY "
                       "symbol) WHERE n > 1")
    with pytest.raises(SQLError, match="the CTE n is an updating result"):
        engine.execute("WITH n AS (SELECT COUNT(*) AS c FROM trades) SELECT c + 1 FROM n")
    with pytest.raises(SQLError, match="aggregates inside a subquery"):
        engine.execute("SELECT * FROM trades WHERE symbol IN (SELECT symbol FROM trades "
                       "GROUP BY symbol)")


async def test_a_column_named_offset_is_not_an_offset_clause() -> None:
    ddl = "CREATE TABLE wiki (\"offset\" BIGINT, title TEXT) WITH (endpoint = '{url}', " \
          "buffer_timeout_ms = 10, reconnect_interval_ms = 10)"
    stream = Stream(event(json.dumps({"offset": 7, "title": "x"}), id="1"))
    rows = await run_json(stream, ddl, 'SELECT "offset", title AS "offset2" FROM wiki')
    assert rows == [{"offset": 7, "offset2": "x"}]


async def test_watermark_clause_and_a_view_between_stream_and_window() -> None:
    ddl = """CREATE TABLE trades (symbol TEXT, price DOUBLE, volume BIGINT, ts TIMESTAMP,
        WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH (endpoint = '{url}',
        buffer_timeout_ms = 10, reconnect_interval_ms = 10);
        CREATE VIEW dear AS SELECT symbol, price * 2 AS doubled, ts FROM trades WHERE price > 15"""
    rows = await run_json(
        Stream(*TRADES_STREAM),
        ddl,
        "SELECT symbol, SUM(doubled) AS total, TUMBLE(INTERVAL '10' SECOND) AS window "
        "FROM dear GROUP BY symbol, window",
    )
    assert [(r["symbol"], r["total"]) for r in rows] == [
        ("A", 60.0), ("B", 40.0), ("A", 100.0), ("B", 120.0), ("A", 140.0)
    ]


def test_event_time_options_are_checked() -> None:
    engine = Engine(env={})
    with pytest.raises(ConfigError, match=r"event_time_field.*BIGINT.*TIMESTAMP"):
        engine.execute("CREATE TABLE t (a BIGINT) WITH (endpoint = 'http://x/', "
                       "event_time_field = 'a')")
    with pytest.raises(ConfigError, match=r"watermark_delay_ms.*event_time_field"):
        engine.execute("CREATE TABLE t (a TIMESTAMP) WITH (endpoint = 'http://x/', "
                       "watermark_delay_ms = 5)")
    with pytest.raises(SQLError, match="WATERMARK"):
        engine.execute("CREATE TABLE t (a TIMESTAMP, WATERMARK FOR a AS now()) "
                       "WITH (endpoint = 'http://x/')")
    engine.execute("CREATE TABLE t (a TIMESTAMP, WATERMARK FOR a AS a - INTERVAL '1.5' SECOND) "
                   "WITH (endpoint = 'http://x/')")
    options = engine.catalog.tables["t"].options
    assert (options.event_time_field, options.watermark_delay_ms) == ("a", 1500)


async def test_insert_into_files_windows_and_updating_changes(tmp_path: Path) -> None:
    # one script per connection: each INSERT reads the stream on its own
    async with SSEServer(Stream(*TRADES_STREAM), Stream(*TRADES_STREAM)) as server:
        engine = Engine(env={})
        engine.execute(TRADES.replace("{url}", server.url).replace(
            "buffer_timeout_ms = 10", "buffer_size = 2"))
        engine.execute(
            f"""CREATE TABLE per_window (symbol TEXT, n BIGINT, window_start TIMESTAMP)
                WITH (connector = 'filesystem', path = '{tmp_path / "w"}');
            CREATE TABLE per_symbol (symbol TEXT, n BIGINT)
                WITH (connector = 'filesystem', path = '{tmp_path / "u"}')"""
        )
        queries = engine.execute(
            "INSERT INTO per_window SELECT symbol, COUNT(*) AS n, window_start FROM trades "
            "GROUP BY symbol, TUMBLE(ts, INTERVAL '10' SECOND);"
            "INSERT INTO per_symbol SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol"
        )
        await asyncio.wait_for(run_all(queries), 20)

    def lines(folder: str) -> list[dict[str, Any]]:
        return [json.loads(line) for p in sorted((tmp_path / folder).glob("*.jsonl"))
                for line in p.read_text().splitlines()]

    assert [(r["symbol"], r["n"], r["window_start"][14:19]) for r in lines("w")] == [
        ("A", 2, "00:00"), ("B", 1, "00:00"), ("A", 1, "00:10"), ("B", 1, "00:10"),
        ("A", 1, "00:20"),
    ]
    changes = lines("u")
    assert {r["op"] for r in changes} <= {"c", "u"}
    final = {r["symbol"]: r["n"] for r in changes}  # the last change per group wins
    assert final == {"A": 4, "B": 2}


class FakeClock:
    """Wall-clock time the test moves by hand (seconds since the epoch)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_an_idle_stream_still_closes_its_windows() -> None:
    go = asyncio.Event()
    stream = Stream(trade(1, "A", 1, 1, 1), trade(2, "A", 1, 1, 12.5), wait(go))
    async with SSEServer(stream) as server:
        engine = Engine(env={})
        clock = FakeClock(1_000_000.0)
        engine.clock = clock
        engine.execute(TRADES.replace("{url}", server.url))
        [running] = engine.execute(
            "SELECT COUNT(*) AS n, TUMBLE(INTERVAL '10' SECOND) AS window FROM trades "
            "GROUP BY window"
        )
        running.tick_s = 0.01
        batches = running.json_batches()
        first = await asyncio.wait_for(batches.__anext__(), 10)
        assert [json.loads(line)["window"]["start"][14:19] for line in first] == ["00:00"]
        [status] = engine.execute(
            "SELECT state_rows, state_bytes > 0 AS sized, strftime(watermark, '%M:%S.%g') AS wm "
            "FROM system.connector_status"
        )
        assert status.as_dicts() == [{"state_rows": 1, "sized": True, "wm": "00:10.500"}]
        text = generate_latest(engine.observability.registry).decode()
        assert 'laminar_state_bytes{connection="",table="trades"}' in text
        assert 'laminar_sse_events_late_total{connection="",table="trades"} 0.0' in text
        # nothing arrives; a second of wall clock (idle_timeout_ms) is not enough for
        # [10, 20): the watermark is at 10.5 s and moves with the clock once idle
        clock.now += 9.6  # 10.5 + 9.6 > 20
        second = await asyncio.wait_for(batches.__anext__(), 10)
        assert [json.loads(line)["window"]["start"][14:19] for line in second] == ["00:10"]
        go.set()
        await batches.aclose()


async def test_processing_time_windows_follow_the_clock() -> None:
    go = asyncio.Event()
    ddl = """CREATE TABLE ticks (symbol TEXT) WITH (endpoint = '{url}', buffer_timeout_ms = 10,
        reconnect_interval_ms = 10)"""
    stream = Stream(event('{"symbol": "A"}', id="1"), event('{"symbol": "B"}', id="2"), wait(go))
    async with SSEServer(stream) as server:
        engine = Engine(env={})
        clock = FakeClock(1_767_225_600.0)  # 2026-01-01T00:00:00Z
        engine.clock = clock
        engine.execute(ddl.replace("{url}", server.url))
        [running] = engine.execute(
            "SELECT COUNT(*) AS n, TUMBLE(INTERVAL '1' MINUTE) AS window FROM ticks "
            "GROUP BY window"
        )
        running.tick_s = 0.01
        batches = running.json_batches()
        waiting = asyncio.ensure_future(batches.__anext__())
        assert running.staged is not None
        while running.staged.operators[0].rows_in < 2:
            await asyncio.sleep(0.01)  # polling an observable condition, not timing
        assert not waiting.done()  # the window is open until the clock passes its end
        clock.now += 60
        rows = [json.loads(line) for line in await asyncio.wait_for(waiting, 10)]
        assert rows == [{"n": 2, "window": {"start": "2026-01-01T00:00:00.000000Z",
                                            "end": "2026-01-01T00:01:00.000000Z"}}]
        go.set()
        await batches.aclose()


async def test_exhausted_reconnection_after_a_clean_end_still_emits_every_window() -> None:
    ddl = TRADES.replace("reconnect_interval_ms = 10", "max_reconnect_attempts = 0")
    rows = await run_json(
        Stream(*TRADES_STREAM),
        ddl,
        "SELECT COUNT(*) AS n, TUMBLE(INTERVAL '10' SECOND) AS window FROM trades "
        "GROUP BY window",
    )
    assert [r["n"] for r in rows] == [3, 2, 1]


def test_python_api_iterates_windows() -> None:
    import threading

    from laminar import connect

    async def serve(ready: threading.Event, done: threading.Event, box: list[str]) -> None:
        async with SSEServer(Stream(*TRADES_STREAM)) as server:
            box.append(server.url)
            ready.set()
            while not done.is_set():
                await asyncio.sleep(0.01)

    ready, done, box = threading.Event(), threading.Event(), []
    thread = threading.Thread(target=lambda: asyncio.run(serve(ready, done, box)))
    thread.start()
    try:
        assert ready.wait(10)
        db = connect(env={})
        db.execute(TRADES.replace("{url}", box[0]))
        rows = list(db.execute(
            "SELECT symbol, COUNT(*) AS n, TUMBLE(INTERVAL '10' SECOND) AS window "
            "FROM trades GROUP BY symbol, window"
        ))
        db.close()
    finally:
        done.set()
        thread.join()
    assert [(r["symbol"], r["n"], r["window"]["start"].second) for r in rows] == [
        ("A", 2, 0), ("B", 1, 0), ("A", 1, 10), ("B", 1, 10), ("A", 1, 20)
    ]


async def test_an_edited_query_starts_afresh_instead_of_on_the_old_querys_state(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # State is kept per pipeline (table -> sink). Run 1 counts; the file is then edited
    # to take MAX(volume), whose partials have the very layout of COUNT's: restored,
    # run 1's count (2) would read back as a maximum volume.
    go = asyncio.Event()
    first = Stream(trade(1, "A", 1, 50, 1), trade(2, "A", 1, 60, 2), wait(go))
    second = Stream(trade(11, "A", 1, 1, 3), trade(12, "A", 1, 9, 30))
    ddl = TRADES.replace("reconnect_interval_ms = 10", "reconnect_interval_ms = 10, "
                         "persist_event_id = true") + (
        f"CREATE TABLE out (symbol TEXT, n BIGINT, window_start TIMESTAMP) WITH ("
        f"connector = 'filesystem', path = '{tmp_path / 'out'}');"
    )

    def insert(aggregate: str) -> str:
        return (f"INSERT INTO out SELECT symbol, {aggregate} AS n, window_start FROM trades "
                "GROUP BY symbol, TUMBLE(ts, INTERVAL '10' SECOND)")

    async with SSEServer(first, second) as server:
        with StateStore.open(tmp_path / "state") as state:
            engine = Engine(state=state, env={})
            engine.execute(ddl.replace("{url}", server.url))
            running = asyncio.create_task(run_all(engine.execute(insert("COUNT(*)")),
                                                  state=state))

            def window_saved_open() -> bool:  # a checkpoint with the open window in it
                saved = state.checkpoint("trades->out")
                return saved is not None and saved.last_event_id == "2" and any(
                    "window" in name for name in saved.states)

            await until(window_saved_open)
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            go.set()
        with StateStore.open(tmp_path / "state") as state:
            engine = Engine(state=state, env={})
            engine.execute(ddl.replace("{url}", server.url))
            with caplog.at_level(logging.WARNING, logger="laminar.runtime"):
                await asyncio.wait_for(
                    run_all(engine.execute(insert("MAX(volume)")), state=state), 20)
    assert server.requests[1].last_event_id is None  # not resumed after "2"
    assert "pipeline trades->out: the query changed since its window and group state was " \
        "saved; it starts afresh" in caplog.text
    rows = [json.loads(line) for p in sorted((tmp_path / "out").glob("*.jsonl"))
            for line in p.read_text().splitlines()]
    assert [(r["n"], r["window_start"][14:19]) for r in rows] == [(1, "00:00"), (9, "00:30")]
