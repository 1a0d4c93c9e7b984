"""The ``/api/v1`` routes (described by ``laminar.console.openapi``).

Every error answers ``{"error", "line", "column"}`` (line and column of the
statement or option at fault, null when there is none). System-table reads run
in a worker thread under ``laminar.sql.limits`` caps.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import time
from typing import Any, Literal

from aiohttp import web

from laminar.console.locate import refine
from laminar.console.manager import Pipeline, PipelineManager, is_continuous
from laminar.errors import LaminarError
from laminar.output import json_default
from laminar.sql import ast
from laminar.sql.continuous import ContinuousQuery
from laminar.sql.engine import Engine, Rows
from laminar.sql.limits import ResultLimits, limited
from laminar.sql.parser import parse_statements
from laminar.sql.pipelines import persists
from laminar.sql.served import located, run_served

MANAGER = web.AppKey("laminar_console_manager", PipelineManager)
LIMITS = web.AppKey("laminar_console_limits", ResultLimits)
MAX_BODY = 1 << 20
KEEPALIVE_S = 15.0
WRITE_TIMEOUT_S = 10.0
WRITE_BYTES = 256 * 1024  # batches coalesced into one socket write


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/openapi.json", openapi)
    r.add_get("/api/v1/health", health)
    r.add_get("/api/v1/pipelines", list_pipelines)
    r.add_post("/api/v1/pipelines", create_pipeline)
    r.add_get("/api/v1/pipelines/{id}", get_pipeline)
    r.add_delete("/api/v1/pipelines/{id}", delete_pipeline)
    r.add_post("/api/v1/pipelines/{id}/stop", stop_pipeline)
    r.add_post("/api/v1/pipelines/{id}/restart", restart_pipeline)
    r.add_get("/api/v1/pipelines/{id}/output", output)
    r.add_get("/api/v1/pipelines/{id}/metrics", metrics)
    r.add_get("/api/v1/pipelines/{id}/logs", pipeline_logs)
    r.add_get("/api/v1/pipelines/{id}/graph", graph)
    r.add_post("/api/v1/validate", validate)
    r.add_post("/api/v1/sql", run_sql)
    r.add_get("/api/v1/tables", tables)
    r.add_get("/api/v1/views", views)
    r.add_get("/api/v1/connections", connections)
    r.add_get("/api/v1/catalog", catalog)
    r.add_get("/api/v1/logs", logs)
    r.add_post("/api/v1/probe", probe)


# -- helpers ---------------------------------------------------------------------------


def error(message: str, status: int = 400, line: int | None = None,
          column: int | None = None) -> web.Response:
    return web.json_response({"error": message, "line": line, "column": column}, status=status)


def _laminar_error(exc: LaminarError, status: int = 400, sql: str | None = None) -> web.Response:
    found = located(exc)
    if sql is not None:
        found = _at_name(sql, found)
    return web.json_response(found, status=status)


def _at_name(sql: str, found: dict[str, Any]) -> dict[str, Any]:
    """``found`` moved onto the name it is about, within the statement it points at."""
    try:
        statements = parse_statements(sql)
    except LaminarError:
        return found
    for stmt in statements:
        if (stmt.line, stmt.column) == (found["line"], found["column"]):
            return refine(found, stmt.text, stmt.line, stmt.column)
    return found


def dumps(payload: Any) -> str:
    return json.dumps(payload, default=json_default, ensure_ascii=False)


def ok(payload: Any, status: int = 200) -> web.Response:
    return web.Response(text=dumps(payload), status=status, content_type="application/json")


async def body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    text = await request.text()
    if not text.strip():
        return {}
    if request.content_type != "application/json":
        return {"sql": text}  # curl --data-binary @pipeline.sql
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise web.HTTPBadRequest(
            text=dumps({"error": f"the body is not JSON: {exc}", "line": None, "column": None}),
            content_type="application/json",
        ) from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(
            text=dumps({"error": "the body must be a JSON object", "line": None, "column": None}),
            content_type="application/json",
        )
    return data


def _sql_of(data: dict[str, Any]) -> str | None:
    sql = data.get("sql")
    return sql if isinstance(sql, str) and sql.strip() else None


def manager(request: web.Request) -> PipelineManager:
    return request.app[MANAGER]


def engine(request: web.Request) -> Engine:
    return request.app[MANAGER].engine


def _pipeline(request: web.Request) -> Pipeline:
    found = manager(request).get(request.match_info["id"])
    if found is None:
        raise web.HTTPNotFound(
            text=dumps({"error": f"no pipeline {request.match_info['id']!r} (GET "
                        "/api/v1/pipelines lists them)", "line": None, "column": None}),
            content_type="application/json",
        )
    return found


async def system_rows(request: web.Request, sql: str) -> list[dict[str, Any]]:
    """Rows of a one-shot query over system tables, off the loop and capped."""
    eng = engine(request)
    with limited(request.app[LIMITS]):
        (result,) = await asyncio.to_thread(eng.execute, sql)
    assert isinstance(result, Rows)
    return result.as_dicts()


def _status_rows(eng: Engine) -> dict[int, dict[str, Any]]:
    from laminar.observability.system_tables import connector_status

    return {r["query_id"]: r for r in connector_status(eng).to_pylist() if r["query_id"]}


def describe(p: Pipeline, status: dict[int, dict[str, Any]]) -> dict[str, Any]:
    query = p.query
    row = status.get(query.id, {}) if query is not None else {}
    now = time.time()
    end = p.stopped_at if p.state != "running" else None
    return {
        "id": p.id,
        "name": p.name,
        "sql": p.sql,
        "state": p.state,
        "error": p.error,
        "table": query.table if query is not None else None,
        "sink": (query.sink.name if query is not None and query.sink is not None
                 else "console"),
        "query_id": query.id if query is not None else None,
        "created_at": p.created_at,
        "started_at": p.started_at,
        "uptime_s": round((end or now) - p.started_at, 3) if p.started_at else 0.0,
        "restarts": p.restarts,
        "rows_out": query.stats.rows_out if query is not None else 0,
        "rows_per_second": round(p.rows_per_second(), 2),
        "events_per_second": row.get("events_per_second") or 0.0,
        "lag_p50_ms": row.get("lag_p50_ms"),
        "lag_p99_ms": row.get("lag_p99_ms"),
        "connection_status": row.get("status"),
        "last_event_id": row.get("last_event_id"),
        "committed_event_id": _committed(p, query),
        "events_deduplicated": row.get("events_deduplicated"),
        "dedup_entries": query.dedup_entries if query is not None else 0,
        "state_rows": row.get("state_rows"),
        "state_bytes": row.get("state_bytes"),
        "output": {"last_id": p.tail.last_id, "subscribers": p.tail.subscribers},
    }


def _committed(p: Pipeline, query: ContinuousQuery | None) -> str | None:
    """The id in the state store's checkpoint, else the last delivered batch's (no store)."""
    if query is None:
        return None
    if p.store is not None and persists(query):
        checkpoint = p.store.checkpoint(p.key)
        return checkpoint.last_event_id if checkpoint is not None else None
    return query.position or p.position or None


# -- routes ----------------------------------------------------------------------------


async def openapi(request: web.Request) -> web.Response:
    from laminar.console.openapi import SPEC

    return web.json_response(SPEC)


async def health(request: web.Request) -> web.Response:
    healthy, detail = engine(request).observability.health()
    return ok(detail, 200 if healthy else 503)


async def list_pipelines(request: web.Request) -> web.Response:
    status = _status_rows(engine(request))
    return ok({"pipelines": [describe(p, status) for p in manager(request).pipelines.values()]})


async def create_pipeline(request: web.Request) -> web.Response:
    data = await body(request)
    sql = _sql_of(data)
    if sql is None:
        return error('send {"sql": "SELECT … FROM a_stream"} (and optionally "name")')
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        return error('"name" must be a non-empty string')
    try:
        messages, pipeline = manager(request).run_script(sql, name)  # synchronous
    except LaminarError as exc:
        return _laminar_error(exc, sql=sql)
    if pipeline is None:
        return error(
            "the SQL has no continuous query (a SELECT over a stream, or INSERT INTO); its "
            "other statements ran: " + "; ".join(messages) if messages else
            "the SQL has no continuous query (a SELECT over a stream, or INSERT INTO)"
        )
    return ok({"pipeline": describe(pipeline, {}), "messages": messages}, 201)


async def get_pipeline(request: web.Request) -> web.Response:
    return ok(describe(_pipeline(request), _status_rows(engine(request))))


async def delete_pipeline(request: web.Request) -> web.Response:
    pipeline = _pipeline(request)
    await asyncio.shield(manager(request).delete(pipeline))
    return ok({"deleted": pipeline.id})


async def stop_pipeline(request: web.Request) -> web.Response:
    pipeline = _pipeline(request)
    await asyncio.shield(manager(request).stop(pipeline))  # even if the client goes
    return ok(describe(pipeline, {}))


async def restart_pipeline(request: web.Request) -> web.Response:
    pipeline = _pipeline(request)
    data = await body(request)
    keep = data.get("state", True)
    if request.query.get("state") is not None:
        keep = request.query["state"].lower() not in ("false", "0", "no")
    if not isinstance(keep, bool):
        return error('"state" must be true (resume after the checkpoint) or false (start afresh)')
    try:
        await asyncio.shield(manager(request).restart(pipeline, keep_state=keep))
    except LaminarError as exc:
        return _laminar_error(exc)
    return ok(describe(pipeline, {}))


async def output(request: web.Request) -> web.StreamResponse:
    """The live rows as SSE: ``id`` = batch number, ``data`` = a JSON array of rows."""
    pipeline = _pipeline(request)
    raw = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
    after: int | None = None
    if raw:
        try:
            after = int(raw)
        except ValueError:
            return error(f"Last-Event-ID {raw!r}: expected a batch number from this stream")
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                 "X-Accel-Buffering": "no"}
    )
    try:
        await response.prepare(request)
    except ConnectionResetError:
        return response  # the client went away before the headers
    columns = pipeline.query.columns if pipeline.query is not None else []
    subscription = pipeline.tail.subscribe(after)
    try:
        await _send(response, f"retry: 1000\nevent: columns\ndata: {dumps(list(columns))}\n\n")
        while True:
            try:
                items = await asyncio.wait_for(subscription.next_many(WRITE_BYTES), KEEPALIVE_S)
            except TimeoutError:
                await _send(response, ": keep-alive\n\n")
                continue
            if items is None:
                break  # cut off (too slow) or the pipeline was deleted: the client resumes
            # whatever queued up while the last write drained goes out in one write
            await _send(response, "".join(f"id: {i}\ndata: {d}\n\n" for i, d in items))
        with contextlib.suppress(ConnectionResetError, TimeoutError):
            await asyncio.wait_for(response.write_eof(), WRITE_TIMEOUT_S)
    except (ConnectionResetError, TimeoutError):
        pass  # gone, or not reading at all: drop it
    finally:
        subscription.close()  # frees its queue at once
    return response


async def _send(response: web.StreamResponse, text: str) -> None:
    # A client that stops reading fills the socket buffer and stalls the write: past the
    # timeout it is dropped (the pipeline never waits for it; only this handler does).
    await asyncio.wait_for(response.write(text.encode()), WRITE_TIMEOUT_S)


async def metrics(request: web.Request) -> web.Response:
    """Per-second series of the pipeline's current run: events, lag, processing time."""
    pipeline = _pipeline(request)
    try:
        seconds = min(900, max(10, int(request.query.get("seconds", "900"))))
    except ValueError:
        return error("seconds must be an integer (10 to 900)")
    if pipeline.query is None:
        return ok({"series": []})
    sql = (
        "SELECT epoch(date_trunc('second', timestamp)) AS t, count(*) AS events, "
        "avg(lag_ms) AS lag_ms, avg(processing_time_ms) AS processing_time_ms "
        f"FROM system.connector_metrics WHERE query_id = {int(pipeline.query.id)} "
        f"AND timestamp > now()::TIMESTAMP - INTERVAL {seconds} SECOND "
        # the current second is still filling: leave it out rather than draw a false dip
        "AND timestamp < date_trunc('second', now()::TIMESTAMP) GROUP BY 1 ORDER BY 1"
    )
    try:
        rows = await system_rows(request, sql)
    except LaminarError as exc:
        return _laminar_error(exc)
    return ok({"series": rows, "seconds": seconds})


