"""A fault-injecting SSE feed for the chaos suite, on top of tests.support.sse_server.

``Feed(total, faults)`` is a Script that serves the numbered events 1…total
(``id: n``, ``data: {"n": n}``), honouring ``Last-Event-ID`` (each connection
starts after it) unless ``honour_last_event_id=False`` (it starts at 1, like a
server that ignores the header). Each connection takes the next fault from
``faults`` (then none); a fault fires after ``after`` events of that
connection. Once every event is sent the stream ends; a request whose
Last-Event-ID is ``total`` gets 204 (stop), so a pipeline over the feed ends.

Faults: ``cut(after, where)`` — abort the TCP connection inside the next
event ("event": between its lines, "line": inside a line, "utf8": inside a
multi-byte character); ``reset(after)`` — TCP RST (SO_LINGER 0);
``stall(after)`` — go silent, connection open; ``status(code, headers)`` —
answer an error status instead of the stream; ``redirect_loop()``;
``garbage(after, size)`` — lines of random bytes between events;
``oversized(after, size)``; ``gzip_bomb(after, size)`` — a gzip stream whose
next event inflates to ``size`` bytes; ``skip(after, count)`` — jump ``count``
ids ahead (a gap); ``stop(after)`` — send ``after`` events and end, then 204
for every later request.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import struct
import zlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.sse_server import Script, SSEServer, format_event


@dataclass
class Fault:
    kind: str
    after: int = 0
    options: dict[str, Any] = field(default_factory=dict)


def cut(after: int, where: str = "event") -> Fault:
    return Fault("cut", after, {"where": where})


def reset(after: int) -> Fault:
    return Fault("reset", after)


def stall(after: int) -> Fault:
    return Fault("stall", after)


def status(code: int, headers: dict[str, str] | None = None) -> Fault:
    return Fault("status", 0, {"code": code, "headers": headers or {}})


def redirect_loop() -> Fault:
    return Fault("redirect", 0)


def garbage(after: int, size: int = 256) -> Fault:
    return Fault("garbage", after, {"size": size})


def oversized(after: int, size: int) -> Fault:
    return Fault("oversized", after, {"size": size})


def gzip_bomb(after: int, size: int) -> Fault:
    return Fault("gzip_bomb", after, {"size": size})


def skip(after: int, count: int) -> Fault:
    return Fault("skip", after, {"count": count})


def stop(after: int) -> Fault:
    return Fault("stop", after)


def numbered_event(n: int) -> bytes:
    # A multi-byte character in every payload, so a cut can land inside one.
    return format_event(json.dumps({"n": n, "s": "é€"}, ensure_ascii=False), id=str(n))


class Feed(Script):
    """See the module docstring."""

    def __init__(
        self,
        total: int,
        *faults: Fault,
        honour_last_event_id: bool = True,
        per_write: int = 50,
        pause: float = 0.0,
        seed: int = 1,
    ) -> None:
        self.total = total
        self.faults = deque(faults)
        self.honour = honour_last_event_id
        self.per_write = per_write
        self.pause = pause
        self.random = random.Random(seed)
        self.sent: list[int] = []  # every id written completely, in order, over all connections
        self.stopped = False

    async def serve(self, server: SSEServer, request: web.Request) -> web.StreamResponse:
        last = request.headers.get("Last-Event-ID", "")
        start = int(last) + 1 if self.honour and last.isdigit() else 1
        fault = self.faults.popleft() if self.faults else None
        if self.stopped or start > self.total or (not self.honour and self.total in self.sent):
            return web.Response(status=204)
        if fault is not None and fault.kind == "status":
            return web.Response(status=fault.options["code"], headers=fault.options["headers"])
        if fault is not None and fault.kind == "redirect":
            self.faults.appendleft(fault)  # loop for ever
            return web.Response(status=302, headers={"Location": request.path})
        compress = fault is not None and fault.kind == "gzip_bomb"
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        if compress:
            response.headers["Content-Encoding"] = "gzip"
        await response.prepare(request)
        compressor = zlib.compressobj(wbits=31) if compress else None

        async def write(data: bytes) -> None:
            if compressor is not None:
                data = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
            await response.write(data)

        n, sent_here = start, 0
        try:
            while n <= self.total and not server.closing.is_set():
                if fault is not None and sent_here >= fault.after:
                    n = await self._fire(fault, request, write, n)
                    fault = None
                    if n < 0:
                        return response
                    continue
                limit = self.per_write
                if fault is not None:
                    limit = min(limit, fault.after - sent_here)
                upto = min(self.total, n + limit - 1)
                await write(b"".join(numbered_event(i) for i in range(n, upto + 1)))
                self.sent.extend(range(n, upto + 1))
                sent_here += upto - n + 1
                n = upto + 1
                if self.pause:
                    await asyncio.sleep(self.pause)
            if compressor is not None:
                await response.write(compressor.flush())
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            pass
        return response

    async def _fire(self, fault: Fault, request: web.Request, write: Any, n: int) -> int:
        """Inject ``fault`` before event ``n``; the next id to send, or -1 if the stream ends."""
        kind = fault.kind
        if kind == "cut":
            block = numbered_event(n)
            where = fault.options["where"]
            if where == "event":
                at = block.index(b"\n", block.index(b"data:")) + 1  # after the data line
            elif where == "line":
                at = block.index(b"data:") + 8
            else:
                at = block.index("é".encode()) + 1
            await write(block[:at])
            _abort(request)
            return -1
        if kind == "reset":
            _abort(request, rst=True)
            return -1
        if kind == "stall":
            await asyncio.sleep(3600)
            return -1
        if kind == "garbage":
            junk = bytes(
                self.random.choice([b for b in range(256) if b not in b"\r\n:"])
                for _ in range(fault.options["size"])
            )
            await write(junk + b"\n\n" + b"\xff\xfe\x00" + b"\n\n")
            return n
        if kind == "oversized":
            await write(b"id: big\ndata: " + b"x" * fault.options["size"] + b"\n\n")
            return n
        if kind == "gzip_bomb":
            chunk = b"A" * (1 << 20)
            await write(b"data: ")
            for _ in range(fault.options["size"] >> 20):
                await write(chunk)
            await write(b"\n\n")
            return n
        if kind == "skip":
            return n + fault.options["count"]
        if kind == "stop":
            self.stopped = True
            return -1
        raise ValueError(kind)


def _abort(request: web.Request, rst: bool = False) -> None:
    transport = request.transport
    if transport is None:
        return
    if rst:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
