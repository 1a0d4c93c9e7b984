"""Plain queries read with DuckDB's parser (laminar.sql.plain) agree with sqlglot's analysis."""

from __future__ import annotations

import subprocess
import sys

import pytest

from laminar.sql.plain import PlainQuery, read
from laminar.sql.query import analyse, relations, top_level_limit

PLAIN = [
    ("SELECT symbol, price FROM stock_stream LIMIT 1", "stock_stream", 1),
    ("SELECT * FROM stock_stream WHERE price > 1000 OR price < 10", "stock_stream", None),
    ('SELECT "offset", a AS "offset" FROM t WHERE "offset" > 3', "t", None),
    ("SELECT price * 2 AS p, -price FROM t WHERE symbol IN ('a', 'b') AND price BETWEEN 1 "
     "AND 2 AND NOT x IS NULL AND y IS NOT NULL AND z <> 3", "t", None),
    ("SELECT t.a FROM t AS x WHERE a = 'it''s' -- a comment\n", "t", None),
    ('SELECT a FROM "t" FETCH FIRST 3 ROWS ONLY', "t", 3),
    ("SELECT price AS window FROM t LIMIT 0", "t", 0),
]

NOT_PLAIN = [
    "SELECT COUNT(*) FROM t",  # a function (an aggregate)
    "SELECT upper(a) FROM t",  # a function (DuckDB's parser cannot tell an aggregate)
    "SELECT DISTINCT a FROM t",
    "SELECT a FROM t ORDER BY a",
    "SELECT a FROM t LIMIT 2 OFFSET 3",
    "SELECT a FROM t LIMIT 10%",
    "SELECT a FROM t LIMIT 1_000",
    "SELECT a FROM t GROUP BY a",
    "SELECT a, SUM(b) OVER (PARTITION BY a) FROM t",
    "SELECT a FROM t JOIN u ON t.a = u.a",
    "SELECT a FROM t UNION ALL SELECT a FROM t",
    "WITH v AS (SELECT a FROM t) SELECT a FROM v",
    "SELECT a FROM (SELECT a FROM t)",
    "SELECT a FROM t WHERE a IN (SELECT a FROM u)",
    "SELECT a FROM Stock",  # quoted or not? DuckDB's tree does not say
    "SELECT a FROM main.t",
    "SELECT a FROM t AS x(b)",
    "SELECT a::DOUBLE FROM t",
    "SELECT a FROM t WHERE a LIKE 'x%'",
    "SELECT * EXCLUDE (a) FROM t",
    "SELECT a FROM t WHERE a = $1",
    "SELECT window FROM t",  # DuckDB cannot parse it; sqlglot's path quotes it
    "SELECT a FROM read_csv('x.csv')",
    "SELECT a FROM t QUALIFY a > 1",
    "SELECT a FROM",  # a syntax error: sqlglot's path reports it as it always did
    "SELECT 1",
]


@pytest.mark.parametrize(("sql", "relation", "limit"), PLAIN)
def test_plain_queries_agree_with_sqlglot(sql: str, relation: str, limit: int | None) -> None:
    assert read(sql) == PlainQuery(relation, limit)
    shape = analyse(sql)
    assert relations(shape.tree) == [relation]
    assert top_level_limit(shape.tree) == limit
    assert not (shape.aggregating or shape.has_offset or shape.has_order or shape.has_join
                or shape.has_distinct or shape.window_functions or shape.window)


@pytest.mark.parametrize("sql", NOT_PLAIN)
def test_other_queries_are_left_to_sqlglot(sql: str) -> None:
    assert read(sql) is None


def test_a_plain_pipeline_never_imports_sqlglot() -> None:
    script = """
import sys
from laminar.sql.engine import Engine
engine = Engine()
engine.execute(
    "CREATE TABLE s (symbol TEXT, price DOUBLE) WITH (connector = 'sse_source', "
    "endpoint = 'http://127.0.0.1:9/x', format = 'json');"
)
(query,) = engine.execute("SELECT symbol FROM s WHERE price > 1 LIMIT 3")
assert query.columns == ["symbol"], query.columns
print("sqlglot" in sys.modules)
query.close()
engine.execute("SELECT symbol, COUNT(*) AS n FROM s GROUP BY symbol")[0].close()
print("sqlglot" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()
    assert out == ["False", "True"]


def test_parsing_leaves_an_empty_usable_database_for_the_next_query() -> None:
    from laminar.sql import databases

    read("SELECT a FROM t")
    spare = databases._spare[-1]
    con = databases.open_database()
    assert con is spare
    try:
        con.execute("CREATE VIEW v AS SELECT 42 AS x")  # no unfinished result in the way
        assert con.execute("SELECT x FROM v").fetchall() == [(42,)]
        tables = con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        assert tables == []
    finally:
        con.close()