async def pipeline_logs(request: web.Request) -> web.Response:
    pipeline = _pipeline(request)
    query = pipeline.query
    table = query.table if query is not None else ""
    rows = await _logs(request, query.id if query is not None else -1)
    if pipeline.error:
        rows.insert(0, {"timestamp": pipeline.stopped_at, "level": "ERROR",
                        "table_name": table, "message": pipeline.error})
    return ok({"logs": rows})


async def logs(request: web.Request) -> web.Response:
    return ok({"logs": await _logs(request, None)})


async def _logs(request: web.Request, query_id: int | None) -> list[dict[str, Any]]:
    where = f"WHERE query_id = {int(query_id)} " if query_id is not None else ""
    return await system_rows(
        request,
        "SELECT timestamp, level, table_name, query_id, message FROM system.connector_logs "
        f"{where}ORDER BY timestamp DESC LIMIT 200",
    )


async def graph(request: web.Request) -> web.Response:
    """source -> operators -> sink, with the rates the console shows on each node."""
    pipeline = _pipeline(request)
    query = pipeline.query
    status = _status_rows(engine(request))
    info = describe(pipeline, status)
    nodes: list[dict[str, Any]] = [
        {"id": "source", "kind": "source", "label": f"sse_source {info['table']}",
         "rate": info["events_per_second"]}
    ]
    # Each operator's rate is that of the events (rows) it takes in: what came through the
    # nodes before it, from the source's counters, sampled at each request.
    passed = 0
    if query is not None:
        stats, options = query.stats, query.source.table.options
        passed = stats.events_received
        if options.event_type_filter:
            nodes.append(_operator(pipeline, "filter", "event_type_filter", passed))
            passed -= stats.events_filtered
        if options.deduplicate_by:
            nodes.append(_operator(pipeline, "dedup", f"deduplicate_by {options.deduplicate_by}",
                                   passed))  # fmt: skip
            passed -= stats.events_deduplicated
    if query is not None and query.staged is not None:
        for n, stage in enumerate(query.staged.stages):
            label = _STAGE_LABELS.get(type(stage).__name__, type(stage).__name__)
            held = info["state_rows"] if label == "window / GROUP BY" else None
            node = _operator(pipeline, f"op{n}", label, passed)
            node["detail"] = f"{held or 0} rows held" if held is not None else None
            nodes.append(node)
            passed = -1  # a window's input is the rows the SQL before it kept: not counted
    else:
        nodes.append(_operator(pipeline, "op0", "SQL (DuckDB)", passed))
    if query is not None and query.limit is not None:
        running = query.pipeline  # None until the query starts
        delivered = running.limit.delivered if running is not None else 0
        detail = f"{delivered:,} of {query.limit:,} rows"
        nodes.append({"id": "limit", "kind": "operator", "label": f"LIMIT {query.limit}",
                      "rate": None, "detail": detail})  # fmt: skip
    nodes.append({"id": "sink", "kind": "sink", "label": f"sink {info['sink']}",
                  "rate": info["rows_per_second"], "rows": info["rows_out"]})
    edges = [{"from": a["id"], "to": b["id"]} for a, b in itertools.pairwise(nodes)]
    return ok({"nodes": nodes, "edges": edges})


