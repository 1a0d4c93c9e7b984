"""Bad input gets a clear error, never a traceback (issue 9, item 9).

Each case is something a user can type or a server can send; each must end in a
LaminarError that says what is wrong, or in rows, never in a library's traceback.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from tests.support.sse_server import SSEServer, Stream, event

from laminar.api import _rows
from laminar.errors import ConfigError, StateError
from laminar.formats.codec import loads_one
from laminar.runtime.state import StateStore
from laminar.sql.continuous import ContinuousQuery
from laminar.sql.engine import Engine


async def run_query(events: list, table: str, query: str) -> list[dict[str, Any]]:
    async with SSEServer(Stream(*events)) as server:
        engine = Engine(env={})
        engine.execute(table.replace("{url}", server.url))
        [running] = engine.execute(query)
        assert isinstance(running, ContinuousQuery)
        rows: list[dict[str, Any]] = []

        async def drain() -> None:
            async for batch in running.arrow_batches():
                rows.extend(_rows(batch))

        await asyncio.wait_for(drain(), 10)
    return rows


# -- column names msgspec's struct path cannot hold ----------------------------------------


@pytest.mark.parametrize("name", ['a"b', "a\\b", "tab\there"])
async def test_quoted_column_names_with_quotes_backslashes_and_controls(name: str) -> None:
    quoted = '"' + name.replace('"', '""') + '"'
    payloads = [{name: 1, "x": "one"}, {name: 2, "x": "two"}]
    rows = await run_query(
        [event(json.dumps(p), id=str(i)) for i, p in enumerate(payloads, 1)],
        f"CREATE TABLE t ({quoted} BIGINT, x TEXT) WITH (endpoint = '{{url}}', "
        "reconnect_interval_ms = 10, buffer_timeout_ms = 5)",
        f"SELECT {quoted} AS v, x FROM t",
    )
    assert rows == [{"v": 1, "x": "one"}, {"v": 2, "x": "two"}]


# -- file_prefix stays inside the sink's path ---------------------------------------------


@pytest.mark.parametrize("prefix", ["/../escaped", "../up", "a/b", "..", "x\\y", ""])
def test_file_prefix_must_be_a_plain_file_name(tmp_path: Path, prefix: str) -> None:
    engine = Engine(env={})
    with pytest.raises(ConfigError, match="file_prefix: expected a plain file name"):
        engine.execute(
            f"CREATE TABLE out (a TEXT) WITH (connector = 'filesystem', path = '{tmp_path}', "
            f"file_prefix = '{prefix}')"
        )


def test_plain_file_prefix_is_accepted(tmp_path: Path) -> None:
    engine = Engine(env={})
    [created] = engine.execute(
        f"CREATE TABLE out (a TEXT) WITH (connector = 'filesystem', path = '{tmp_path}', "
        "file_prefix = 'trades-v2.part')"
    )
    assert created.text == "CREATE TABLE out"


# -- a state store whose schema_version is not a number -------------------------------------


@pytest.mark.parametrize("version", ["two", "", "1.5"])
def test_non_numeric_schema_version_is_a_state_error(tmp_path: Path, version: str) -> None:
    StateStore.open(tmp_path).close()
    db = sqlite3.connect(tmp_path / "state.db")
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
    db.commit()
    db.close()
    with pytest.raises(StateError, match=r"schema version .* is not a number.*move it away"):
        StateStore.open(tmp_path)
    # The lock was released: after a repair the store opens again.
    db = sqlite3.connect(tmp_path / "state.db")
    db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    StateStore.open(tmp_path).close()


# -- a JSON lone surrogate is not "truncated" -----------------------------------------------


@pytest.mark.parametrize("text", [r'"\ud800"', r'{"a": "x\udbff"}', r'["\udc00"]'])
def test_lone_surrogate_is_explained(text: str) -> None:
    with pytest.raises(ValueError, match="lone UTF-16 surrogate") as caught:
        loads_one(text)
    assert "truncated" not in str(caught.value)


def test_truncated_json_still_says_truncated() -> None:
    with pytest.raises(ValueError, match="truncated"):
        loads_one('{"a": "x')
    assert loads_one(r'"\ud83d\ude00 \\ud800"') == "\U0001f600 \\ud800"


async def test_lone_surrogate_payload_reaches_the_error_row() -> None:
    rows = await run_query(
        [event(r'{"a": "\ud800"}', id="1"), event('{"a": "ok"}', id="2")],
        "CREATE TABLE t (a TEXT, error_message TEXT) WITH (endpoint = '{url}', "
        "capture_errors = true, reconnect_interval_ms = 10, buffer_timeout_ms = 5)",
        "SELECT a, error_message FROM t",
    )
    assert rows[1] == {"a": "ok", "error_message": None}
    assert rows[0]["a"] is None
    assert "lone UTF-16 surrogate" in rows[0]["error_message"]
