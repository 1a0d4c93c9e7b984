"""The console's aiohttp application: the page, its static files and ``/api/v1``.

``await start_console(engine, host, port, token=…)`` returns a ``Console``
(``.url``, ``.login_url``, ``.manager``, ``await .close()``). Without
``token`` a token is generated; ``token=""`` disables it (loopback only).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from laminar.console import api
from laminar.console.auth import check_bind, security_middleware
from laminar.console.manager import PipelineManager
from laminar.errors import ConfigError
from laminar.observability import server as monitoring
from laminar.observability.access import is_loopback
from laminar.sql.engine import Engine
from laminar.sql.limits import ResultLimits

STATIC = Path(__file__).parent / "static"
TOKEN_ENV = "LAMINAR_CONSOLE_TOKEN"


class Console:
    def __init__(self, runner: web.AppRunner, url: str, token: str | None,
                 manager: PipelineManager) -> None:
        self.runner = runner
        self.url = url
        self.token = token
        self.manager = manager

    @property
    def login_url(self) -> str:
        return f"{self.url}/?token={self.token}" if self.token else f"{self.url}/"

    async def close(self) -> None:
        await self.manager.close()
        await self.runner.cleanup()


def build_app(manager: PipelineManager, token: str | None, loopback_only: bool,
              port_of: Callable[[], int], limits: ResultLimits) -> web.Application:
    app = web.Application(
        middlewares=[security_middleware(token, port_of, loopback_only)],
        client_max_size=api.MAX_BODY,
    )
    app[api.MANAGER] = manager
    app[api.LIMITS] = limits
    api.add_routes(app)
    # The monitoring port's routes, behind the console's rules (laminar status --connect
    # and Prometheus work against a console too, with the token as a bearer token).
    monitoring.mount(app, manager.engine, limits)
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC, follow_symlinks=False)
    return app


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def start_console(
    engine: Engine,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    token: str | None = None,
    limits: ResultLimits | None = None,
) -> Console:
    """Serve the console for ``engine`` on ``host:port``; see the module docstring."""
    if token is None:
        token = os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)
    if token and (token != token.strip() or any(c.isspace() or ord(c) < 32 for c in token)):
        raise ConfigError(
            f"--console-token / {TOKEN_ENV}: the token contains whitespace or control "
            "characters; use printable characters only (e.g. `openssl rand -hex 16`)",
            option="console_token",
        )
    token = token or None
    check_bind(host, token)
    manager = PipelineManager(engine)
    bound: list[int] = [port]
    app = build_app(manager, token, is_loopback(host), lambda: bound[0],
                    limits or ResultLimits.from_env(os.environ))
    # handler_cancellation: a closed output tab ends its handler (and frees its queue) at once
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True)
    bound[0], url = await monitoring.listen(
        runner, host, port, what="the console", port_flag="--port"
    )
    return Console(runner, url, token, manager)
