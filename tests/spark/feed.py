"""A real aiohttp SSE server in a background thread, for the (synchronous) Spark tests.

``/feed/<name>`` serves events 1..total of a named feed with ``id: n``, resuming after
``Last-Event-ID``; ``per_connection`` cuts the connection after that many events (the
client reconnects), and once every event is sent the connection stays open, silent.
Event types alternate ``price_update`` / ``heartbeat`` when ``mixed`` is set.
``server.requests`` records the Last-Event-ID of every connection.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Feed:
    total: int
    fmt: str = "json"  # json | text | custom | bad (every 5th payload is not JSON)
    mixed: bool = False
    per_connection: int = 0  # 0: never cut
    delay_every: int = 0  # sleep 10 ms after this many events (0: as fast as possible)
    released: int | None = None  # send no event past this id until the test raises it
    last_ids: list[str] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)  # Authorization of each connection


def payload(name: str, n: int, fmt: str) -> str:
    if fmt == "text":
        return f"{name} line {n}"
    if fmt == "custom":
        return f"id:{name}-{n} value:{n}.5 meta:{{\"n\": {n}}}"
    if fmt == "bad" and n % 5 == 0:
        return "{not json"
    return json.dumps({"symbol": name, "seq": n, "price": f"{n}.125", "ts": "2026-01-02T03:04:05Z"})


class FeedServer:
    def __init__(self) -> None:
        self.feeds: dict[str, Feed] = {}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)
        self.port = 0

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/feed/{name}"

    def start(self) -> FeedServer:
        self._thread.start()
        assert self._ready.wait(30)
        return self

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_get("/feed/{name}", self._handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        feed = self.feeds[request.match_info["name"]]
        last = request.headers.get("Last-Event-ID", "")
        feed.last_ids.append(last)
        feed.auth.append(request.headers.get("Authorization", ""))
        first = int(last) + 1 if last else 1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        name = request.match_info["name"]
        chunk: list[str] = []
        for sent, n in enumerate(range(first, feed.total + 1), start=1):
            while feed.released is not None and n > feed.released:
                if chunk:
                    await response.write("".join(chunk).encode())
                    chunk = []
                await asyncio.sleep(0.05)  # held back until the test releases more
            kind = "heartbeat" if feed.mixed and n % 2 == 0 else "price_update"
            chunk.append(f"event: {kind}\nid: {n}\ndata: {payload(name, n, feed.fmt)}\n\n")
            cut = feed.per_connection and sent >= feed.per_connection
            pause = feed.delay_every and sent % feed.delay_every == 0
            if len(chunk) >= 50 or n == feed.total or cut or pause:
                await response.write("".join(chunk).encode())
                chunk = []
            if cut:
                return response  # a normal end: the client reconnects with Last-Event-ID
            if pause:
                await asyncio.sleep(0.01)
        assert self._stop is not None
        try:
            while not self._stop.is_set():  # all sent: stay open, silent
                await asyncio.sleep(0.2)
                await response.write(b": keepalive\n\n")
        except (ConnectionError, RuntimeError):
            pass  # the client went away
        return response

    def close(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def serve_forever(feeds: dict[str, Feed], port_file: str) -> None:
    """Run a FeedServer in this process (the exactly-once test's separate server)."""
    server = FeedServer()
    server.feeds.update(feeds)
    server.start()
    with open(port_file + ".tmp", "w") as handle:
        handle.write(str(server.port))
    import os

    os.replace(port_file + ".tmp", port_file)
    threading.Event().wait()
