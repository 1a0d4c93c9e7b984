"""Who may use the monitoring port: an optional bearer token, and a warning on exposure.

``--metrics-token TOKEN`` (or ``$LAMINAR_METRICS_TOKEN``) makes every route of
the monitoring port (/metrics, /healthz, /status, /sql) require
``Authorization: Bearer TOKEN``, compared in constant time. ``laminar status``
and ``laminar sql --connect`` send ``$LAMINAR_METRICS_TOKEN``. Binding beyond
loopback (``--metrics-host 0.0.0.0``) logs a warning, and says whether a
token guards the port. The token is never logged or echoed.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from laminar.errors import ConfigError

if TYPE_CHECKING:  # aiohttp is imported where a server starts (laminar --help stays light)
    from aiohttp import web
    from aiohttp.typedefs import Middleware

TOKEN_ENV = "LAMINAR_METRICS_TOKEN"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})
logger = logging.getLogger("laminar.observability")

Handler = Callable[["web.Request"], Awaitable["web.StreamResponse"]]


def resolve_token(flag: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The token from ``--metrics-token``, else the environment; None when neither is set."""
    env = os.environ if env is None else env
    token = flag if flag is not None else env.get(TOKEN_ENV)
    if token is None or token == "":
        return None
    if token != token.strip() or any(c.isspace() or ord(c) < 32 for c in token):
        raise ConfigError(
            f"--metrics-token / {TOKEN_ENV}: the token contains whitespace or control "
            "characters; use printable characters only (e.g. `openssl rand -hex 16`)",
            option="metrics_token",
        )
    return token


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost names (what only this machine reaches)."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def tokens_equal(given: str | None, expected: str) -> bool:
    """Constant-time comparison (no timing oracle on the token's prefix)."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def bearer(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def exposure_warning(host: str, token: str | None) -> str | None:
    """The warning to print when ``host`` reaches beyond this machine, else None."""
    if is_loopback(host):
        return None
    guard = (
        "every request must carry the bearer token"
        if token
        else f"anyone who reaches it can read metrics, status and table definitions; set "
        f"--metrics-token or {TOKEN_ENV}"
    )
    return f"the monitoring port binds {host}, beyond this machine: {guard}"


def token_middleware(token: str) -> Middleware:
    """An aiohttp middleware that answers 401 unless the request carries ``token``."""
    from aiohttp import web

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not tokens_equal(bearer(request), token):
            return web.json_response(
                {
                    "error": "this monitoring port requires a token: send 'Authorization: "
                    f"Bearer <token>' (laminar status / sql --connect read {TOKEN_ENV})"
                },
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="laminar"'},
            )
        return await handler(request)

    return check
