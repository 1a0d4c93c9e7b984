"""The monitoring endpoint of a running engine: an aiohttp server in the engine's event loop.

``await start_server(engine, host="127.0.0.1", port=0)`` returns a
``MonitoringServer`` (``.url``, ``await .close()``). Routes:

    GET  /metrics   Prometheus text exposition of the engine's own registry
    GET  /healthz   200 {"status": "ok" | "degraded" | "idle", …} while nothing failed
                    (connecting and reconnecting are normal); 503 {"status": "failed", …}
                    when a query or its source failed (401, attempts exhausted, …)
    GET  /status    JSON summary for ``laminar status``: health, connector_status rows,
                    log counts by level and the latest warnings and errors
    POST /sql       read-only SQL (body: the statements as text, or {"sql": "…"}):
                    SELECT over system.* tables (and views over them), SHOW, DESCRIBE.
                    200 {"results": [{"columns", "types", "rows"}]};
                    400 {"error", "line", "column"} (``laminar.sql.served``, as the console)

It binds 127.0.0.1 unless told otherwise: /sql shows table definitions (with
secrets redacted) to whoever can reach the port. With ``token`` every route
requires ``Authorization: Bearer <token>`` (``laminar.observability.access``).
System-table queries run in a worker thread so a large connector_metrics scan
does not stall the stream, and under ``laminar.sql.limits`` caps (rows, bytes,
seconds; 400 with the cap named when one is passed).
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from laminar.errors import LaminarError, SQLError
from laminar.observability.access import exposure_warning, token_middleware
from laminar.output import json_default
from laminar.sql.limits import ResultLimits
from laminar.sql.served import located, run_served

if TYPE_CHECKING:
    from laminar.sql.engine import Engine

_ENGINE = web.AppKey("laminar_engine", object)
_LIMITS = web.AppKey("laminar_sql_limits", ResultLimits)
logger = logging.getLogger("laminar.observability")
_RECENT_PROBLEMS = 10


class MonitoringServer:
    """A started server; ``url`` is its base URL."""

    def __init__(self, runner: web.AppRunner, url: str) -> None:
        self.runner = runner
        self.url = url

    async def close(self) -> None:
        await self.runner.cleanup()


def build_app(
    engine: Engine, token: str | None = None, limits: ResultLimits | None = None
) -> web.Application:
    app = web.Application(middlewares=[token_middleware(token)] if token else [])
    mount(app, engine, limits if limits is not None else ResultLimits.from_env(os.environ))
    return app


def mount(app: web.Application, engine: Engine, limits: ResultLimits) -> None:
    """Add the monitoring routes to ``app`` (the console serves them too)."""
    app[_ENGINE] = engine
    app[_LIMITS] = limits
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/status", _status)
    app.router.add_post("/sql", _sql)


async def start_server(
    engine: Engine,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    token: str | None = None,
    limits: ResultLimits | None = None,
) -> MonitoringServer:
    """Serve ``engine``'s monitoring routes on ``host:port`` (0: any free port).

    ``token``: every request must carry it as a bearer token. A bind beyond loopback
    logs a warning (``access.exposure_warning``).
    """
    warning = exposure_warning(host, token)
    if warning:
        logger.warning(warning)
    runner = web.AppRunner(build_app(engine, token, limits), access_log=None)
    _, url = await listen(runner, host, port, what="metrics", port_flag="--metrics-port")
    return MonitoringServer(runner, url)


async def listen(
    runner: web.AppRunner, host: str, port: int, *, what: str, port_flag: str
) -> tuple[int, str]:
    """Start ``runner`` on ``host:port``; (the bound port, the base URL).

    Used by the monitoring port and the console alike: a busy port is a LaminarError
    that names ``port_flag`` and the fix.
    """
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise LaminarError(
            f"cannot serve {what} on {host}:{port}: {exc.strerror or exc} "
            f"(pick another {port_flag}, or 0 for any free port)"
        ) from exc
    addresses = runner.addresses
    bound = addresses[0][1] if addresses else port
    shown = f"[{host}]" if ":" in host else host
    return bound, f"http://{shown}:{bound}"


def _engine(request: web.Request) -> Any:
    return request.app[_ENGINE]


async def _metrics(request: web.Request) -> web.Response:
    registry = _engine(request).observability.registry
    body = generate_latest(registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _healthz(request: web.Request) -> web.Response:
    healthy, detail = _engine(request).observability.health()
    return _json(detail, 200 if healthy else 503)


async def _status(request: web.Request) -> web.Response:
    from laminar.observability.system_tables import connector_status

    engine = _engine(request)
    hub = engine.observability
    healthy, detail = hub.health()
    problems = [
        {"timestamp": e.timestamp, "level": e.level, "table": e.table, "message": e.message}
        for e in hub.logs.snapshot()
        if e.level in ("WARNING", "ERROR", "CRITICAL")
    ][-_RECENT_PROBLEMS:]
    return _json(
        {
            "status": detail["status"],
            "healthy": healthy,
            "uptime_s": round(time.time() - hub.started_at, 3),
            "sources": connector_status(engine).to_pylist(),
            "log_counts": dict(hub.logs.counts),
            "recent_problems": problems,
        }
    )


async def _sql(request: web.Request) -> web.Response:
    text = await request.text()
    if request.content_type == "application/json":
        try:
            text = json.loads(text)["sql"]
        except (ValueError, KeyError, TypeError):
            return _json({"error": 'the JSON body must be {"sql": "…"}'}, 400)
    engine = _engine(request)
    try:
        results = await run_served(engine, _read_only(engine, text), request.app[_LIMITS])
    except LaminarError as exc:
        return _json(located(exc), 400)
    return _json({"results": results})


def _read_only(engine: Engine, text: str) -> list[Any]:
    """The statements of ``text``; each must read system tables only, or be SHOW / DESCRIBE."""
    from laminar.sql import ast
    from laminar.sql.parser import parse_statements

    checked: list[ast.Statement] = []
    for stmt in parse_statements(text):
        if isinstance(stmt, (ast.Show, ast.Describe)):
            checked.append(stmt)
            continue
        if isinstance(stmt, ast.Select):
            tables, _views, _system = engine.catalog.view_dependencies(stmt.query.sources)
            if not tables:
                checked.append(stmt)
                continue
            raise SQLError(
                f"a remote SELECT reads system tables only, and this one reads "
                f"{', '.join(tables)}; run continuous queries in the pipeline itself",
                line=stmt.line,
                column=stmt.column,
            )
        raise SQLError(
            f"{stmt.label} is not allowed over --connect: the monitoring endpoint is "
            "read-only (SELECT over system.* tables, SHOW, DESCRIBE)",
            line=stmt.line,
            column=stmt.column,
        )
    return checked


def _json(payload: Any, status: int = 200) -> web.Response:
    body = json.dumps(payload, default=json_default, ensure_ascii=False)
    return web.Response(text=body, status=status, content_type="application/json")
