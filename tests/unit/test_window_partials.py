"""Partial aggregates in window operators: same answers as the raw rows, exactly.

When every aggregate merges exactly (COUNT, MIN/MAX, SUM/AVG of integers and
DECIMALs), a tumbling or hopping window keeps one partial row per (window,
group) per batch instead of the rows. Property: however the stream is cut, the
emitted rows equal — with ``==``, floats included — one DuckDB GROUP BY over
every on-time row. Anything else keeps the raw rows.
"""

from __future__ import annotations

import json
import struct
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.support.examples import examples

from laminar.runtime.operators import aggregate as aggregate_module
from laminar.runtime.operators.aggregate import AggregateOperator
from laminar.sql import staged as staged_module
from laminar.sql.planner import StagedQuery, StreamContext, build

SCHEMA = pa.schema(
    [
        ("symbol", pa.string()),
        ("price", pa.int64()),
        ("amount", pa.decimal128(18, 3)),
        ("ratio", pa.float64()),
        ("ts", pa.timestamp("us")),
    ]
)
AGGREGATES = (
    "COUNT(*) AS n, COUNT(price) AS priced, SUM(price) AS total, AVG(price) AS mean, "
    "MIN(price) AS low, MAX(price) AS high, AVG(amount) AS mean_amount, "
    "SUM(amount) AS total_amount, MAX(symbol) AS top"
)
WINDOWS = {
    "tumble": "TUMBLE(INTERVAL '10' SECOND)",
    "hop": "HOP(INTERVAL '5' SECOND, INTERVAL '15' SECOND)",
}
DELAY_S = 5
EPOCH = datetime(1970, 1, 1)

Row = tuple[str, int | None, str, int]  # symbol, price, amount (text), second

events = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.one_of(st.none(), st.integers(-(10**12), 10**12)),
        st.decimals(-(10**9), 10**9, places=3, allow_nan=False).map(str),
        st.integers(0, 120),
    ),
    min_size=1,
    max_size=60,
)


def context() -> StreamContext:
    return StreamContext(
        table="trades", schema=SCHEMA, views={}, partitions=1, event_time_field="ts",
        watermark_delay_ms=DELAY_S * 1000, idle_timeout_ms=10**9, memory_limit_mb=64,
    )


def operator(sql: str) -> AggregateOperator:
    stage = build(sql, "SELECT", context()).stages[1]
    assert isinstance(stage, AggregateOperator)
    return stage


def table(rows: list[Row]) -> pa.Table:
    return pa.table(
        {
            "symbol": [r[0] for r in rows],
            "price": pa.array([r[1] for r in rows], pa.int64()),
            "amount": pa.array([Decimal(r[2]) for r in rows], pa.decimal128(18, 3)),
            "ratio": pa.array([0.5] * len(rows), pa.float64()),
            "ts": pa.array([r[3] * 1_000_000 for r in rows], pa.timestamp("us")),
        },
        schema=SCHEMA,
    )


def on_time(rows: list[Row]) -> list[Row]:
    kept, top = [], None
    for row in rows:
        if top is None or row[3] >= top - DELAY_S:
            kept.append(row)
        top = row[3] if top is None else max(top, row[3])
    return kept


def expected(kind: str, rows: list[Row]) -> list[dict[str, Any]]:
    con = duckdb.connect()
    con.register("t", table(rows))
    s = "epoch(ts)::BIGINT"
    if kind == "tumble":
        windows = f"SELECT *, {s} - ({s} % 10 + 10) % 10 AS ws FROM t"
        width = 10
    else:
        windows = (
            f"SELECT * FROM (SELECT *, unnest(generate_series({s} - ({s} % 5 + 5) % 5 - 10, "
            f"{s} - ({s} % 5 + 5) % 5, 5)) AS ws FROM t) WHERE ws + 15 > {s}"
        )
        width = 15
    result = con.sql(
        f"SELECT symbol, {AGGREGATES}, ws, ws + {width} AS we FROM ({windows}) "
        "GROUP BY symbol, ws ORDER BY ws, symbol"
    )
    return [dict(zip(result.columns, r, strict=True)) for r in result.fetchall()]


def run(kind: str, rows: list[Row], cuts: list[int]) -> list[dict[str, Any]]:
    sql = f"SELECT symbol, {AGGREGATES}, {WINDOWS[kind]} AS window FROM trades " \
          "GROUP BY symbol, window"
    built = build(sql, "SELECT", context())
    [op] = [s for s in built.stages if isinstance(s, AggregateOperator)]
    assert op.partial is not None  # this is the path under test
    staged = StagedQuery(built)
    data = table(rows)
    out: list[pa.Table] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(rows)]:
        if start < cut <= len(rows):
            out.append(staged.run([data.slice(start, cut - start)]))
            start = cut
            # the next close, kept without scanning the state, is the state's earliest end
            assert op._next_close == op._earliest_end()
    out.append(staged.finish())
    staged.close()
    got = []
    for part in out:
        for row in part.to_pylist():
            window = row.pop("window")
            row["ws"] = int((window["start"] - EPOCH).total_seconds())
            row["we"] = int((window["end"] - EPOCH).total_seconds())
            got.append(row)
    got.sort(key=lambda r: (r["ws"], r["symbol"]))
    return got