_STAGE_LABELS = {"BatchQuery": "SQL (DuckDB)", "AggregateOperator": "window / GROUP BY"}


def _operator(pipeline: Pipeline, node_id: str, label: str, taken: int) -> dict[str, Any]:
    """A graph node taking in ``taken`` events so far (-1: not counted, no rate)."""
    rate = round(pipeline.rate(node_id, taken), 2) if taken >= 0 else None
    return {"id": node_id, "kind": "operator", "label": label, "rate": rate}


async def validate(request: web.Request) -> web.Response:
    """Check statements against a copy of the catalog; nothing runs or changes."""
    data = await body(request)
    sql = _sql_of(data)
    if sql is None:
        return error('send {"sql": "…"}')
    scratch = _scratch(engine(request))
    done: list[Any] = []

    def check_all() -> None:
        for stmt in parse_statements(sql):
            done.append(stmt)
            result = scratch.run_statement(stmt)
            if isinstance(result, ContinuousQuery):
                result.close()

    try:
        # off the loop and capped: a one-shot SELECT is bound by running it
        with limited(request.app[LIMITS]):
            await asyncio.to_thread(check_all)
    except LaminarError as exc:
        found = located(exc)
        if done:
            found = refine(found, done[-1].text, done[-1].line, done[-1].column)
        return ok({"valid": False, "errors": [found]})
    return ok({"valid": True, "errors": [], "statements": len(done)})


