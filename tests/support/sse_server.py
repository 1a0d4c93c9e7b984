"""A scriptable SSE server for tests: real aiohttp, real sockets, on 127.0.0.1.

Each incoming request takes the next *script* from the server's queue (the first
connection does X, the second Y, …); when the queue is empty the server answers
with ``default`` (204 unless told otherwise, which tells an SSE client to stop).
Every request is recorded (method, path, headers, body) in ``server.requests``.

    async with SSEServer(
        Stream(event("a", id="1"), drop()),          # 1st connection: one event, then a cut
        Reply(503, headers={"Retry-After": "0"}),    # 2nd: an error status
        Stream(event("b", id="2")),                  # 3rd: one event, then a normal end
    ) as server:
        ... EventSource(server.url) ...
        assert server.requests[1].headers["Last-Event-ID"] == "1"

Scripts: ``Stream(*steps, status=200, headers=None, content_type=..., compress=None)``,
``Reply(status, body, headers)``, ``Redirect(location, status=302)``, ``Hang()`` (never
answers). ``RecordingObserver`` records a client's observer hooks. Steps (run in
order inside a Stream): ``event``, ``raw``, ``comment``, ``sleep``, ``wait`` (for an
asyncio.Event the test sets), ``stall`` (until the client or the server goes),
``drop`` (abort the TCP connection, e.g. mid-event) and ``flood`` (write a lot,
honouring back-pressure). ``compress`` is "gzip", "deflate" (zlib-wrapped) or
"deflate-raw"; every write is flushed through the compressor so events arrive
when sent. Start the server with ``ssl=`` an ssl.SSLContext for https.
"""

from __future__ import annotations

import asyncio
import ssl as ssl_module
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

TLS_DIR = Path(__file__).parent / "tls"


# -- what the server saw -------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    url: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """A header's value (case-insensitive), or None."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None

    @property
    def last_event_id(self) -> str | None:
        return self.header("Last-Event-ID")

    @property
    def authorization(self) -> str | None:
        return self.header("Authorization")


# -- wire helpers -------------------------------------------------------------------------