@settings(deadline=None, max_examples=examples(60))
@given(events, st.lists(st.integers(0, 60), max_size=8), st.sampled_from(sorted(WINDOWS)))
def test_partials_equal_one_group_by_exactly(rows: list[Row], cuts: list[int], kind: str) -> None:
    assert run(kind, rows, cuts) == expected(kind, on_time(rows))


@pytest.mark.parametrize(
    "select",
    [
        "COUNT(*) AS n",
        "symbol, COUNT(price) AS n, AVG(amount) AS a",
        "upper(symbol) AS u, MAX(price) - MIN(price) AS spread",  # GROUP BY below uses u
    ],
)
def test_mergeable_aggregates_keep_partials(select: str) -> None:
    keys = "u, " if " AS u" in select else ("symbol, " if select.startswith("symbol") else "")
    op = operator(f"SELECT {select}, TUMBLE(INTERVAL '1' SECOND) AS w FROM trades "
                  f"GROUP BY {keys}w HAVING COUNT(*) > 0")
    assert op.partial is not None
    assert "__laminar_time" not in op._state_columns  # partials, not rows


@pytest.mark.parametrize(
    "select",
    [
        "symbol, COUNT(DISTINCT price) AS n",
        "symbol, SUM(price) FILTER (WHERE price > 0) AS n",
        "symbol, AVG(ratio) AS n",  # floating point: the batching would show in the last bits
        "symbol, SUM(ratio) AS n",
        "symbol, quantile_cont(price, 0.5) AS n",
        "symbol, string_agg(symbol, ',') AS n",
        "symbol, favg(price) AS n",  # unknown to the rewriter: may be an aggregate
        "symbol, min(price, 2) AS n",  # DuckDB's n smallest, a list
    ],
)
def test_other_aggregates_keep_raw_rows(select: str) -> None:
    op = operator(f"SELECT {select}, TUMBLE(INTERVAL '1' SECOND) AS w FROM trades "
                  "GROUP BY symbol, w")
    assert op.partial is None
    assert "__laminar_time" in op._state_columns  # rows, each with its time


def test_sessions_keep_raw_rows_and_updating_results_partials() -> None:
    session = operator("SELECT symbol, COUNT(*) AS n, SESSION(INTERVAL '5' SECOND) AS w "
                       "FROM trades GROUP BY symbol, w")
    updating = operator("SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol")
    distinct = operator("SELECT DISTINCT symbol FROM trades")
    medians = operator("SELECT symbol, median(price) AS m FROM trades GROUP BY symbol")
    assert session.partial is None and medians.partial is None
    assert updating.partial is not None and distinct.partial is not None


UPDATING = {
    "grouped": f"SELECT symbol, {AGGREGATES} FROM trades GROUP BY symbol",
    "having": "SELECT upper(symbol) AS u, SUM(price) AS total, COUNT(*) AS n FROM trades "
              "GROUP BY u HAVING SUM(price) > 0",
    "global": "SELECT COUNT(*) AS n, MIN(price) AS low, AVG(amount) AS mean_amount "
              "FROM trades",
    "distinct": "SELECT DISTINCT symbol FROM trades",
    # a live top 2: groups the batch did not touch enter and leave it
    "top": "SELECT symbol, SUM(price) AS total, COUNT(*) AS n FROM trades GROUP BY symbol "
           "QUALIFY row_number() OVER (ORDER BY total DESC, symbol) <= 2",
}


def truth(sql: str, rows: list[Row]) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    con.register("trades", table(rows))
    return sorted(con.sql(sql).fetchall(), key=repr) if rows else []


@settings(deadline=None, max_examples=examples(60))
@given(events, st.lists(st.integers(0, 60), max_size=8), st.sampled_from(sorted(UPDATING)))
# C alone in a batch ranks first among the groups it touched, not among all of them
@example([("A", 10, "1.000", 1), ("B", 5, "1.000", 2), ("C", 1, "1.000", 3)], [1, 2], "top")
def test_updating_partials_after_every_batch_equal_one_group_by(
    rows: list[Row], cuts: list[int], name: str
) -> None:
    # Compacting after every few rows: the merges of partials are exercised too.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aggregate_module, "COMPACT_MIN_ROWS", 2)
        sql = UPDATING[name]
        staged = StagedQuery(build(sql, "SELECT", context()))
        [op] = staged.operators
        assert op.partial is not None  # the path under test
        data, start, kept = table(rows), 0, on_time(rows)
        current: dict[str, tuple[Any, ...]] = {}
        for cut in [*sorted(set(cuts)), len(rows)]:
            if not start < cut <= len(rows):
                continue
            changes = staged.run([data.slice(start, cut - start)]).to_pylist()
            start = cut
            keys = [repr([v for k, v in c.items() if k in ("symbol", "u")]) for c in changes]
            assert len(keys) == len(set(keys))  # at most one change per group per batch
            for key, change in zip(keys, changes, strict=True):
                op_code = change.pop("op")
                if op_code == "d":
                    del current[key]
                else:
                    assert (op_code == "c") == (key not in current)
                    current[key] = tuple(change.values())
            prefix = on_time(rows[:cut])
            assert sorted(current.values(), key=repr) == truth(sql, prefix)
        groups = 1 if name == "global" else len({r[0] for r in kept})
        assert op.state_rows < max(2 * groups, 2)  # compacted whenever it doubled
        staged.close()


