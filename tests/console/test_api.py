"""The /api/v1 routes against a real console on 127.0.0.1 and the demo feed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from laminar.console.app import Console

TABLE = """CREATE TABLE stocks (symbol TEXT, price DOUBLE, volume BIGINT, timestamp TIMESTAMP)
WITH (connector = 'sse_source', endpoint = '{url}/stocks', format = 'json',
      token = 'sekrit-value', event_type_filter = '["price","trade"]');"""


async def _json(resp: aiohttp.ClientResponse) -> Any:
    return json.loads(await resp.text())


async def _until(check: Any, timeout: float = 30.0) -> Any:
    """Poll ``check()`` (a coroutine function) until it returns a truthy value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def _create(client: aiohttp.ClientSession, demo: str, query: str) -> dict[str, Any]:
    async with client.post("/api/v1/sql", json={"sql": TABLE.format(url=demo)}) as resp:
        assert resp.status == 200, await resp.text()
    async with client.post("/api/v1/pipelines", json={"sql": query, "name": "p"}) as resp:
        assert resp.status == 201, await resp.text()
        return (await _json(resp))["pipeline"]


async def _read_events(resp: aiohttp.ClientResponse, count: int) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    async for raw in resp.content:
        line = raw.decode().rstrip("\n")
        if not line:
            if current:
                events.append(current)
                current = {}
                if len(events) >= count:
                    return events
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(": ")
        current[name] = value
    return events


async def test_openapi_lists_every_route(client: aiohttp.ClientSession, console: Console) -> None:
    async with client.get("/api/v1/openapi.json") as resp:
        spec = await _json(resp)
    assert spec["openapi"].startswith("3.")
    registered = {
        (r.resource.canonical, r.method.lower())
        for r in console.runner.app.router.routes()  # type: ignore[union-attr]
        if r.resource is not None and r.resource.canonical.startswith("/api/v1/")
        and r.method != "HEAD"  # aiohttp adds HEAD beside each GET
    }
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert registered - documented == set(), "routes the description leaves out"
    assert documented - registered == set(), "described routes that do not exist"


async def test_pipeline_lifecycle_with_live_output(
    client: aiohttp.ClientSession, demo: str
) -> None:
    pipeline = await _create(client, demo, "SELECT symbol, price FROM stocks WHERE price > 0")
    pid = pipeline["id"]
    assert pipeline["state"] == "running" and pipeline["table"] == "stocks"

    async with client.get(f"/api/v1/pipelines/{pid}/output") as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        events = await _read_events(resp, 3)
    assert events[0]["event"] == "columns"
    assert json.loads(events[0]["data"]) == ["symbol", "price"]
    first = json.loads(events[1]["data"])
    assert first and set(first[0]) == {"symbol", "price"}
    last_id = int(events[2]["id"])

    # a reconnect resumes after Last-Event-ID: the next batch, no repeat
    async with client.get(
        f"/api/v1/pipelines/{pid}/output", headers={"Last-Event-ID": str(last_id)}
    ) as resp:
        resumed = await _read_events(resp, 2)
    assert int(resumed[1]["id"]) == last_id + 1

    async def listed() -> Any:
        async with client.get("/api/v1/pipelines") as resp:
            (p,) = (await _json(resp))["pipelines"]
            return p if p["rows_out"] > 0 and p["events_per_second"] > 0 else None

    row = await _until(listed)
    assert row["uptime_s"] > 0 and row["connection_status"] == "connected"

    async def series() -> Any:
        async with client.get(f"/api/v1/pipelines/{pid}/metrics") as resp:
            body = await _json(resp)
            return body["series"] if body["series"] else None

    points = await _until(series)
    assert {"t", "events", "lag_ms", "processing_time_ms"} <= set(points[0])

    async def own_logs() -> Any:
        async with client.get(f"/api/v1/pipelines/{pid}/logs") as resp:
            return (await _json(resp))["logs"]

    logs = await _until(own_logs)
    assert {entry["query_id"] for entry in logs} == {row["query_id"]}
    assert any("connected" in entry["message"] for entry in logs)

    async with client.get(f"/api/v1/pipelines/{pid}/graph") as resp:
        graph = await _json(resp)
    assert next(n["kind"] for n in graph["nodes"]) == "source"
    assert graph["nodes"][-1]["kind"] == "sink"

    async with client.post(f"/api/v1/pipelines/{pid}/stop") as resp:
        assert (await _json(resp))["state"] == "stopped"
    stopped_at = (await _json(await client.get(f"/api/v1/pipelines/{pid}")))["committed_event_id"]
    assert stopped_at

    async with client.post(f"/api/v1/pipelines/{pid}/restart", json={"state": True}) as resp:
        restarted = await _json(resp)
    assert restarted["state"] == "running" and restarted["restarts"] == 1

    async with client.post(f"/api/v1/pipelines/{pid}/restart", json={"state": False}) as resp:
        assert (await _json(resp))["state"] == "running"

    async with client.delete(f"/api/v1/pipelines/{pid}") as resp:
        assert resp.status == 200
    async with client.get(f"/api/v1/pipelines/{pid}") as resp:
        assert resp.status == 404
        assert set(await _json(resp)) == {"error", "line", "column"}


