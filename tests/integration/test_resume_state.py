"""State store and resume: the catalog survives a restart, committed ids resume the stream.

Real SSE servers on 127.0.0.1; the pipelines run in-process (``run_all``) into
JSON-lines files, then the test reads the files.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest
from tests.chaos.chaos_server import Feed
from tests.support.sse_server import SSEServer, Stream, drop, format_event, raw

from laminar.errors import PayloadError, StateError
from laminar.runtime.state import StateStore, decode_dedup, encode_dedup
from laminar.sql.continuous import ContinuousQuery
from laminar.sql.engine import Engine
from laminar.sql.pipelines import run_all


def pipeline_sql(
    url: str,
    out: Path,
    *,
    extra: str = "",
    persist: bool = True,
    query: str = "SELECT event_id, n FROM src",
) -> str:
    return f"""
    CREATE TABLE src (n INTEGER, event_id TEXT) WITH (
        endpoint = '{url}', format = 'json', capture_event_id = true,
        persist_event_id = {str(persist).lower()}, reconnect_interval_ms = 10,
        buffer_timeout_ms = 5 {extra});
    CREATE TABLE out (event_id TEXT, n INTEGER) WITH (
        connector = 'filesystem', path = '{out}', rollover_interval_ms = 50);
    INSERT INTO out {query};
    """


async def run_pipeline_once(state: StateStore | None, sql: str) -> Engine:
    engine = Engine(state=state)
    results = engine.execute(sql)
    await run_all([r for r in results if isinstance(r, ContinuousQuery)], state=state)
    return engine


def delivered_ids(out: Path) -> list[str]:
    ids: list[str] = []
    for path in sorted(out.glob("*.jsonl")):
        ids.extend(json.loads(line)["event_id"] for line in path.read_text().splitlines())
    return ids


def numbered(start: int, count: int) -> bytes:
    return b"".join(
        format_event(json.dumps({"n": i}), id=str(i)) for i in range(start, start + count)
    )


async def test_committed_id_resumes_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    async with SSEServer(Stream(raw(numbered(1, 5)))) as server:
        with StateStore.open(tmp_path / "state") as state:
            await run_pipeline_once(state, pipeline_sql(server.url, out))
            assert state.checkpoint("src->out").last_event_id == "5"  # type: ignore[union-attr]
        server.add(Stream(raw(numbered(6, 3))))
        with StateStore.open(tmp_path / "state") as state:
            await run_pipeline_once(state, pipeline_sql(server.url, out))
    assert server.requests[0].last_event_id is None
    assert server.requests[2].last_event_id == "5"  # requests[1] was the 204 ending run 1
    assert delivered_ids(out) == [str(i) for i in range(1, 9)]  # no loss, no duplicate


async def test_last_event_id_option_seeds_only_a_first_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    sql = pipeline_sql("URL", out, extra=", last_event_id = '${LAST_PROCESSED_ID:-41}'")
    async with SSEServer(Stream(raw(numbered(42, 2)))) as server:
        sql = sql.replace("URL", server.url)
        with StateStore.open(tmp_path / "state") as state:
            await run_pipeline_once(state, sql)
            server.add(Stream(raw(numbered(44, 1))))
            await run_pipeline_once(state, sql)
    sent = [r.last_event_id for r in server.requests]
    assert sent[0] == "41"  # the option seeds the first run
    assert sent[2] == "43"  # the committed id wins afterwards (sent[1]: the 204 of run 1)
    assert delivered_ids(out) == ["42", "43", "44"]


async def test_without_persist_event_id_nothing_is_committed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    async with SSEServer(Stream(raw(numbered(1, 2)))) as server:
        with StateStore.open(tmp_path / "state") as state:
            await run_pipeline_once(state, pipeline_sql(server.url, out, persist=False))
            assert state.checkpoints() == []


async def test_dedup_state_survives_a_restart(tmp_path: Path) -> None:
    out = tmp_path / "out"
    extra = ", deduplicate_by = 'n', dedup_window_ms = 600000"
    first = Stream(raw(numbered(1, 3)))
    # The second run's server sends different ids with payloads n = 2, 3 (seen) and 4 (new).
    again = b"".join(format_event(json.dumps({"n": n}), id=f"x{n}") for n in (2, 3, 4))
    async with SSEServer(first, Stream(raw(again))) as server:
        server.scripts.insert(1, Stream(status=204))
        with StateStore.open(tmp_path / "state") as state:
            await run_pipeline_once(state, pipeline_sql(server.url, out, extra=extra))
        with StateStore.open(tmp_path / "state") as state:
            await run_pipeline_once(state, pipeline_sql(server.url, out, extra=extra))
    assert delivered_ids(out) == ["1", "2", "3", "x4"]


async def test_reconnect_mid_event_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    blob = numbered(1, 3)
    cut = blob.index(b"id: 3") + 10  # inside event 3
    async with SSEServer(Stream(raw(blob[:cut]), drop()), Stream(raw(numbered(3, 2)))) as server:
        with StateStore.open(tmp_path / "state") as state:
            await run_pipeline_once(state, pipeline_sql(server.url, out))
    assert server.requests[1].last_event_id == "2"
    assert delivered_ids(out) == ["1", "2", "3", "4"]


def test_catalog_survives_a_restart_and_rerunning_a_file_is_idempotent(tmp_path: Path) -> None:
    ddl = """
    CREATE CONNECTION feed FROM sse_source WITH (endpoint = 'http://127.0.0.1:1/e');
    CREATE TABLE t (a TEXT) WITH (connection = 'feed');
    CREATE VIEW v AS SELECT a FROM t;
    """
    with StateStore.open(tmp_path) as state:
        Engine(state=state).execute(ddl)
    with StateStore.open(tmp_path) as state:
        engine = Engine(state=state)
        assert set(engine.catalog.connections) == {"feed"}
        assert set(engine.catalog.tables) == {"t"}
        assert set(engine.catalog.views) == {"v"}
        messages = [r.text for r in engine.execute(ddl)]  # type: ignore[union-attr]
        assert all("unchanged" in m for m in messages)
        # A changed definition of a restored object replaces it (the file is the truth) …
        engine.execute("CREATE TABLE t (a TEXT, b TEXT) WITH (connection = 'feed')")
        # … and inside one session the usual rules hold.
        with pytest.raises(Exception, match="already exists"):
            engine.execute("CREATE TABLE t (a TEXT) WITH (connection = 'feed')")
        engine.execute("DROP VIEW v")
    with StateStore.open(tmp_path) as state:
        engine = Engine(state=state)
        assert [c.name for c in engine.catalog.tables["t"].columns] == ["a", "b"]
        assert "v" not in engine.catalog.views


def _hold_lock(directory: str, ready: multiprocessing.Event, done: multiprocessing.Event) -> None:  # type: ignore[valid-type]
    with StateStore.open(directory):
        ready.set()  # type: ignore[attr-defined]
        done.wait(10)  # type: ignore[attr-defined]


def test_a_second_process_gets_a_clear_error(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, done))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(StateError, match=r"in use by another Laminar process \(pid \d+\)"):
            StateStore.open(tmp_path)
    finally:
        done.set()
        holder.join(10)
    with StateStore.open(tmp_path) as state:  # released when the holder ends
        assert state.statements() == []


def test_checkpoint_round_trip_keeps_key_types(tmp_path: Path) -> None:
    with StateStore.open(tmp_path) as state:
        dedup = encode_dedup([("a", 1), (2, 3), (2.5, 4), (True, 5)])
        state.commit("t->o", "t", "9", {"dedup": dedup, "window": b"\x00\xff"}, {"f": [1]})
        checkpoint = state.checkpoint("t->o")
        assert checkpoint is not None
        assert decode_dedup(checkpoint.states["dedup"]) == [("a", 1), (2, 3), (2.5, 4), (True, 5)]
        assert checkpoint.states["window"] == b"\x00\xff"
        assert checkpoint.sink_txn == {"f": [1]}
        state.commit("t->o", "t", "10", {"window": b"1"})  # states are replaced, not merged
        assert state.checkpoints()[0].states == {"window": b"1"}
        assert state.checkpoints()[0].sink_txn is None
        state.forget_table("t")
        assert state.checkpoint("t->o") is None
        assert state._db.execute("SELECT COUNT(*) FROM checkpoint_states").fetchone() == (0,)


def test_a_version_1_store_keeps_its_dedup_checkpoints(tmp_path: Path) -> None:
    import sqlite3

    db = sqlite3.connect(tmp_path / "state.db")
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE checkpoints (pipeline TEXT PRIMARY KEY, source_table TEXT NOT NULL,
            last_event_id TEXT NOT NULL, dedup TEXT, committed_at REAL NOT NULL);
        INSERT INTO checkpoints VALUES ('t->o', 't', '7', '[["s","k",5],["i",2,6]]', 1.0);
        INSERT INTO checkpoints VALUES ('u->o', 'u', '3', NULL, 1.0);
        """
    )
    db.commit()
    db.close()
    with StateStore.open(tmp_path) as state:
        first, second = state.checkpoints()
        assert first.last_event_id == "7"
        assert decode_dedup(first.states["dedup"]) == [("k", 5), (2, 6)]
        assert (second.last_event_id, second.states, second.sink_txn) == ("3", {}, None)
        state.commit("t->o", "t", "8", {}, {"publish": []})
    with StateStore.open(tmp_path) as state:  # migrated once; the new schema is used
        assert state.checkpoint("t->o").sink_txn == {"publish": []}  # type: ignore[union-attr]
        version = state._db.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        assert version.fetchone() == ("2",)