def test_partials_survive_a_checkpoint() -> None:
    sql = f"SELECT symbol, {AGGREGATES}, TUMBLE(INTERVAL '10' SECOND) AS window " \
          "FROM trades GROUP BY symbol, window"
    rows: list[Row] = [("A", i, f"{i}.125", i) for i in range(30)]
    first, second = (StagedQuery(build(sql, "SELECT", context())) for _ in range(2))
    before = first.run([table(rows[:16])])  # watermark 15 - 5 closes [0, 10)
    second.restore(first.snapshot())
    assert first.operators[0].state_rows == second.operators[0].state_rows > 0
    after = [q.run([table(rows[16:])]) for q in (first, second)]
    assert before.num_rows == 1 and after[0].num_rows == 1 and after[0].equals(after[1])
    assert first.finish().equals(second.finish())


@settings(deadline=None, max_examples=examples(40))
@given(events, st.lists(st.integers(0, 60), max_size=8), st.sampled_from(sorted(WINDOWS)))
def test_raw_rows_keep_the_next_close_without_a_scan_too(
    rows: list[Row], cuts: list[int], kind: str
) -> None:
    sql = f"SELECT symbol, COUNT(DISTINCT price) AS d, {WINDOWS[kind]} AS window " \
          "FROM trades GROUP BY symbol, window"
    staged = StagedQuery(build(sql, "SELECT", context()))
    [op] = staged.operators
    assert op.partial is None
    data, start = table(rows), 0
    for cut in [*sorted(set(cuts)), len(rows)]:
        if start < cut <= len(rows):
            staged.run([data.slice(start, cut - start)])
            start = cut
            assert op._next_close == op._earliest_end()
    staged.close()


def test_closing_windows_become_json_slice_by_slice_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A million windows closing at once are turned into JSON a slice at a time (their
    # Arrow text and Python strings never all exist at once): nothing lost or reordered.
    monkeypatch.setattr(staged_module, "JSON_SLICE_ROWS", 7)
    sql = "SELECT symbol, COUNT(*) AS n, TUMBLE(INTERVAL '10' SECOND) AS window " \
          "FROM trades GROUP BY symbol, window"
    staged = StagedQuery(build(sql, "SELECT", context()))
    staged.run([table([(f"S{i:03d}", i, "1.5", i % 5) for i in range(100)])])
    closing = staged.finish()
    texts = staged.to_json(closing)
    staged.close()
    assert closing.num_rows == 100
    assert [json.loads(t)["symbol"] for t in texts] == closing.column("symbol").to_pylist()
    assert json.loads(texts[0])["window"] == {
        "start": "1970-01-01T00:00:00.000000Z", "end": "1970-01-01T00:00:10.000000Z"
    }


def test_saved_state_fits_only_the_query_that_saved_it() -> None:
    # State is kept per pipeline (table -> sink), so an edited pipeline file meets the
    # old query's state: a COUNT's partials have the very layout of a MAX's.
    def staged(select: str) -> StagedQuery:
        sql = f"SELECT symbol, {select}, TUMBLE(INTERVAL '10' SECOND) AS window " \
              "FROM trades GROUP BY symbol, window"
        return StagedQuery(build(sql, "SELECT", context()))

    counting, same, maxing, wider = (
        staged(s) for s in ("COUNT(*) AS n", "COUNT(*) AS n", "MAX(price) AS n",
                            "COUNT(*) AS n, AVG(price) AS a")
    )
    counting.run([table([("A", 1000 + i, "1.5", i) for i in range(5)])])
    saved = counting.snapshot()
    assert same.misfit(saved) is None
    same.restore(saved)
    assert same.finish().column("n").to_pylist() == [5]
    for other in (maxing, wider):
        assert other.misfit(saved) == "the query changed since its window and group " \
                                      "state was saved"
    # A snapshot saved before they were signed: its layout is compared instead.
    [op] = counting.operators
    unsigned = {op.name: _without_signature(saved[op.name])}
    assert same.misfit(unsigned) is None and maxing.misfit(unsigned) is None
    assert "another layout" in (wider.misfit(unsigned) or "")
    for query in (counting, same, maxing, wider):
        query.close()


def _without_signature(state: bytes) -> bytes:
    (size,) = struct.unpack(">I", state[:4])
    header = json.loads(state[4 : 4 + size])
    del header["signature"]
    head = json.dumps(header).encode()
    return struct.pack(">I", len(head)) + head + state[4 + size :]