async def test_restart_with_state_resumes_after_the_last_id(
    client: aiohttp.ClientSession, demo: str
) -> None:
    pipeline = await _create(client, demo, "SELECT symbol FROM stocks")
    pid = pipeline["id"]

    async def progressed() -> Any:
        body = await _json(await client.get(f"/api/v1/pipelines/{pid}"))
        return body["committed_event_id"]

    await _until(progressed)
    await client.post(f"/api/v1/pipelines/{pid}/stop")
    before = int(await progressed())
    await client.post(f"/api/v1/pipelines/{pid}/restart", json={"state": True})

    async def resumed() -> Any:
        body = await _json(await client.get(f"/api/v1/pipelines/{pid}"))
        return body["last_event_id"]

    first_id = int(await _until(resumed))
    assert first_id > before  # with state: no replay from 1

    async def passed(mark: int) -> Any:
        body = await _json(await client.get(f"/api/v1/pipelines/{pid}"))
        return body["last_event_id"] and int(body["last_event_id"]) > mark

    await _until(lambda: passed(first_id + 5))
    await client.post(f"/api/v1/pipelines/{pid}/restart", json={"state": False})

    async def afresh() -> Any:
        body = await _json(await client.get(f"/api/v1/pipelines/{pid}"))
        return body["last_event_id"] and int(body["last_event_id"]) <= first_id

    await _until(afresh)  # without state: the feed starts again from its first id


async def test_validate_reports_line_and_column(client: aiohttp.ClientSession, demo: str) -> None:
    await client.post("/api/v1/sql", json={"sql": TABLE.format(url=demo)})
    async with client.post(
        "/api/v1/validate", json={"sql": "SELECT symbol\nFROM stocks\nWHERE nosuch > 1"}
    ) as resp:
        body = await _json(resp)
    assert body["valid"] is False
    (err,) = body["errors"]
    assert (err["line"], err["column"]) == (3, 7) and "nosuch" in err["error"]
    async with client.post("/api/v1/validate", json={"sql": "SELECT 1;\nSELEC x"}) as resp:
        (err,) = (await _json(resp))["errors"]
    assert err["line"] == 2
    async with client.post("/api/v1/validate", json={"sql": "SELECT symbol FROM stocks"}) as r:
        assert (await _json(r))["valid"] is True
    # validation changed nothing
    async with client.post(
        "/api/v1/validate", json={"sql": "CREATE VIEW v AS SELECT symbol FROM stocks"}
    ) as resp:
        assert (await _json(resp))["valid"] is True
    async with client.get("/api/v1/views") as resp:
        assert (await _json(resp))["views"] == []


