"""Feeds with an ``offset`` field (Kafka-style records, Wikimedia's EventStreams).

``offset`` is a SQL keyword; quoted, it is an ordinary name. Queries are read
structurally (sqlglot), so such a column or alias is never taken for an OFFSET
clause, while a real OFFSET clause is still refused (its answer would depend on
the micro-batching). Every query runs against a real local SSE server.
"""

from __future__ import annotations

import json

import pytest
from tests.integration.test_windows import run_json
from tests.support.sse_server import Stream, event

from laminar.errors import SQLError
from laminar.sql.ast import Select
from laminar.sql.engine import Engine
from laminar.sql.parser import parse_statement

KAFKA = """CREATE TABLE records (topic TEXT, "partition" INT, "offset" BIGINT, "key" TEXT)
    WITH (endpoint = '{url}', format = 'json', buffer_size = 1, reconnect_interval_ms = 10)"""

WIKI = """CREATE TABLE recentchange (title TEXT, wiki TEXT, meta JSON)
    WITH (endpoint = '{url}', format = 'json', buffer_timeout_ms = 10,
          reconnect_interval_ms = 10)"""


def record(i: int, partition: int, offset: int, key: str) -> object:
    payload = {"topic": "orders", "partition": partition, "offset": offset, "key": key}
    return event(json.dumps(payload), id=str(i))


RECORDS = Stream(
    record(1, 0, 100, "a"),
    record(2, 1, 7, "b"),
    record(3, 0, 101, "c"),
    record(4, 1, 8, "d"),
    record(5, 0, 102, "e"),
)


async def test_offset_column_in_select_where_and_limit() -> None:
    rows = await run_json(
        RECORDS, KAFKA,
        'SELECT "partition", "offset", "key" FROM records WHERE "offset" > 7 LIMIT 3',
    )
    assert rows == [
        {"partition": 0, "offset": 100, "key": "a"},
        {"partition": 0, "offset": 101, "key": "c"},
        {"partition": 1, "offset": 8, "key": "d"},
    ]


async def test_offset_as_an_alias_and_in_an_expression() -> None:
    rows = await run_json(
        RECORDS, KAFKA,
        'SELECT "key" AS "offset", "offset" + 1 AS next_offset FROM records '
        'WHERE "partition" = 1',
    )
    assert rows == [{"offset": "b", "next_offset": 8}, {"offset": "d", "next_offset": 9}]


async def test_latest_offset_per_partition_is_an_updating_result() -> None:
    rows = await run_json(
        RECORDS, KAFKA,
        'SELECT "partition", MAX("offset") AS "offset" FROM records GROUP BY "partition"',
    )
    assert rows == [
        {"partition": 0, "offset": 100, "op": "c"},
        {"partition": 1, "offset": 7, "op": "c"},
        {"partition": 0, "offset": 101, "op": "u"},
        {"partition": 1, "offset": 8, "op": "u"},
        {"partition": 0, "offset": 102, "op": "u"},
    ]


async def test_wikimedia_meta_offset_through_a_view() -> None:
    changes = [
        {"title": "Tea", "wiki": "enwiki",
         "meta": {"topic": "eqiad.mediawiki.recentchange", "partition": 0, "offset": 5001}},
        {"title": "Thé", "wiki": "frwiki",
         "meta": {"topic": "eqiad.mediawiki.recentchange", "partition": 0, "offset": 5002}},
    ]
    # Wikimedia's event ids are JSON arrays of Kafka positions.
    ids = [json.dumps([{"topic": "eqiad.mediawiki.recentchange", "partition": 0,
                        "offset": c["meta"]["offset"]}]) for c in changes]
    stream = Stream(*(event(json.dumps(c), id=i) for c, i in zip(changes, ids, strict=True)))
    rows = await run_json(
        stream,
        WIKI + ";\nCREATE VIEW positions AS SELECT title, "
        "CAST(meta->>'$.offset' AS BIGINT) AS \"offset\" FROM recentchange",
        'SELECT "offset", title FROM positions WHERE "offset" >= 5002',
    )
    assert rows == [{"offset": 5002, "title": "Thé"}]


def test_a_real_offset_clause_is_still_refused() -> None:
    engine = Engine(env={})
    engine.execute(KAFKA.replace("{url}", "http://127.0.0.1:9/x"))
    with pytest.raises(SQLError, match="OFFSET"):
        engine.execute('SELECT "offset" FROM records LIMIT 2 OFFSET 1')
    with pytest.raises(SQLError, match="OFFSET"):
        engine.execute('SELECT "offset" AS "offset" FROM records OFFSET 3')
    # The parser reads LIMIT and the sources from the syntax tree: the name is no clause.
    statement = parse_statement('SELECT "offset" AS "limit" FROM records LIMIT 4')
    assert isinstance(statement, Select)
    assert (statement.query.sources, statement.query.limit) == (["records"], 4)