def _scratch(eng: Engine) -> Engine:
    """An engine over a copy of ``eng``'s catalog, without a state store."""
    scratch = Engine(eng.env)
    scratch.catalog = copy.copy(eng.catalog)
    for name in ("connections", "tables", "views", "sinks"):
        setattr(scratch.catalog, name, dict(getattr(eng.catalog, name)))
    scratch.observability.enabled = False
    return scratch


async def run_sql(request: web.Request) -> web.Response:
    """DDL, SHOW, DESCRIBE and SELECT over system tables; continuous queries are pipelines."""
    data = await body(request)
    sql = _sql_of(data)
    if sql is None:
        return error('send {"sql": "…"}')
    eng = engine(request)
    try:
        statements = parse_statements(sql)
        for stmt in statements:
            if is_continuous(eng, stmt):
                return error(
                    "a continuous query runs as a pipeline: POST /api/v1/pipelines",
                    line=stmt.line, column=stmt.column,
                )
        results = await run_served(eng, statements, request.app[LIMITS])
    except LaminarError as exc:
        return _laminar_error(exc, sql=sql)
    return ok({"results": results})


def _show(eng: Engine, kind: Literal["CONNECTIONS", "TABLES", "VIEWS"]) -> list[dict[str, Any]]:
    result = eng.run_statement(ast.Show(kind=kind))
    assert isinstance(result, Rows)
    rows = result.as_dicts()
    for row in rows:
        if isinstance(row.get("options"), str):
            row["options"] = json.loads(row["options"])
    return rows


