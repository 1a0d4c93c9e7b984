"""Every SQL block of the product document (examples/) runs against the demo feed.

Each example is run as written, with ${LAMINAR_DEMO} pointing at an in-process
demo server, and the rows it produces are checked.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from laminar.api import _rows
from laminar.demo_server import start_demo_server
from laminar.sql.continuous import ContinuousQuery
from laminar.sql.engine import Engine, Message, Rows

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
async def demo() -> AsyncIterator[str]:
    runner, url = await start_demo_server(rate=400)
    try:
        yield url
    finally:
        await runner.cleanup()


async def run_example(name: str, base_url: str, **env: str) -> list[Any]:
    """Run examples/NAME; return, per statement, a Message, a Rows or a list of row dicts."""
    engine = Engine(env={"LAMINAR_DEMO": base_url, **env})
    out: list[Any] = []
    for result in engine.execute((EXAMPLES / name).read_text()):
        if isinstance(result, ContinuousQuery):
            rows: list[dict[str, Any]] = []
            async for table in result.arrow_batches():
                rows.extend(_rows(table))
            out.append(rows)
        else:
            out.append(result)
    return out


def test_every_document_block_has_an_example() -> None:
    document = Path(__file__).resolve().parents[3] / "shared" / "seed" / "sse-source.md"
    if not document.exists():
        pytest.skip("the product document is not beside this checkout")
    blocks = re.findall(r"```sql\n(.*?)```", document.read_text(), re.S)
    assert len(blocks) == 21
    assert len(sorted(EXAMPLES.glob("[0-9][0-9]_*.sql"))) == len(blocks)


def recent(ts: datetime) -> bool:
    return abs(datetime.utcnow() - ts) < timedelta(minutes=5)


async def test_01_live_events(demo: str) -> None:
    *ddl, rows = await run_example("01_live_events.sql", demo)
    assert [m.text for m in ddl] == ["CREATE CONNECTION sse_stream", "CREATE TABLE live_events"]
    assert len(rows) == 5
    assert [r["event_id"] for r in rows] == ["1", "2", "3", "4", "5"]
    for row in rows:
        assert row["event_type"] in {"message", "update", "notification", "heartbeat"}
        assert recent(row["timestamp"])
        assert set(row["data"]) == {"user_id", "action", "amount", "timestamp"}


async def test_02_named_events(demo: str) -> None:
    *_, rows = await run_example("02_named_events.sql", demo)
    assert [r["event_id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert rows[0]["retry_ms"] == 1000  # the demo feed sends retry: with its first event
    assert all(r["retry_ms"] is None for r in rows[1:])
    assert all(r["event_name"] in {"message", "update", "notification", "heartbeat"} for r in rows)
    assert all("action" in r["event_data"] for r in rows)


async def test_03_filtered_events(demo: str) -> None:
    *_, rows = await run_example("03_filtered_events.sql", demo)
    assert len(rows) == 5
    assert all(r["action"] and r["user_id"].startswith("u-") for r in rows)


async def test_04_json_events(demo: str) -> None:
    *_, rows = await run_example("04_json_events.sql", demo)
    assert len(rows) == 5
    for row in rows:
        assert row["payload"]["symbol"] == row["symbol"]
        assert isinstance(row["payload"]["price"], float)


async def test_05_text_events(demo: str) -> None:
    *_, rows = await run_example("05_text_events.sql", demo)
    assert len(rows) == 5
    assert all(isinstance(r["message"], str) and r["message"] for r in rows)
    assert all(recent(r["timestamp"]) for r in rows)


async def test_06_custom_parsing(demo: str) -> None:
    *_, rows = await run_example("06_custom_parsing.sql", demo)
    assert len(rows) == 5
    for row in rows:
        assert re.fullmatch(r"sensor-\d+-\d+", row["id"])
        assert isinstance(row["value"], float)
        assert row["unit"]


async def test_07_authenticated_stream_hides_the_token(demo: str) -> None:
    _, _, show, rows = await run_example("07_authenticated.sql", demo, SSE_TOKEN="demo-token")
    assert isinstance(show, Rows)
    assert "demo-token" not in repr(show.rows)
    assert len(rows) == 3 and all(r["symbol"] for r in rows)


async def test_07_wrong_token_is_an_auth_error(demo: str) -> None:
    from laminar.errors import AuthError

    with pytest.raises(AuthError, match="token"):
        await run_example("07_authenticated.sql", demo, SSE_TOKEN="wrong")


async def test_08_last_event_id_seeds_the_first_connection(demo: str) -> None:
    *_, rows = await run_example("08_last_event_id.sql", demo, LAST_PROCESSED_ID="100")
    assert [r["event_id"] for r in rows] == ["101", "102", "103"]


async def test_07_and_08_run_against_the_demo_with_no_variables_set(demo: str) -> None:
    _, _, show, rows = await run_example("07_authenticated.sql", demo)
    assert "demo-token" not in repr(show) and len(rows) == 3
    *_, rows = await run_example("08_last_event_id.sql", demo)
    assert [r["event_id"] for r in rows] == ["101", "102", "103"]


async def test_09_keepalive(demo: str) -> None:
    *_, rows = await run_example("09_keepalive.sql", demo)
    assert len(rows) == 3 and all(r["device_id"].startswith("sensor-") for r in rows)


async def test_10_reconnection_resumes_without_loss(demo: str) -> None:
    *_, rows = await run_example("10_reconnection.sql", demo)
    assert [r["event_id"] for r in rows] == [str(i) for i in range(1, 11)]


async def test_11_error_events_become_rows(demo: str) -> None:
    *_, rows = await run_example("11_error_events.sql", demo)
    assert len(rows) == 3
    for row in rows:
        assert row["error_message"]
        assert recent(row["error_timestamp"])


async def test_12_buffered_events(demo: str) -> None:
    *_, rows = await run_example("12_buffered_events.sql", demo)
    assert len(rows) == 5 and all(r["device_id"] for r in rows)


async def test_13_deduplication_drops_replayed_ids(demo: str) -> None:
    *_, rows = await run_example("13_deduplication.sql", demo)
    assert [r["event_id"] for r in rows] == ["1", "2", "3"]


async def test_14_health_check(demo: str) -> None:
    _, status = await run_example("14_health_check.sql", demo)
    assert isinstance(status, Rows)
    [row] = status.as_dicts()
    assert row["connector_name"] == "sse_source"
    assert row["table_name"] == "stock_stream"


async def test_15_parallel(demo: str) -> None:
    *_, rows = await run_example("15_parallel.sql", demo)
    assert len(rows) == 8 and all(r["post_id"] for r in rows)


async def test_16_compression(demo: str) -> None:
    *_, rows = await run_example("16_compression.sql", demo)
    assert len(rows) == 5 and all(isinstance(r["value"], float) for r in rows)


async def test_17_and_18_system_queries_run_verbatim(demo: str) -> None:
    [logs] = await run_example("17_connection_logs.sql", demo)
    assert isinstance(logs, Rows)
    assert {"timestamp", "level", "connector", "message"} <= set(logs.columns)
    [rate] = await run_example("18_event_rate.sql", demo)
    assert rate.columns == ["events_per_minute", "avg_processing_time"]
    assert rate.rows[0][0] == 0  # nothing ran in this engine


async def test_19_price_alerts(demo: str) -> None:
    ddl1, ddl2, rows = await run_example("19_stock_prices.sql", demo)
    assert isinstance(ddl1, Message) and isinstance(ddl2, Message)
    assert len(rows) == 10
    assert all(r["price"] > 1000 or r["price"] < 10 for r in rows)
    assert all(recent(r["timestamp"]) and r["volume"] > 0 for r in rows)


async def test_20_social_feed_keeps_posts_comments_likes(demo: str) -> None:
    *_, rows = await run_example("20_social_feed.sql", demo)
    assert len(rows) == 5
    assert all(r["post_id"].startswith("p-") and "likes" in r["metrics"] for r in rows)


async def test_21_iot(demo: str) -> None:
    *_, rows = await run_example("21_iot_sensors.sql", demo)
    assert len(rows) == 5
    assert all(r["reading_type"] == "temperature" and r["unit"] == "celsius" for r in rows)


# -- windows (examples/windows_*.sql) ---------------------------------------------------


def _second(ts: datetime) -> int:
    return int((ts - datetime(2026, 1, 1)).total_seconds())


async def test_windows_trades_per_symbol(demo: str) -> None:
    _, rows = await run_example("windows_trades_per_symbol.sql", demo)
    starts = sorted({_second(r["window"]["start"]) for r in rows})
    assert starts == [0, 10, 20, 30]  # 30,000 events 1 ms apart: ids 1..9999 in the first
    assert sum(r["trades"] for r in rows) == 30_000
    per_window = {s: sum(r["trades"] for r in rows if _second(r["window"]["start"]) == s)
                  for s in starts}
    assert per_window == {0: 9_999, 10: 10_000, 20: 10_000, 30: 1}
    assert {r["symbol"] for r in rows if _second(r["window"]["start"]) == 0} == {
        "AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "META", "NFLX", "BKNG", "SIRI"
    }
    # emitted in window order, symbols sorted within a window
    keys = [(_second(r["window"]["start"]), r["symbol"]) for r in rows]
    assert keys == sorted(keys)


async def test_windows_sensor_averages(demo: str) -> None:
    _, rows = await run_example("windows_sensor_averages.sql", demo)
    assert sorted({_second(r["window_start"]) for r in rows}) == [0, 60, 120]
    assert {r["device_id"] for r in rows} == {f"sensor-{i:03d}" for i in range(1, 13)}
    assert all(10 < r["avg_temperature"] < 30 and r["readings"] > 0 for r in rows)
    assert all(_second(r["window_end"]) - _second(r["window_start"]) == 60 for r in rows)


async def test_windows_top_symbols_is_an_updating_result(demo: str) -> None:
    _, changes = await run_example("windows_top_symbols.sql", demo)
    assert {c["op"] for c in changes} <= {"c", "u"} and changes[0]["op"] == "c"
    final: dict[str, dict[str, Any]] = {}
    for change in changes:
        final[change["symbol"]] = change
    assert sum(r["trades"] for r in final.values()) <= 5_000
    assert "BKNG" not in final or final["BKNG"]["trades"] > 100


async def test_windows_top_n(demo: str) -> None:
    *_, ranked = await run_example("windows_top_n.sql", demo)
    _, every = await run_example("windows_trades_per_symbol.sql", demo)
    expected = []
    for start in sorted({_second(r["window"]["start"]) for r in every}):
        rows = [r for r in every if _second(r["window"]["start"]) == start]
        top = sorted(rows, key=lambda r: (-r["volume"], r["symbol"]))[:3]
        expected += [(start, r["symbol"], r["volume"]) for r in top]
    assert [(_second(r["window_start"]), r["symbol"], r["volume"]) for r in ranked] == expected


async def test_windows_live_leaderboard(demo: str) -> None:
    _, changes = await run_example("windows_live_leaderboard.sql", demo)
    board: dict[str, int] = {}
    for change in changes:  # a consumer keeping the board up to date
        if change["op"] == "d":
            del board[change["symbol"]]
        else:
            assert (change["op"] == "c") == (change["symbol"] not in board)
            board[change["symbol"]] = change["volume"]
        assert len(board) <= 3
    assert any(c["op"] == "d" for c in changes)  # symbols left the top three as others passed
    # the board at the end is the top three of the whole feed
    _, every = await run_example("windows_top_symbols.sql", demo)
    totals: dict[str, int] = {}
    for change in every:  # the same 5,000 events, every symbol (HAVING aside)
        totals[change["symbol"]] = change["volume"]
    top = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert sorted(board.items()) == sorted(top)


async def test_windows_cascade(demo: str) -> None:
    *_, rows = await run_example("windows_cascade.sql", demo)
    assert [_second(r["window"]["start"]) for r in rows] == [0, 10, 20]
    assert sum(r["trades"] for r in rows) == 20_000
    assert all(r["busiest_second"] <= 1_000 for r in rows)