async def test_catalog_redacts_options_as_show_does(
    client: aiohttp.ClientSession, demo: str
) -> None:
    await client.post("/api/v1/sql", json={"sql": TABLE.format(url=demo)})
    async with client.post("/api/v1/sql", json={"sql": "SHOW TABLES"}) as resp:
        shown = (await _json(resp))["results"][0]
    async with client.get("/api/v1/tables") as resp:
        (table,) = (await _json(resp))["tables"]
    row = dict(zip(shown["columns"], shown["rows"][0], strict=True))
    assert table["options"] == json.loads(row["options"])
    async with client.get("/api/v1/catalog") as resp:
        text = await resp.text()
    assert "sekrit-value" not in text
    assert json.loads(text)["relations"]["stocks"] == ["symbol", "price", "volume", "timestamp"]


async def test_errors_have_error_line_column(client: aiohttp.ClientSession) -> None:
    async with client.post("/api/v1/pipelines", json={"sql": "SELECT * FROM\n  nowhere"}) as r:
        assert r.status == 400
        body = await _json(r)
    assert set(body) == {"error", "line", "column"} and "nowhere" in body["error"]
    assert (body["line"], body["column"]) == (2, 3)
    async with client.post("/api/v1/pipelines", json={"nope": 1}) as r:
        assert r.status == 400 and set(await _json(r)) == {"error", "line", "column"}
    async with client.post("/api/v1/sql", json={"sql": "SELECT * FROM range(100000)"}) as r:
        assert r.status == 400 and "rows" in (await _json(r))["error"]


async def test_logs_and_health(client: aiohttp.ClientSession) -> None:
    async with client.get("/api/v1/logs") as resp:
        assert resp.status == 200 and "logs" in await _json(resp)
    async with client.get("/api/v1/health") as resp:
        assert resp.status == 200


async def test_validate_points_at_the_unknown_name(
    client: aiohttp.ClientSession, demo: str
) -> None:
    await client.post("/api/v1/sql", json={"sql": TABLE.format(url=demo)})
    sql = "SELECT 1;\nSELECT symbol,\n  'nosuch', nosuch FROM stocks"
    async with client.post("/api/v1/validate", json={"sql": sql}) as resp:
        (err,) = (await _json(resp))["errors"]
    assert (err["line"], err["column"]) == (3, 13)
    async with client.post("/api/v1/validate", json={"sql": "SELECT *\nFROM nowhere"}) as resp:
        (err,) = (await _json(resp))["errors"]
    assert (err["line"], err["column"]) == (2, 6)


async def test_another_laminar_reads_the_output_with_sse_source(
    client: aiohttp.ClientSession, console: Console, demo: str
) -> None:
    from laminar.sql.engine import Engine
    from tests.console.conftest import TOKEN

    pipeline = await _create(client, demo, "SELECT symbol, volume FROM stocks")
    downstream = Engine(env={"CONSOLE_TOKEN": TOKEN})
    downstream.execute(
        "CREATE TABLE upstream (payload JSON, event_id TEXT) WITH (connector = 'sse_source', "
        f"format = 'json', endpoint = '{console.url}/api/v1/pipelines/{pipeline['id']}/output', "
        "token = '${CONSOLE_TOKEN}', event_type_filter = '[\"message\"]')"
    )
    (query,) = downstream.execute("SELECT payload, event_id FROM upstream LIMIT 3")
    batches = []
    async for lines in query.json_batches():  # type: ignore[union-attr]
        batches.extend(json.loads(line) for line in lines)
    assert [int(b["event_id"]) for b in batches] == sorted(int(b["event_id"]) for b in batches)
    rows = batches[0]["payload"]
    assert isinstance(rows, list) and set(rows[0]) == {"symbol", "volume"}


async def test_graph_of_an_aggregating_pipeline(client: aiohttp.ClientSession, demo: str) -> None:
    pipeline = await _create(
        client, demo, "SELECT symbol, COUNT(*) AS n FROM stocks GROUP BY symbol"
    )
    async with client.get(f"/api/v1/pipelines/{pipeline['id']}/graph") as resp:
        graph = await _json(resp)
    labels = [n["label"] for n in graph["nodes"]]
    assert labels[0] == "sse_source stocks" and labels[-1] == "sink console"
    assert "window / GROUP BY" in labels
    assert len(graph["edges"]) == len(graph["nodes"]) - 1


