"""The console's access rules, as one aiohttp middleware (``security_middleware``).

* The token (printed as ``http://127.0.0.1:P/?token=…``) is accepted as
  ``?token=`` on a page load, as ``Authorization: Bearer``, or as the cookie
  that the first load sets (``HttpOnly; SameSite=Strict``; the page is then
  redirected to the same URL without the token). Compared in constant time.
* Host: a console bound to loopback answers only requests whose Host is a
  loopback name or address (a DNS-rebinding page cannot reach it).
* Writes (anything but GET/HEAD) authenticated by the cookie must come from the
  console's own origin (``Origin``) with ``Content-Type: application/json``;
  a bearer token (curl, scripts) needs neither.
* Every response carries ``Content-Security-Policy: default-src 'self'`` and
  no CORS header; framing is refused.
* Without a token (``--token ''``) only a loopback bind is allowed
  (``check_bind``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Middleware

from laminar.errors import ConfigError
from laminar.observability.access import bearer, is_loopback, tokens_equal

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC_PREFIXES = ("/static/",)  # the package's own files: nothing secret in them
SECURITY_HEADERS = {
    # Scripts, styles sheets, connections: this origin only. The editor draws its lint
    # marks with data: images and sets a few style attributes (not <style> elements).
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src-attr 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve beyond this machine without a token."""
    if not token and not is_loopback(host):
        raise ConfigError(
            f"--console-host {host}: the console reaches beyond this machine, so it needs a "
            "token; drop --console-token '' (a token is generated) or pass "
            "--console-token TOKEN",
            option="host",
        )


def cookie_name(port: int) -> str:
    # Cookies ignore ports: one per port, so two consoles on one machine coexist.
    return f"laminar_console_{port}"


def _json_error(message: str, status: int) -> web.Response:
    return web.json_response({"error": message, "line": None, "column": None}, status=status)


def security_middleware(
    token: str | None, port_of: Callable[[], int], loopback_only: bool
) -> Middleware:
    """The middleware enforcing the module's rules; ``port_of()`` is the bound port."""

    @web.middleware
    async def secure(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await _check(request, handler)
        except web.HTTPException as exc:
            for name, value in SECURITY_HEADERS.items():
                exc.headers.setdefault(name, value)
            raise
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def _check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if loopback_only and not is_loopback(_host_name(request.host)):
            return _json_error(
                "this console answers only to loopback names (Host: 127.0.0.1 or "
                "localhost); open the URL that `laminar serve` printed",
                421,
            )
        if token is None or request.path.startswith(PUBLIC_PREFIXES):
            return await handler(request)
        cookie = cookie_name(port_of())
        query_token = request.query.get("token")
        if query_token is not None and request.method == "GET" and not request.path.startswith(
            "/api/"
        ):
            if not tokens_equal(query_token, token):
                return _json_error("wrong token: open the URL that `laminar serve` printed", 401)
            rest = {k: v for k, v in request.query.items() if k != "token"}
            target = request.path + (f"?{urlencode(rest)}" if rest else "")
            found = web.HTTPFound(target)
            found.set_cookie(cookie, token, httponly=True, samesite="Strict", path="/")
            raise found
        if tokens_equal(bearer(request), token):
            return await handler(request)
        if not tokens_equal(request.cookies.get(cookie), token):
            return _json_error(
                "this console needs its token: open the URL that `laminar serve` printed "
                "(…/?token=…), or send 'Authorization: Bearer <token>'",
                401,
            )
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("Origin")
            expected = f"{request.scheme}://{request.host}"
            if origin != expected:
                return _json_error(
                    "a write authenticated by the console's cookie must come from the console "
                    f"page itself (Origin {expected})",
                    403,
                )
            if request.content_type != "application/json":
                return _json_error("writes must be sent as Content-Type: application/json", 415)
        return await handler(request)

    return secure


def _host_name(host: str) -> str:
    """The name part of a Host header ("127.0.0.1:8080" -> "127.0.0.1", "[::1]:80" -> "::1")."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