async def test_a_committed_id_is_sent_back_literally_never_expanded(tmp_path: Path) -> None:
    out = tmp_path / "out"
    hostile = "${LAMINAR_TEST_SECRET}"  # an id a server chose: not a template of ours
    first = format_event(json.dumps({"n": 1}), id=hostile)
    os.environ["LAMINAR_TEST_SECRET"] = "must-not-leave-this-machine"
    try:
        async with SSEServer(Stream(raw(first))) as server:
            with StateStore.open(tmp_path / "state") as state:
                await run_pipeline_once(state, pipeline_sql(server.url, out))
            server.add(Stream(raw(numbered(2, 1))))
            with StateStore.open(tmp_path / "state") as state:
                await run_pipeline_once(state, pipeline_sql(server.url, out))
    finally:
        del os.environ["LAMINAR_TEST_SECRET"]
    assert server.requests[2].last_event_id == hostile


async def test_limit_commits_only_the_rows_it_delivered(tmp_path: Path) -> None:
    out = tmp_path / "out"
    async with SSEServer(Stream(raw(numbered(1, 10)))) as server:
        sql = pipeline_sql(server.url, out, query="SELECT event_id, n FROM src LIMIT 3")
        with StateStore.open(tmp_path / "state") as state:
            await run_pipeline_once(state, sql)
            checkpoint = state.checkpoint("src->out")
    assert delivered_ids(out) == ["1", "2", "3"]
    # exactly the events behind the delivered rows are committed: not 10 (events 4..10
    # were never delivered), and the next run starts at 4 without repeating anything
    assert checkpoint is not None and checkpoint.last_event_id == "3"