async def test_dedup_state_size_is_reported(client: aiohttp.ClientSession, demo: str) -> None:
    table = TABLE.format(url=demo).replace(
        "token = 'sekrit-value',", "token = 'sekrit-value', deduplicate_by = 'event_id',"
    )
    async with client.post("/api/v1/sql", json={"sql": table}) as resp:
        assert resp.status == 200, await resp.text()
    async with client.post("/api/v1/pipelines", json={"sql": "SELECT symbol FROM stocks"}) as r:
        pid = (await _json(r))["pipeline"]["id"]

    async def held() -> Any:
        body = await _json(await client.get(f"/api/v1/pipelines/{pid}"))
        return body["dedup_entries"] > 0

    await _until(held)


async def test_pipelines_survive_a_restart_with_a_state_store(demo: str, tmp_path: Any) -> None:
    from laminar.console.app import start_console
    from laminar.runtime.state import StateStore
    from laminar.sql.engine import Engine

    auth = {"Authorization": "Bearer t"}

    async def serve() -> tuple[Any, Any]:
        store = StateStore.open(tmp_path)
        console = await start_console(Engine(state=store), token="t")
        console.manager.restore()
        return store, console

    store, console = await serve()
    table = TABLE.format(url=demo).replace("format = 'json',", "format = 'json', "
                                           "persist_event_id = true,")
    async with aiohttp.ClientSession(base_url=console.url, headers=auth) as client:
        async with client.post("/api/v1/sql", json={"sql": table}) as resp:
            assert resp.status == 200, await resp.text()
        async with client.post("/api/v1/pipelines", json={"sql": "SELECT symbol FROM stocks",
                                                          "name": "p"}) as resp:
            assert resp.status == 201
        async with client.post("/api/v1/pipelines", json={"sql": "SELECT price FROM stocks",
                                                          "name": "idle"}) as resp:
            idle = (await _json(resp))["pipeline"]["id"]
        await client.post(f"/api/v1/pipelines/{idle}/stop")
        await _until(lambda: _committed(client, "1"))
    await console.close()
    committed = int(store.checkpoint("stocks->stdout").last_event_id)  # type: ignore[union-attr]
    store.close()

    store, console = await serve()
    try:
        async with aiohttp.ClientSession(base_url=console.url, headers=auth) as client:
            pipelines = {p["name"]: p for p in
                         (await _json(await client.get("/api/v1/pipelines")))["pipelines"]}
            assert pipelines["p"]["state"] == "running"
            assert pipelines["idle"]["state"] == "stopped"

            async def resumed() -> Any:
                body = await _json(await client.get("/api/v1/pipelines/1"))
                return body["last_event_id"]

            assert int(await _until(resumed)) > committed  # after the checkpoint, not from 1
            async with client.post("/api/v1/pipelines", json={"sql": "SELECT 1 FROM stocks"}) as r:
                assert (await _json(r))["pipeline"]["id"] == "3"  # ids are not reused
    finally:
        await console.close()
        store.close()


async def _committed(client: aiohttp.ClientSession, pid: str) -> Any:
    body = await _json(await client.get(f"/api/v1/pipelines/{pid}"))
    return body["committed_event_id"]


async def test_probe_route_uses_the_token_and_never_shows_it(
    client: aiohttp.ClientSession, demo: str
) -> None:
    body = {"url": f"{demo}/secure/stocks", "seconds": 1, "options": {"token": "demo-token"}}
    async with client.post("/api/v1/probe", json=body) as resp:
        text = await resp.text()
        assert resp.status == 200, text
    report = json.loads(text)
    assert report["events"] > 0 and "demo-token" not in text
    assert "token = '${SSE_TOKEN}'" in report["ddl"]
    async with client.post("/api/v1/probe", json={"url": f"{demo}/secure/stocks",
                                                   "seconds": 1}) as resp:
        assert resp.status == 400
        assert set(await _json(resp)) == {"error", "line", "column"}
    async with client.post("/api/v1/probe", json={"url": demo, "seconds": 99}) as resp:
        assert resp.status == 400 and "seconds" in (await _json(resp))["error"]