async def tables(request: web.Request) -> web.Response:
    return ok({"tables": _show(engine(request), "TABLES")})


async def views(request: web.Request) -> web.Response:
    return ok({"views": _show(engine(request), "VIEWS")})


async def connections(request: web.Request) -> web.Response:
    return ok({"connections": _show(engine(request), "CONNECTIONS")})


async def catalog(request: web.Request) -> web.Response:
    """Names and columns for the editor's autocomplete and the catalog browser."""
    from laminar.observability.system_tables import LOGS_SCHEMA, METRICS_COLUMNS, STATUS_SCHEMA

    eng = engine(request)
    cat = eng.catalog
    relations: dict[str, list[str]] = {}
    for t in cat.tables.values():
        relations[t.name] = [c.name for c in t.columns]
    for s in cat.sinks.values():
        relations[s.name] = [c.name for c in s.columns]
    for name in cat.views:
        relations[name] = []
    relations["system.connector_status"] = STATUS_SCHEMA.names
    relations["system.connector_logs"] = LOGS_SCHEMA.names
    relations["system.connector_metrics"] = [c[0] for c in METRICS_COLUMNS]
    return ok({
        "relations": relations,
        "tables": _show(eng, "TABLES"),
        "views": _show(eng, "VIEWS"),
        "connections": _show(eng, "CONNECTIONS"),
    })


async def probe(request: web.Request) -> web.Response:
    """Sample an SSE URL and propose its CREATE TABLE (see ``laminar.probe``)."""
    from laminar.probe import probe_stream

    data = await body(request)
    url = data.get("url")
    if not isinstance(url, str) or not url.strip():
        return error('send {"url": "https://…/stream", "seconds": 5, "table": "name"}')
    seconds = data.get("seconds", 5)
    options = data.get("options") or {}
    if not isinstance(seconds, (int, float)) or not 0 < seconds <= 30:
        return error('"seconds" must be a number from 0 to 30')
    if not isinstance(options, dict):
        return error('"options" must be an object of connection options')
    try:
        report = await probe_stream(
            {**options, "endpoint": url.strip()}, seconds=float(seconds),
            table=str(data.get("table") or "") or None, env=engine(request).env,
        )
    except LaminarError as exc:
        return _laminar_error(exc)
    return ok(report.as_dict())