def format_event(
    data: str | None = None,
    *,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    eol: str = "\n",
) -> bytes:
    """An SSE event block: id, event, retry, then one data line per line of ``data``."""
    lines = []
    if id is not None:
        lines.append(f"id: {id}")
    if event is not None:
        lines.append(f"event: {event}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    if data is not None:
        lines.extend(f"data: {line}" for line in data.split("\n"))
    return (eol.join(lines) + eol + eol).encode("utf-8")


class _Connection:
    """What a step can do to the one response it runs in."""

    def __init__(
        self, server: SSEServer, request: web.Request, response: web.StreamResponse, compress: Any
    ) -> None:
        self.server = server
        self.request = request
        self.response = response
        self.compressor = compress

    async def write(self, data: bytes) -> None:
        if self.compressor is not None:
            data = self.compressor.compress(data) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
        await self.response.write(data)
        self.server.bytes_written += len(data)


Step = Callable[[_Connection], Awaitable[None]]


class _Dropped(Exception):
    pass


def raw(data: bytes | str, *, chunk_size: int = 0, pause: float = 0.0) -> Step:
    """Write ``data`` as is; optionally in ``chunk_size`` pieces with ``pause`` between."""
    payload = data.encode("utf-8") if isinstance(data, str) else data

    async def step(conn: _Connection) -> None:
        if not chunk_size:
            await conn.write(payload)
            return
        for start in range(0, len(payload), chunk_size):
            await conn.write(payload[start : start + chunk_size])
            if pause:
                await asyncio.sleep(pause)

    return step


def event(
    data: str | None = None,
    *,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    eol: str = "\n",
) -> Step:
    """Write one event block."""
    return raw(format_event(data, event=event, id=id, retry=retry, eol=eol))


def events(count: int, *, start: int = 1, event: str | None = None, data: str = "{}") -> Step:
    """Write ``count`` events with ids start, start+1, … in one write."""
    blob = b"".join(format_event(data, event=event, id=str(i)) for i in range(start, start + count))
    return raw(blob)


def comment(text: str = "") -> Step:
    """Write a comment line (a keep-alive)."""
    return raw(f":{text}\n".encode())


def sleep(seconds: float) -> Step:
    async def step(conn: _Connection) -> None:
        await asyncio.sleep(seconds)

    return step


def wait(signal: asyncio.Event) -> Step:
    """Block until the test sets ``signal`` (or the server closes)."""

    async def step(conn: _Connection) -> None:
        closing = asyncio.ensure_future(conn.server.closing.wait())
        waiting = asyncio.ensure_future(signal.wait())
        try:
            await asyncio.wait({closing, waiting}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            waiting.cancel()

    return step


def stall() -> Step:
    """Send nothing more, keep the connection open until the server closes."""

    async def step(conn: _Connection) -> None:
        await conn.server.closing.wait()
        raise _Dropped

    return step


def drop() -> Step:
    """Abort the TCP connection now (no chunked terminator: the client sees a cut)."""

    async def step(conn: _Connection) -> None:
        transport = conn.request.transport
        if transport is not None:
            transport.abort()
        raise _Dropped

    return step


def flood(total_bytes: int, *, event_size: int = 1000) -> Step:
    """Write about ``total_bytes`` of events, each write waiting for the socket (drain)."""
    block = format_event("x" * max(1, event_size - 8))

    async def step(conn: _Connection) -> None:
        batch = block * max(1, 65536 // len(block))
        written = 0
        while written < total_bytes and not conn.server.closing.is_set():
            await conn.write(batch)
            written += len(batch)

    return step


# -- scripts: what one connection gets ------------------------------------------------------


class Script:
    async def serve(self, server: SSEServer, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError


class Stream(Script):
    """A streamed response: status line and headers, then the steps, then a normal end."""

    def __init__(
        self,
        *steps: Step,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = "text/event-stream",
        compress: str | None = None,
    ) -> None:
        self.steps = steps
        self.status = status
        self.headers = dict(headers or {})
        self.content_type = content_type
        self.compress = compress

    async def serve(self, server: SSEServer, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=self.status, headers=self.headers)
        if self.content_type is not None:
            response.headers["Content-Type"] = self.content_type
        compressor = None
        if self.compress is not None:
            wbits = {"gzip": 31, "deflate": 15, "deflate-raw": -15}[self.compress]
            compressor = zlib.compressobj(wbits=wbits)
            response.headers["Content-Encoding"] = self.compress.split("-")[0]
        await response.prepare(request)
        conn = _Connection(server, request, response, compressor)
        try:
            for step in self.steps:
                await step(conn)
            if compressor is not None:
                await response.write(compressor.flush())
            await response.write_eof()
        except (_Dropped, ConnectionError):
            pass
        return response


class Reply(Script):
    """A plain, complete response (an error status, a 204, a JSON body …)."""

    def __init__(
        self,
        status: int,
        body: str | bytes = "",
        headers: Mapping[str, str] | None = None,
        content_type: str = "text/plain",
    ) -> None:
        self.status = status
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.headers = dict(headers or {})
        self.content_type = content_type

    async def serve(self, server: SSEServer, request: web.Request) -> web.StreamResponse:
        response = web.Response(status=self.status, headers=self.headers)
        if self.status not in (204, 304):
            response.body = self.body
            response.content_type = self.content_type
        return response


class Hang(Script):
    """Read the request, then never answer (until the server closes): a slow server."""

    async def serve(self, server: SSEServer, request: web.Request) -> web.StreamResponse:
        await server.closing.wait()
        return web.Response(status=503)


class Redirect(Reply):
    """A redirect to ``location`` (absolute, or a path on this server)."""

    def __init__(self, location: str, status: int = 302) -> None:
        super().__init__(status, headers={"Location": location})


# -- the server ---------------------------------------------------------------------------


class SSEServer:
    """The server; see the module docstring. Use ``async with`` or start()/close()."""

    def __init__(
        self,
        *scripts: Script,
        default: Script | None = None,
        ssl: ssl_module.SSLContext | None = None,
    ) -> None:
        self.scripts = deque(scripts)
        self.default = default or Reply(204)
        self.ssl = ssl
        self.requests = []
        self.bytes_written = 0
        self.port = 0
        self.closing = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    def add(self, *scripts: Script) -> None:
        """Queue more per-connection scripts."""
        self.scripts.extend(scripts)

    @property
    def base_url(self) -> str:
        return f"{'https' if self.ssl else 'http'}://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + "/events"

    def url_for(self, path: str) -> str:
        return self.base_url + path

    async def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait until at least ``count`` requests arrived; returns them."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return self.requests

    async def start(self) -> SSEServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=0.5,
            handler_cancellation=True,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        self.closing.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> SSEServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            url=str(request.url),
            headers=dict(request.headers),
            body=body,
        )
        async with self._arrived:
            self.requests.append(recorded)
            self._arrived.notify_all()
        script = self.scripts.popleft() if self.scripts else self.default
        return await script.serve(self, request)


class RecordingObserver:
    """A SourceObserver (duck-typed) that records every hook call as (name, args)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        if not name.startswith("on_"):
            raise AttributeError(name)

        def record(*args: Any) -> None:
            self.calls.append((name, args))

        return record

    def args(self, name: str) -> list[tuple[Any, ...]]:
        """The arguments of every call of hook ``name``, in order."""
        return [args for hook, args in self.calls if hook == name]

    def text(self) -> str:
        """Everything the hooks received, as one string (to look for leaked secrets)."""
        return repr(self.calls)


def tls_server_context() -> ssl_module.SSLContext:
    """The server side of the test TLS setup (certificate for 127.0.0.1, signed by ca.pem)."""
    context = ssl_module.create_default_context(ssl_module.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS_DIR / "server.pem", TLS_DIR / "server.key")
    return context


TLS_CA = str(TLS_DIR / "ca.pem")

__all__ = [
    "TLS_CA",
    "Hang",
    "RecordedRequest",
    "RecordingObserver",
    "Redirect",
    "Reply",
    "SSEServer",
    "Script",
    "Stream",
    "comment",
    "drop",
    "event",
    "events",
    "flood",
    "format_event",
    "raw",
    "sleep",
    "stall",
    "tls_server_context",
    "wait",
]
