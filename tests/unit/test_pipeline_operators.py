"""The runtime pipeline and its operators, without a network: a source that hands over
micro-batches of events as the batcher would, through the real head operators, the
planned query (DuckDB) and LIMIT.

* LIMIT cuts, commits the event behind its last delivered row, and counts per run (its
  snapshot is empty: a restarted LIMIT query delivers its LIMIT again, after the id).
* The query operator flushes every open window when the source ends, and its window
  state goes through snapshot()/restore() under the operator's name.
* continue_on_error = false: the rows before the failing event are handed on, then the
  error is raised.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pyarrow as pa
import pytest

from laminar.errors import PayloadError
from laminar.runtime.batching import Batch
from laminar.runtime.operator import ARROW_ROWS, JSON_ROWS
from laminar.runtime.operators.limit import Limit
from laminar.runtime.operators.source_stage import RowBatch
from laminar.runtime.pipeline import Pipeline
from laminar.sql.continuous import ContinuousQuery
from laminar.sql.engine import Engine
from laminar.sql.stage import QueryOperator
from laminar.sse.event import SSEEvent

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z, epoch ms

TRADES = (
    "CREATE TABLE trades (symbol TEXT, price DOUBLE, ts TIMESTAMP) WITH ("
    "endpoint = 'http://127.0.0.1:1/x', event_time_field = 'ts'{extra})"
)
WINDOWED = (
    "SELECT symbol, COUNT(*) AS n, TUMBLE(INTERVAL '10' SECOND) AS window "
    "FROM trades GROUP BY symbol, window"
)


def trade(ident: int, symbol: str, second: int, price: float = 1.0) -> SSEEvent:
    payload = {"symbol": symbol, "price": price, "ts": f"2026-01-01T00:00:{second:02d}Z"}
    return SSEEvent("message", json.dumps(payload), str(ident))


class Replay:
    """A source as the pipeline sees it: these micro-batches, then the end of the stream."""

    def __init__(self, *batches: list[SSEEvent]) -> None:
        self.resume_event_id: str | None = None
        self._batches = batches

    async def batches(self) -> AsyncIterator[Batch[SSEEvent]]:
        for events in self._batches:
            yield Batch(events, [NOW] * len(events), [(NOW, len(events))])


def planned(sql: str, extra: str = "") -> ContinuousQuery:
    engine = Engine(env={})
    engine.execute(TRADES.format(extra=extra))
    [query] = engine.execute(sql)
    assert isinstance(query, ContinuousQuery)
    return query


def pipeline(query: ContinuousQuery, source: Replay, rows: Any = JSON_ROWS) -> Pipeline[Any]:
    return Pipeline(
        source, query.head, QueryOperator(query.query, rows), Limit(query.limit, rows),
        query.stats, tick_s=60.0,
    )


async def drain(run: Pipeline[Any], yield_empty: bool = False) -> list[Any]:
    return [rows async for rows in run.run(yield_empty)]


# -- LIMIT ------------------------------------------------------------------------------


def test_limit_cuts_the_batch_that_reaches_it_and_counts_per_run() -> None:
    limit = Limit(3, JSON_ROWS)
    assert limit.process(["a", "b"]) == (["a", "b"], False)
    assert limit.process(["c", "d", "e"]) == (["c"], True)
    assert limit.done and limit.remaining == 0
    # Its state is per run: a restored LIMIT (a restart) delivers its LIMIT again.
    again = Limit(3, JSON_ROWS)
    again.restore(limit.snapshot())
    assert not again.done and again.process(["x", "y", "z", "w"]) == (["x", "y", "z"], True)


def test_no_limit_passes_every_row() -> None:
    limit = Limit(None, ARROW_ROWS)
    table = pa.table({"n": [1, 2, 3]})
    rows, reached = limit.process(table)
    assert rows.num_rows == 3 and not reached and limit.remaining is None


def test_limit_finds_the_event_behind_its_last_delivered_row() -> None:
    events = [SSEEvent("message", "", str(i)) for i in range(1, 11)]
    rows = pa.table({"n": list(range(1, 11))})
    batch = RowBatch([rows], 10, "10", row_events=events)

    def even(prefix: pa.Table) -> int:  # the query: WHERE n % 2 = 0
        return sum(1 for n in prefix.column("n").to_pylist() if n % 2 == 0)

    assert Limit.delivered_through(batch, 3, even) == "6"
    batch.row_events = None  # rows do not map onto events: unknown, the position stays
    assert Limit.delivered_through(batch, 3, even) is None


async def test_a_limited_pipeline_commits_the_event_behind_its_last_row() -> None:
    query = planned("SELECT symbol FROM trades WHERE price > 5 LIMIT 2")
    source = Replay(
        [trade(1, "A", 1, 9), trade(2, "B", 2, 1)],
        [trade(3, "C", 3, 1), trade(4, "D", 4, 9), trade(5, "E", 5, 9), trade(6, "F", 6, 9)],
    )
    run = pipeline(query, source)
    out = await drain(run)
    assert [json.loads(r)["symbol"] for rows in out for r in rows] == ["A", "D"]
    assert run.position == "4"  # not "6": events 5 and 6 were never delivered
    assert query.stats.rows_out == 2 and query.stats.state == "finished"
    query.close()


# -- the query operator ---------------------------------------------------------------------


async def test_the_query_operator_flushes_open_windows_at_the_end_of_the_stream() -> None:
    query = planned(WINDOWED)
    source = Replay([trade(1, "A", 1), trade(2, "B", 2)], [trade(3, "A", 3)])
    run = pipeline(query, source)
    out = await drain(run, yield_empty=True)
    # Nothing closes while the stream runs (the watermark stays in the window); the end
    # of the stream emits every open window once.
    assert out[:2] == [[], []]
    rows = sorted((json.loads(r)["symbol"], json.loads(r)["n"]) for r in out[2])
    assert rows == [("A", 2), ("B", 1)]
    assert len(out) == 3 and run.position == "3"
    query.close()


async def test_window_state_checkpoints_under_its_operator_name() -> None:
    first = planned(WINDOWED)
    run = pipeline(first, Replay([trade(1, "A", 1), trade(2, "A", 2)]))
    stream = run.run(yield_empty=True)
    assert await stream.__anext__() == []  # one batch in, its window still open
    states = run.snapshot()
    await stream.aclose()
    first.close()
    assert set(states) == {"window"}

    second = planned(WINDOWED)
    source = Replay([trade(3, "A", 3)])
    resumed = pipeline(second, source)
    resumed.restore("2", states)
    assert source.resume_event_id == "2"
    out = await drain(resumed)
    [[row]] = out
    assert json.loads(row)["n"] == 3  # the two restored rows and the new one
    second.close()


async def test_a_per_batch_query_flushes_nothing() -> None:
    query = planned("SELECT symbol FROM trades")
    operator = QueryOperator(query.query, ARROW_ROWS)
    assert not operator.stateful and operator.flush().num_rows == 0
    assert QueryOperator(query.query, JSON_ROWS).flush() == []
    assert operator.snapshot() == {}
    query.close()


# -- continue_on_error = false ------------------------------------------------------------


async def test_a_failing_event_cuts_its_batch_then_stops_the_pipeline() -> None:
    query = planned("SELECT symbol FROM trades", extra=", continue_on_error = false")
    bad = SSEEvent("message", "not json", "3")
    source = Replay([trade(1, "A", 1), trade(2, "B", 2), bad, trade(4, "D", 4)])
    run = pipeline(query, source)
    delivered: list[str] = []
    with pytest.raises(PayloadError):
        async for rows in run.run(yield_empty=True):
            delivered.extend(json.loads(r)["symbol"] for r in rows)
    assert delivered == ["A", "B"] and run.position == "2"
    assert query.stats.state == "failed"
    query.close()

