"""Property: a window's answer is one DuckDB GROUP BY over the whole input.

However the stream is cut into batches, the rows emitted by the window
operator equal a single GROUP BY over every on-time row (late rows judged one
by one against the watermark), for tumbling, hopping and session windows and
for aggregates that cannot be merged from partial results.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.support.examples import examples

from laminar.sql.planner import StagedQuery, StreamContext, build

SCHEMA = pa.schema([("symbol", pa.string()), ("price", pa.int64()), ("ts", pa.timestamp("us"))])
AGGREGATES = (
    "COUNT(*) AS n, COUNT(DISTINCT price) AS prices, SUM(price) AS total, AVG(price) AS mean, "
    "MIN(price) AS low, MAX(price) AS high, quantile_cont(price, 0.5) AS median, "
    "string_agg(price::VARCHAR, ',' ORDER BY price) AS listed"
)
WINDOWS = {
    "tumble": ("TUMBLE(INTERVAL '10' SECOND)", None),
    "hop": ("HOP(INTERVAL '5' SECOND, INTERVAL '15' SECOND)", None),
    "session": ("SESSION(INTERVAL '7' SECOND)", None),
}
DELAY_S = 5
EPOCH = datetime(1970, 1, 1)

events = st.lists(
    st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(-50, 50), st.integers(0, 120)),
    min_size=1,
    max_size=60,
)


def context() -> StreamContext:
    return StreamContext(
        table="trades", schema=SCHEMA, views={}, partitions=1, event_time_field="ts",
        watermark_delay_ms=DELAY_S * 1000, idle_timeout_ms=10**9, memory_limit_mb=64,
    )


def on_time(rows: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """The rows the watermark lets through, judged in stream order."""
    kept, top = [], None
    for row in rows:
        if top is None or row[2] >= top - DELAY_S:
            kept.append(row)
        top = row[2] if top is None else max(top, row[2])
    return kept


def expected(kind: str, rows: list[tuple[str, int, int]]) -> list[dict[str, Any]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (symbol TEXT, price BIGINT, s BIGINT)")
    if rows:
        con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    if kind == "tumble":
        windows = "SELECT *, s - (s % 10 + 10) % 10 AS ws, s - (s % 10 + 10) % 10 + 10 AS we FROM t"
    elif kind == "hop":
        windows = (
            "SELECT * FROM (SELECT *, unnest(generate_series(s - (s % 5 + 5) % 5 - 10, "
            "s - (s % 5 + 5) % 5, 5)) AS ws FROM t) x, LATERAL (SELECT ws + 15 AS we) "
            "WHERE ws + 15 > s"
        )
    else:
        windows = """SELECT *, min(s) OVER (PARTITION BY symbol, sid) AS ws,
                            max(s) OVER (PARTITION BY symbol, sid) + 7 AS we FROM (
            SELECT *, sum(CASE WHEN prev IS NULL OR s - prev >= 7 THEN 1 ELSE 0 END)
                      OVER (PARTITION BY symbol ORDER BY s ROWS UNBOUNDED PRECEDING) AS sid
            FROM (SELECT *, lag(s) OVER (PARTITION BY symbol ORDER BY s) AS prev FROM t))"""
    result = con.sql(
        f"SELECT symbol, {AGGREGATES}, ws, we FROM ({windows}) GROUP BY symbol, ws, we "
        "ORDER BY ws, symbol"
    )
    return [dict(zip(result.columns, r, strict=True)) for r in result.fetchall()]


def run(kind: str, rows: list[tuple[str, int, int]], cuts: list[int]) -> list[dict[str, Any]]:
    call = WINDOWS[kind][0]
    sql = f"SELECT symbol, {AGGREGATES}, {call} AS window FROM trades GROUP BY symbol, window"
    built = build(sql, "SELECT", context())
    staged = StagedQuery(built)
    table = pa.table(
        {
            "symbol": [r[0] for r in rows],
            "price": [r[1] for r in rows],
            "ts": pa.array([r[2] * 1_000_000 for r in rows], pa.timestamp("us")),
        },
        schema=SCHEMA,
    )
    out: list[pa.Table] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(rows)]:
        if cut <= start or cut > len(rows):
            continue
        out.append(staged.run([table.slice(start, cut - start)]))
        start = cut
    out.append(staged.finish())
    staged.close()
    got = []
    for part in out:
        for row in part.to_pylist():
            window = row.pop("window")
            row["ws"] = int((window["start"] - EPOCH).total_seconds())
            row["we"] = int((window["end"] - EPOCH).total_seconds())
            got.append(row)
    return got


def same(got: list[dict[str, Any]], want: list[dict[str, Any]], epoch: int) -> bool:
    if len(got) != len(want):
        return False
    for g, w in zip(got, want, strict=True):
        for key, value in w.items():
            other = g[key] - epoch if key in ("ws", "we") else g[key]
            if isinstance(value, float):
                if not math.isclose(other, value, rel_tol=1e-9, abs_tol=1e-9):
                    return False
            elif other != value:
                return False
    return True


@settings(deadline=None, max_examples=examples())
@given(events, st.lists(st.integers(0, 60), max_size=8), st.sampled_from(sorted(WINDOWS)))
def test_windows_equal_one_group_by_however_the_stream_is_cut(
    rows: list[tuple[str, int, int]], cuts: list[int], kind: str
) -> None:
    got = run(kind, rows, cuts)
    want = expected(kind, on_time(rows))
    # emitted windows come in watermark order; compare as one ordered answer
    got.sort(key=lambda r: (r["ws"], r["symbol"]))
    assert same(got, want, epoch=0), (got, want)


def test_state_past_its_memory_limit_spills_to_disk(tmp_path: Any) -> None:
    ctx = context()
    ctx.memory_limit_mb = 64
    ctx.spill_dir = str(tmp_path)
    sql = "SELECT symbol, COUNT(*) AS n, TUMBLE(INTERVAL '1' HOUR) AS window FROM trades " \
          "GROUP BY symbol, window"
    staged = StagedQuery(build(sql, "SELECT", ctx))
    n = 2_000_000
    symbols = pa.array([f"symbol-{i:07d}" for i in range(n)])
    table = pa.table({"symbol": symbols, "price": pa.array(range(n), pa.int64()),
                      "ts": pa.array([1_000_000] * n, pa.timestamp("us"))}, schema=SCHEMA)
    staged.run([table])
    rows, size, spilled = staged.state_size
    assert rows == n and spilled > 0 and size >= spilled
    assert staged.finish().num_rows == n  # every group comes back from disk
    staged.close()



def run_top_two(kind: str, rows: list[tuple[str, int, int]], cuts: list[int]) -> list[tuple]:
    call = WINDOWS[kind][0]
    sql = (
        f"SELECT symbol, SUM(price) AS total, {call} AS window FROM trades "
        "GROUP BY symbol, window "
        "QUALIFY row_number() OVER (PARTITION BY window ORDER BY total DESC, symbol) <= 2 "
        "ORDER BY window.end, total DESC, symbol"
    )
    staged = StagedQuery(build(sql, "SELECT", context()))
    table = pa.table(
        {
            "symbol": [r[0] for r in rows],
            "price": [r[1] for r in rows],
            "ts": pa.array([r[2] * 1_000_000 for r in rows], pa.timestamp("us")),
        },
        schema=SCHEMA,
    )
    got: list[tuple] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(rows)]:
        if start < cut <= len(rows):
            got += _ranked(staged.run([table.slice(start, cut - start)]))
            start = cut
    got += _ranked(staged.finish())
    staged.close()
    return got


def _ranked(part: pa.Table) -> list[tuple]:
    return [
        (int((r["window"]["start"] - EPOCH).total_seconds()),
         int((r["window"]["end"] - EPOCH).total_seconds()), r["symbol"], r["total"])
        for r in part.to_pylist()
    ]


@settings(deadline=None, max_examples=examples())
@given(events, st.lists(st.integers(0, 60), max_size=8), st.sampled_from(sorted(WINDOWS)))
# two sessions closing together, the later-starting one first: only the end orders them
@example([("A", 0, 55), ("B", 0, 56), ("B", 0, 51)], [], "session")
def test_top_n_per_window_is_exact_however_the_stream_is_cut(
    rows: list[tuple[str, int, int]], cuts: list[int], kind: str
) -> None:
    windows: dict[tuple[int, int], list[tuple]] = {}
    for w in expected(kind, on_time(rows)):
        windows.setdefault((w["ws"], w["we"]), []).append(
            (w["ws"], w["we"], w["symbol"], w["total"]))
    want = []
    for bounds in windows:
        want += sorted(windows[bounds], key=lambda r: (-r[3], r[2]))[:2]
    want.sort(key=lambda r: (r[1], -r[3], r[2]))
    # in one sequence, as it streams out: ordered by window end across every batch
    assert run_top_two(kind, rows, cuts) == want