async def test_limit_with_a_filter_commits_the_event_behind_its_last_row(tmp_path: Path) -> None:
    out = tmp_path / "out"
    query = "SELECT event_id, n FROM src WHERE n % 2 = 0 LIMIT 2"
    async with SSEServer(Stream(raw(numbered(1, 10)))) as server:
        sql = pipeline_sql(server.url, out, query=query)
        with StateStore.open(tmp_path / "state") as state:
            await run_pipeline_once(state, sql)
            checkpoint = state.checkpoint("src->out")
        server.add(Stream(raw(numbered(5, 6))))
        with StateStore.open(tmp_path / "state") as state:  # the same LIMIT query, run again
            await run_pipeline_once(state, sql)
    assert checkpoint is not None and checkpoint.last_event_id == "4"
    # the second run asks to resume after 4 (each run's reconnection, if the LIMIT ends it
    # after one, sends "10": the transport read all it was sent)
    assert "4" in [r.last_event_id for r in server.requests]
    assert delivered_ids(out) == ["2", "4", "6", "8"]  # the second run goes on, no repeat


def test_state_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "state") as state:
        state.record("CONNECTION", "c", "CREATE CONNECTION c FROM sse_source WITH (token = 'x')")
    assert (tmp_path / "state").stat().st_mode & 0o077 == 0
    assert (tmp_path / "state" / "state.db").stat().st_mode & 0o077 == 0