async def test_connections_are_redacted_as_show_connections(
    client: aiohttp.ClientSession, demo: str
) -> None:
    sql = (f"CREATE CONNECTION feed FROM sse_source WITH (endpoint = '{demo}/stocks?api_key=k1', "
           "token = 'hidden-token', headers = '{\"X-Secret\": \"hidden-header\"}')")
    async with client.post("/api/v1/sql", json={"sql": sql}) as resp:
        assert resp.status == 200, await resp.text()
    async with client.get("/api/v1/connections") as resp:
        text = await resp.text()
    for secret in ("hidden-token", "hidden-header", "k1"):
        assert secret not in text
    (conn,) = json.loads(text)["connections"]
    async with client.post("/api/v1/sql", json={"sql": "SHOW CONNECTIONS"}) as resp:
        shown = (await _json(resp))["results"][0]
    row = dict(zip(shown["columns"], shown["rows"][0], strict=True))
    assert conn["options"] == json.loads(row["options"])
    assert conn["endpoint"] == row["endpoint"]


async def test_validate_is_capped_and_keeps_the_console_responsive(
    client: aiohttp.ClientSession,
) -> None:
    async with client.post(
        "/api/v1/validate", json={"sql": "SELECT * FROM range(100000000)"}
    ) as resp:
        (err,) = (await _json(resp))["errors"]
    assert "LAMINAR_SQL_MAX_ROWS" in err["error"]


async def test_graph_shows_each_operator_with_the_rate_it_takes_in(
    client: aiohttp.ClientSession, demo: str
) -> None:
    table = TABLE.format(url=demo).replace(
        "token = 'sekrit-value',",
        "token = 'sekrit-value', deduplicate_by = 'event_id',",
    )
    async with client.post("/api/v1/sql", json={"sql": table}) as resp:
        assert resp.status == 200, await resp.text()
    async with client.post("/api/v1/pipelines", json={"sql": "SELECT symbol FROM stocks"}) as r:
        pid = (await _json(r))["pipeline"]["id"]

    async def flowing() -> Any:
        async with client.get(f"/api/v1/pipelines/{pid}/graph") as resp:
            graph = await _json(resp)
        rates = [n["rate"] for n in graph["nodes"]]
        return graph if all(rate is not None and rate > 0 for rate in rates) else None

    graph = await _until(flowing)  # rates come from two samples of the counters
    labels = [n["label"] for n in graph["nodes"]]
    assert labels == ["sse_source stocks", "event_type_filter", "deduplicate_by event_id",
                      "SQL (DuckDB)", "sink console"]  # fmt: skip


async def test_graph_shows_a_limit_and_how_far_it_is(
    client: aiohttp.ClientSession, demo: str
) -> None:
    async with client.post("/api/v1/sql", json={"sql": TABLE.format(url=demo)}) as resp:
        assert resp.status == 200, await resp.text()
    sql = "SELECT symbol FROM stocks LIMIT 1000000"
    async with client.post("/api/v1/pipelines", json={"sql": sql}) as r:
        pid = (await _json(r))["pipeline"]["id"]

    async def counting() -> Any:
        async with client.get(f"/api/v1/pipelines/{pid}/graph") as resp:
            graph = await _json(resp)
        limit = graph["nodes"][-2]
        return graph if limit["detail"] != "0 of 1,000,000 rows" else None

    graph = await _until(counting)  # rows delivered so far, out of the limit
    assert [n["label"] for n in graph["nodes"]][-3:] == ["SQL (DuckDB)", "LIMIT 1000000",
                                                         "sink console"]  # fmt: skip
    assert graph["nodes"][-2]["detail"].endswith(" of 1,000,000 rows")


async def test_sql_with_an_unknown_table_names_it(client: aiohttp.ClientSession) -> None:
    async with client.post("/api/v1/sql", json={"sql": "SELECT * FROM nosuch"}) as resp:
        assert resp.status == 400
        body = await _json(resp)
    assert "nosuch" in body["error"] and "pipeline" not in body["error"]
    assert body["line"] == 1