async def test_a_failed_commit_publishes_nothing_it_did_not_commit(tmp_path: Path) -> None:
    # The state store fails for good from its third commit on (its disk broke): the files
    # of rows whose id could not be committed must stay unpublished, or the restart, which
    # resumes after the last committed id, publishes their rows a second time.
    out = tmp_path / "out"
    async with SSEServer(default=Feed(300, per_write=10, pause=0.01)) as server:
        sql = pipeline_sql(server.url, out)
        with StateStore.open(tmp_path / "state") as state:
            commit, calls = state.commit, []

            def failing(*args: Any, **kwargs: Any) -> None:
                calls.append(args)
                if len(calls) >= 3:
                    raise StateError("state store: disk I/O error")
                commit(*args, **kwargs)

            state.commit = failing  # type: ignore[method-assign]
            with pytest.raises(StateError, match="disk I/O error"):
                await run_pipeline_once(state, sql)
        with StateStore.open(tmp_path / "state") as state:
            await run_pipeline_once(state, sql)
    assert delivered_ids(out) == [str(i) for i in range(1, 301)]


@pytest.mark.parametrize("extra", ["", ", parallelism = 2, partition_by = 'n'"])
async def test_continue_on_error_false_delivers_and_commits_the_rows_before_the_bad_event(
    tmp_path: Path, extra: str
) -> None:
    # One read, one batch (issue 9, item 12): rows 1..4 must come out whatever the batching,
    # their id must be committed, and the query must stop on event 5 with the error.
    body = numbered(1, 4) + format_event("not json", id="5") + numbered(6, 3)
    out = tmp_path / "out"
    sql = pipeline_sql(
        "{url}", out,
        extra=", continue_on_error = false, buffer_size = 1000, buffer_timeout_ms = 2000" + extra,
    ).replace("buffer_timeout_ms = 5 ,", "")
    async with SSEServer(Stream(raw(body))) as server:
        with StateStore.open(tmp_path / "state") as state:
            with pytest.raises(PayloadError, match=r"event id '5'.*invalid JSON"):
                await run_pipeline_once(state, sql.replace("{url}", server.url))
            assert state.checkpoint("src->out").last_event_id == "4"  # type: ignore[union-attr]
    assert sorted(delivered_ids(out), key=int) == ["1", "2", "3", "4"]


async def test_continue_on_error_false_on_the_first_event_delivers_nothing(
    tmp_path: Path,
) -> None:
    body = format_event("not json", id="1") + numbered(2, 3)
    out = tmp_path / "out"
    sql = pipeline_sql("{url}", out, extra=", continue_on_error = false")
    async with SSEServer(Stream(raw(body))) as server:
        with StateStore.open(tmp_path / "state") as state:
            with pytest.raises(PayloadError, match=r"event id '1'"):
                await run_pipeline_once(state, sql.replace("{url}", server.url))
            assert state.checkpoint("src->out") is None
    assert delivered_ids(out) == []
