"""The embedded demo SSE feed: deterministic, resumable event streams on 127.0.0.1.

``laminar demo-server``, ``make demo``, the examples, the tests and the benchmarks
all read from this server. It is an aiohttp application with one route per feed:

    /stocks    named events ``price`` / ``trade``: {"symbol","price","volume","timestamp"};
               about 1 event in 11 has price > 1000 or < 10 (the document's price_alerts)
    /sensors   unnamed (``message``) events: {"device_id","reading_type","value","unit",
               "timestamp"}
    /social    events ``post`` / ``comment`` / ``like``, plus ``share`` and ``follow`` that a
               table's event_type_filter drops: {"post_id","user_id","content","timestamp",
               "metrics":{"likes","comments","shares"}}
    /text      plain-text log lines, one per event (format = 'text')
    /custom    ``id:sensor-3-17 value:21.50 meta:{"unit":"celsius","seq":17}`` lines that
               match the document's parser_regex (format = 'custom')
    /bench     benchmark workloads (``?workload=small|large|multiline|crlf&count=N``),
               written in large pre-built chunks; the response ends after ``count`` events
    /secure/<feed>  the same feeds behind ``Authorization: Bearer <token>`` or
               ``X-API-Key: <token>`` (401 otherwise)
    /          a JSON index of the endpoints and their query parameters

Contract of every feed:
- ids are sequential integers per connection starting at 1; a request carrying
  ``Last-Event-ID: N`` (or ``?last_event_id=N``) continues at N+1;
- the payload of event N is a pure function of (feed, seed, N), so a resumed
  stream repeats exactly what a fresh one sent; ``timestamp`` is the send time
  unless ``?epoch=`` is given, then it is ``epoch + N / rate`` (or ``epoch + N * step_ms``)
  and deterministic too;
- the first event carries ``retry:`` (``?retry=`` ms, default 1000);
- ``?count=N`` ends the stream after id N, and a reconnection that asks for more
  (Last-Event-ID >= N) gets 204 No Content, which tells SSE clients to stop;
- compression: gzip or deflate when the request's Accept-Encoding allows it,
  ``?gzip=1`` / ``?deflate=1`` to force, ``?gzip=0`` to refuse (``/bench`` is
  uncompressed unless asked); flushed per write, so events arrive when sent;
- a ``: keep-alive`` comment is sent every ``?keepalive=`` seconds (default 15);
- unknown or invalid query parameters get 400 with a message naming the fix.

Use ``build_app(...)`` to mount it, or ``await start_demo_server()`` to run it
in-process: it returns the runner (``await runner.cleanup()`` stops it) and the URL.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from laminar._suggest import did_you_mean

__all__ = [
    "BENCH_WORKLOADS",
    "FEEDS",
    "bench_events",
    "build_app",
    "endpoints",
    "feed_event",
    "start_demo_server",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_RATE = 20.0
DEFAULT_RETRY_MS = 1000
DEFAULT_KEEPALIVE_S = 15.0
DEFAULT_TOKEN = "demo-token"
DEFAULT_BENCH_COUNT = 100_000
_MAX_BATCH = 512  # events per write when a feed runs unpaced or catches up
_WRITE_TARGET = 256 * 1024  # bytes per write on /bench


# --------------------------------------------------------------------------- payloads


def _iso(epoch_s: float) -> str:
    """ISO-8601 UTC with milliseconds and a Z, as the document's examples use."""
    ms = round(epoch_s * 1000)
    secs, rem = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{rem:03d}Z"


def _json(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


# (symbol, base price, weight): BKNG is always > 1000 and SIRI always < 10.
_STOCKS = (
    ("AAPL", 187.25, 3),
    ("MSFT", 415.10, 3),
    ("GOOG", 141.80, 3),
    ("AMZN", 178.30, 3),
    ("TSLA", 244.90, 3),
    ("META", 503.60, 3),
    ("NFLX", 612.40, 2),
    ("BKNG", 3890.00, 1),
    ("SIRI", 4.35, 1),
)
_STOCK_WEIGHTS = [w for _, _, w in _STOCKS]


def _stocks(n: int, rng: random.Random, ts: str) -> tuple[str, str]:
    i = rng.choices(range(len(_STOCKS)), weights=_STOCK_WEIGHTS)[0]
    symbol, base, _ = _STOCKS[i]
    price = base * (1 + 0.02 * math.sin(n / 50 + i) + rng.gauss(0, 0.002))
    event = "trade" if rng.random() < 0.2 else "price"
    data = {"symbol": symbol, "price": round(price, 2), "volume": rng.randint(1, 50) * 100}
    data["timestamp"] = ts
    return event, _json(data)


_READINGS = (  # (reading_type, unit, typical value, spread)
    ("temperature", "celsius", 21.0, 3.0),
    ("humidity", "percent", 45.0, 10.0),
    ("pressure", "hPa", 1013.0, 8.0),
    ("co2", "ppm", 600.0, 150.0),
    ("battery", "volt", 3.7, 0.2),
)


def _sensors(n: int, rng: random.Random, ts: str) -> tuple[str, str]:
    device = rng.randrange(12)
    kind, unit, base, spread = rng.choice(_READINGS)
    value = base + spread * math.sin(n / 30 + device) + rng.gauss(0, spread * 0.1)
    data = {
        "device_id": f"sensor-{device + 1:03d}",
        "reading_type": kind,
        "value": round(value, 2),
        "unit": unit,
        "timestamp": ts,
    }
    return "message", _json(data)


_SOCIAL_TYPES = ("post", "comment", "like", "share", "follow")
_SOCIAL_WEIGHTS = (30, 30, 30, 5, 5)
_POSTS = (
    "Shipping the new release today",
    "Anyone tried streaming SQL over SSE?",
    "Coffee first, then dashboards",
    "Latency is a feature",
    "Our sensors just crossed 1M readings",
    "Reading the WHATWG spec so you don't have to",
)
_COMMENTS = ("Nice!", "+1", "How fast is it?", "Congrats 🎉", "Source?", "Great thread")


def _social(n: int, rng: random.Random, ts: str) -> tuple[str, str]:
    event = rng.choices(_SOCIAL_TYPES, weights=_SOCIAL_WEIGHTS)[0]
    content: str | None
    if event == "post":
        post, content = f"p-{n}", rng.choice(_POSTS)
    else:
        post = f"p-{rng.randint(max(1, n - 50), n)}"
        content = rng.choice(_COMMENTS) if event == "comment" else None
    metrics = {
        "likes": rng.randint(0, 500),
        "comments": rng.randint(0, 80),
        "shares": rng.randint(0, 40),
    }
    data = {
        "post_id": post,
        "user_id": f"u-{rng.randint(1, 200):03d}",
        "content": content,
        "timestamp": ts,
        "metrics": metrics,
    }
    return event, _json(data)


_SERVICES = ("api-gateway", "checkout", "search", "auth", "billing")
_LOG_LINES = (
    ("INFO", "GET /orders/{k} 200 in {ms} ms"),
    ("INFO", "order {k} paid in {ms} ms"),
    ("WARN", "slow query took {ms} ms"),
    ("INFO", "cache hit ratio {pct}%"),
    ("ERROR", "upstream timeout after {ms} ms"),
    ("DEBUG", "session {k} refreshed"),
)


def _text(n: int, rng: random.Random, ts: str) -> tuple[str, str]:
    level, template = rng.choice(_LOG_LINES)
    k, ms, pct = rng.randint(1000, 9999), rng.randint(1, 900), rng.randint(50, 99)
    msg = template.format(k=k, ms=ms, pct=pct)
    return "message", f"{ts} {level} {rng.choice(_SERVICES)}: {msg}"


def _custom(n: int, rng: random.Random, ts: str) -> tuple[str, str]:
    kind, unit, base, spread = rng.choice(_READINGS)
    value = abs(base + rng.gauss(0, spread))
    meta = _json({"unit": unit, "type": kind, "seq": n, "at": ts})
    return "message", f"id:sensor-{rng.randint(1, 12)}-{n} value:{value:.2f} meta:{meta}"


_GENERIC_TYPES = ("message", "update", "notification", "heartbeat")
_GENERIC_WEIGHTS = (50, 25, 15, 10)
_ACTIONS = ("login", "logout", "purchase", "view", "refund", "signup")


def _events(n: int, rng: random.Random, ts: str) -> tuple[str, str]:
    event = rng.choices(_GENERIC_TYPES, weights=_GENERIC_WEIGHTS)[0]
    data = {
        "user_id": f"u-{rng.randint(1, 50):03d}",
        "action": rng.choice(_ACTIONS),
        "amount": round(rng.uniform(1, 500), 2),
        "timestamp": ts,
    }
    return event, _json(data)


class Feed:
    """One human-facing feed: its payload function and how it breaks when asked to."""

    __slots__ = ("description", "make", "malformed", "name")

    def __init__(
        self,
        name: str,
        description: str,
        make: Callable[[int, random.Random, str], tuple[str, str]],
        malformed: Callable[[int, str], str] | None,
    ) -> None:
        self.name = name
        self.description = description
        self.make = make
        self.malformed = malformed


def _truncate(n: int, data: str) -> str:
    return data[: len(data) // 2]


FEEDS: dict[str, Feed] = {
    f.name: f
    for f in (
        Feed(
            "events",
            "generic events: message/update/notification, plus heartbeat to filter",
            _events,
            _truncate,
        ),
        Feed("stocks", "stock prices: named events price/trade, ids, retry", _stocks, _truncate),
        Feed("sensors", "IoT sensor readings (unnamed 'message' events)", _sensors, _truncate),
        Feed("social", "post/comment/like events, plus share/follow to filter", _social, _truncate),
        Feed("text", "plain-text log lines (format = 'text')", _text, None),
        Feed(
            "custom",
            "'id:… value:… meta:{…}' lines (format = 'custom')",
            _custom,
            lambda n, data: f"garbled line {n}",
        ),
    )
}


def feed_event(
    feed: str, n: int, *, seed: int = 0, timestamp: str = "", errors: float = 0.0
) -> tuple[str, str]:
    """Return ``(event type, data)`` of event ``n`` of ``feed``: a pure function of its inputs."""
    spec = FEEDS[feed]
    rng = random.Random(f"{seed}/{feed}/{n}")
    broken = rng.random() < errors
    event, data = spec.make(n, rng, timestamp)
    if broken and spec.malformed is not None:
        data = spec.malformed(n, data)
    return event, data


def _frame(n: int, event: str, data: str, retry: int | None = None) -> str:
    lines = [f"id: {n}"]
    if event != "message":
        lines.append(f"event: {event}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return "\n".join(lines) + "\n\n"


# --------------------------------------------------------------------------- bench

_T0_MS = 1795856400000  # 2026-11-28T09:00:00Z


def _bench_prefixes() -> list[str]:
    """'"symbol":"AAPL","price":187.25,"volume":1200,' for each id % 64; 1 in 8 alerts."""
    out = []
    for k in range(64):
        symbol, base, _ = _STOCKS[k % 7] if k % 8 else _STOCKS[7 + (k // 8) % 2]
        out.append(
            f'"symbol":"{symbol}","price":{base * (1 + (k % 5 - 2) / 100):.2f},'
            f'"volume":{(k % 9 + 1) * 100},'
        )
    return out


_BENCH_PREFIX = _bench_prefixes()
_LARGE_ITEMS = _json(
    [
        {"sku": f"SKU-{k:05d}", "qty": k % 7 + 1, "price": 9.99 + k, "tags": ["a", "b"]}
        for k in range(63)
    ]
)


def _bench_small(first: int, last: int, nl: str = "\n") -> str:
    p, t = _BENCH_PREFIX, _T0_MS
    if nl == "\n":
        return "".join(
            f'id: {i}\nevent: tick\ndata: {{{p[i & 63]}"timestamp":{t + i}}}\n\n'
            for i in range(first, last + 1)
        )
    return "".join(
        f'id: {i}\r\nevent: tick\r\ndata: {{{p[i & 63]}"timestamp":{t + i}}}\r\n\r\n'
        for i in range(first, last + 1)
    )


def _bench_large(first: int, last: int) -> str:
    p, t, items = _BENCH_PREFIX, _T0_MS, _LARGE_ITEMS
    return "".join(
        f'id: {i}\nevent: tick\ndata: {{{p[i & 63]}"timestamp":{t + i},'
        f'"seq":{i},"items":{items}}}\n\n'
        for i in range(first, last + 1)
    )


def _bench_multiline(first: int, last: int) -> str:
    p, t = _BENCH_PREFIX, _T0_MS
    out = []
    for i in range(first, last + 1):
        sym, rest = p[i & 63].split(",", 1)
        out.append(
            f'id: {i}\nevent: tick\ndata: {{{sym},\ndata: {rest}\ndata: "timestamp":{t + i}}}\n\n'
        )
    return "".join(out)


# workload -> (generator(first, last) -> str, events per cached block)
BENCH_WORKLOADS: dict[str, tuple[Callable[[int, int], str], int]] = {
    "small": (_bench_small, 2048),
    "large": (_bench_large, 64),
    "multiline": (_bench_multiline, 2048),
    "crlf": (lambda a, b: _bench_small(a, b, "\r\n"), 2048),
}


def bench_events(workload: str, first: int, last: int) -> bytes:
    """The bytes of events ``first..last`` (inclusive) of a benchmark workload."""
    make, _ = BENCH_WORKLOADS[workload]
    return make(first, last).encode()


class _BlockCache:
    """Pre-built /bench blocks, LRU, bounded in bytes, so repeated rounds cost only writes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._blocks: OrderedDict[tuple[str, int], bytes] = OrderedDict()

    def get(self, workload: str, index: int) -> bytes:
        key = (workload, index)
        block = self._blocks.get(key)
        if block is not None:
            self._blocks.move_to_end(key)
            return block
        per = BENCH_WORKLOADS[workload][1]
        block = bench_events(workload, index * per + 1, (index + 1) * per)
        if len(block) <= self.max_bytes:
            self._blocks[key] = block
            self.size += len(block)
            while self.size > self.max_bytes:
                _, old = self._blocks.popitem(last=False)
                self.size -= len(old)
        return block

    def chunks(self, workload: str, first: int, last: int) -> Iterable[bytes]:
        """Yield the bytes of events first..last, mostly straight from cached blocks."""
        per = BENCH_WORKLOADS[workload][1]
        n = first
        while n <= last:
            index, offset = divmod(n - 1, per)
            block_last = (index + 1) * per
            if offset == 0 and block_last <= last:
                yield self.get(workload, index)
            else:  # a partial block at either end: build just that slice
                yield bench_events(workload, n, min(last, block_last))
            n = block_last + 1


# --------------------------------------------------------------------------- HTTP

_CONFIG: web.AppKey[dict[str, Any]] = web.AppKey("laminar_demo_config", dict)
_STOP = web.AppKey("laminar_demo_stop", asyncio.Event)
_CACHE = web.AppKey("laminar_demo_cache", _BlockCache)


class _BadParam(Exception):
    pass


def _number(name: str, raw: str, *, minimum: float = 0.0, integer: bool = False) -> Any:
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise _BadParam(f"?{name}={raw!r} is not {kind}") from None
    if not math.isfinite(value) or value < minimum:
        raise _BadParam(f"?{name}={raw!r} must be >= {minimum:g}")
    return value


def _flag(name: str, raw: str) -> bool:
    low = raw.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise _BadParam(f"?{name}={raw!r} must be 1/true or 0/false")


def _epoch(raw: str) -> float:
    try:
        return float(raw) / 1000.0  # epoch milliseconds
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise _BadParam(f"?epoch={raw!r} is neither ISO-8601 nor epoch milliseconds") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


# query parameter -> (parser, help); a table, so the index, the checks and the docs agree
_FEED_PARAMS: dict[str, tuple[Callable[[str, str], Any], str]] = {
    "rate": (lambda k, v: _number(k, v), "events per second, 0 = as fast as possible"),
    "count": (lambda k, v: _number(k, v, minimum=1, integer=True), "end the stream after id N"),
    "seed": (lambda k, v: _number(k, v, integer=True), "seed of the deterministic content"),
    "retry": (lambda k, v: _number(k, v, integer=True), "retry: value sent with event 1 (ms)"),
    "epoch": (lambda k, v: _epoch(v), "timestamps = epoch + id / rate (ISO or epoch ms)"),
    "step_ms": (
        lambda k, v: _number(k, v, minimum=0.001),
        "with epoch: milliseconds of event time between ids (default 1000 / rate)",
    ),
    "errors": (lambda k, v: _number(k, v), "fraction 0..1 of malformed payloads"),
    "keepalive": (lambda k, v: _number(k, v), "seconds between ': keep-alive' comments"),
    "drop_every": (
        lambda k, v: _number(k, v, minimum=1, integer=True),
        "end the response after N events (clients reconnect and resume)",
    ),
    "gzip": (_flag, "1 = gzip, 0 = never compress (default: honour Accept-Encoding)"),
    "deflate": (_flag, "1 = deflate (zlib) encoding"),
    "last_event_id": (
        lambda k, v: _number(k, v, integer=True),
        "resume after this id (as the Last-Event-ID header)",
    ),
    "resume": (_flag, "0 = ignore Last-Event-ID and start again at id 1 (a broken server)"),
}
_BENCH_PARAMS: dict[str, tuple[Callable[[str, str], Any], str]] = {
    "workload": (lambda k, v: v, "small | large | multiline | crlf"),
    "count": _FEED_PARAMS["count"],
    "gzip": _FEED_PARAMS["gzip"],
    "deflate": _FEED_PARAMS["deflate"],
    "last_event_id": _FEED_PARAMS["last_event_id"],
}


async def _body_params(request: web.Request) -> list[tuple[str, str]]:
    """A POST body that is a JSON object acts as extra query parameters."""
    if request.method != "POST" or not request.can_read_body:
        return []
    raw = await request.content.read(65536)
    if not raw.strip():
        return []
    try:
        obj = json.loads(raw)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        raise web.HTTPBadRequest(
            text="laminar demo-server: a POST body must be a JSON object of query "
            'parameters, e.g. {"count": 10}\n'
        )
    conv = {True: "1", False: "0"}
    return [(str(k), conv[v] if isinstance(v, bool) else str(v)) for k, v in obj.items()]


async def _params(
    request: web.Request, table: dict[str, tuple[Callable[[str, str], Any], str]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    items = [*request.query.items(), *(await _body_params(request))]
    try:
        for key, raw in items:
            if key not in table:
                hint = did_you_mean(key, table) or f" (known: {', '.join(sorted(table))})"
                raise _BadParam(f"unknown query parameter {key!r}{hint}")
            out[key] = table[key][0](key, raw)
        header = request.headers.get("Last-Event-ID", "").strip()
        if out.get("resume") is False:
            header = ""
        if header and "last_event_id" not in out:
            if not header.isdigit():
                raise _BadParam(
                    f"Last-Event-ID {header[:40]!r} is not an id of this server: "
                    "the demo feeds number events 1, 2, 3, …"
                )
            out["last_event_id"] = int(header)
    except _BadParam as exc:
        raise web.HTTPBadRequest(text=f"laminar demo-server: {exc}\n") from None
    if out.get("errors", 0) > 1:
        raise web.HTTPBadRequest(text="laminar demo-server: ?errors= is a fraction in 0..1\n")
    return out


def _encoding(request: web.Request, params: dict, *, default_auto: bool) -> str | None:
    if params.get("gzip") is True:
        return "gzip"
    if params.get("deflate") is True:
        return "deflate"
    if params.get("gzip") is False or params.get("deflate") is False or not default_auto:
        return None
    accepted = set()
    for part in request.headers.get("Accept-Encoding", "").split(","):
        name, _, q = part.strip().partition(";")
        if q.strip().replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            continue
        accepted.add(name.strip().lower())
    return next((e for e in ("gzip", "deflate") if e in accepted), None)


class _Writer:
    """Writes bytes to the response, compressing (and sync-flushing) when asked to."""

    def __init__(self, response: web.StreamResponse, encoding: str | None) -> None:
        self.response = response
        wbits = {"gzip": 31, "deflate": 15}.get(encoding or "")
        self._zlib = zlib.compressobj(6, zlib.DEFLATED, wbits) if wbits else None

    async def write(self, data: bytes) -> None:
        if self._zlib is not None:
            data = self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
        await self.response.write(data)

    async def close(self) -> None:
        if self._zlib is not None:
            await self.response.write(self._zlib.flush())
        await self.response.write_eof()


async def _open_stream(request: web.Request, encoding: str | None) -> _Writer:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    if encoding:
        response.headers["Content-Encoding"] = encoding
        response.headers["Vary"] = "Accept-Encoding"
    await response.prepare(request)
    return _Writer(response, encoding)


async def _wait_or_stop(stop: asyncio.Event, delay: float) -> bool:
    """Sleep ``delay`` seconds; return True at once if the server is shutting down."""
    if delay <= 0:
        await asyncio.sleep(0)
        return stop.is_set()
    try:
        await asyncio.wait_for(stop.wait(), delay)
    except TimeoutError:
        return False
    return True


async def _feed_handler(request: web.Request) -> web.StreamResponse:
    name = request.match_info["feed"]
    feed = FEEDS.get(name)
    if feed is None:
        raise _not_found(request)
    config = request.app[_CONFIG]
    if request.match_info.get("secure") and not _authorized(request, config["token"]):
        raise web.HTTPUnauthorized(
            text="laminar demo-server: send 'Authorization: Bearer <token>' or "
            "'X-API-Key: <token>' (the token is set by demo-server --token)\n",
            headers={"WWW-Authenticate": 'Bearer realm="laminar-demo"'},
        )
    p = await _params(request, _FEED_PARAMS)
    rate = p.get("rate", config["rate"])
    count = p.get("count")
    first = p.get("last_event_id", 0) + 1
    if count is not None and first > count:
        return web.Response(status=204)
    seed, errors = p.get("seed", config["seed"]), p.get("errors", 0.0)
    retry = p.get("retry", config["retry_ms"])
    keepalive = p.get("keepalive", config["keepalive_s"])
    epoch = p.get("epoch", config["epoch"])
    step = 1.0 / rate if rate > 0 else 0.001
    if "step_ms" in p:
        step = p["step_ms"] / 1000
    last = count if count is not None else math.inf
    if "drop_every" in p:
        last = min(last, first + p["drop_every"] - 1)

    writer = await _open_stream(request, _encoding(request, p, default_auto=True))
    stop = request.app[_STOP]
    loop = asyncio.get_running_loop()
    start = last_comment = loop.time()
    n = first
    try:
        while n <= last and not stop.is_set():
            now = loop.time()
            if keepalive > 0 and now >= last_comment + keepalive:
                await writer.write(b": keep-alive\n\n")
                last_comment = now
            if rate > 0:
                due = first + int((now - start) * rate)  # highest id due by now
                if due < n:
                    wake = start + (n - first) / rate
                    if keepalive > 0:
                        wake = min(wake, last_comment + keepalive)
                    if await _wait_or_stop(stop, wake - now):
                        break
                    continue
                batch_last = min(due, n + _MAX_BATCH - 1, last)
            else:
                batch_last = min(n + _MAX_BATCH - 1, last)
            parts = []
            for i in range(n, int(batch_last) + 1):
                ts = _iso(epoch + i * step) if epoch is not None else _iso(time.time())
                event, data = feed_event(name, i, seed=seed, timestamp=ts, errors=errors)
                parts.append(_frame(i, event, data, retry if i == first else None))
            await writer.write("".join(parts).encode())
            n = int(batch_last) + 1
            if rate <= 0:
                await asyncio.sleep(0)
        await writer.close()
    except ConnectionError:
        pass  # the client went away
    return writer.response


async def _bench_handler(request: web.Request) -> web.StreamResponse:
    p = await _params(request, _BENCH_PARAMS)
    workload = p.get("workload", "small")
    if workload not in BENCH_WORKLOADS:
        hint = did_you_mean(workload, BENCH_WORKLOADS)
        raise web.HTTPBadRequest(
            text=f"laminar demo-server: unknown workload {workload!r}{hint} "
            f"(choose one of {', '.join(BENCH_WORKLOADS)})\n"
        )
    count = p.get("count", DEFAULT_BENCH_COUNT)
    first = p.get("last_event_id", 0) + 1
    if first > count:
        return web.Response(status=204)
    writer = await _open_stream(request, _encoding(request, p, default_auto=False))
    cache, stop = request.app[_CACHE], request.app[_STOP]
    pending: list[bytes] = []
    size = 0
    try:
        for chunk in cache.chunks(workload, first, count):
            pending.append(chunk)
            size += len(chunk)
            if size >= _WRITE_TARGET:
                await writer.write(b"".join(pending) if len(pending) > 1 else pending[0])
                pending, size = [], 0
                if stop.is_set():
                    return writer.response
        if pending:
            await writer.write(b"".join(pending))
        await writer.close()
    except ConnectionError:
        pass  # the client went away
    return writer.response


CHAT_PATH = "/v1/chat/completions"
_CHAT_MODEL = "laminar-demo-1"


def chat_reply(messages: list[Any]) -> list[str]:
    """The demo's answer to a chat, as the tokens it streams (deterministic)."""
    last = ""
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "user":
            last = str(message.get("content", ""))
    words = last.split() or ["nothing"]
    return [f"{w} " for w in ["You", "said:", *words[:50]]] + ["(demo reply)"]


def _chat_chunk(created: int, index: int, delta: dict, finish: str | None) -> bytes:
    chunk = {
        "id": f"chatcmpl-demo-{created}",
        "object": "chat.completion.chunk",
        "created": created,
        "model": _CHAT_MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {_json(chunk)}\n\n".encode()


async def _chat_handler(request: web.Request) -> web.StreamResponse:
    """An OpenAI-style streamed chat completion: one chunk per token, then data: [DONE].

    Like the real API: POST a JSON body with ``messages`` and ``"stream": true``; no
    ``id:`` fields, no ``retry:``; the server closes the response after ``[DONE]``.
    """
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise web.HTTPBadRequest(
            text='laminar demo-server: POST a JSON body such as {"model": "laminar-demo-1", '
            '"stream": true, "messages": [{"role": "user", "content": "Hello"}]}\n'
        )
    if body.get("stream") is not True:
        raise web.HTTPBadRequest(text='laminar demo-server: set "stream": true\n')
    writer = await _open_stream(request, _encoding(request, {}, default_auto=True))
    stop = request.app[_STOP]
    created = int(time.time())
    try:
        await writer.write(_chat_chunk(created, 0, {"role": "assistant", "content": ""}, None))
        for token in chat_reply(body["messages"]):
            if await _wait_or_stop(stop, 0.002):
                break
            await writer.write(_chat_chunk(created, 0, {"content": token}, None))
        await writer.write(_chat_chunk(created, 0, {}, "stop"))
        await writer.write(b"data: [DONE]\n\n")
        await writer.close()
    except ConnectionError:
        pass
    return writer.response


def _authorized(request: web.Request, token: str) -> bool:
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip() == token:
        return True
    return request.headers.get("X-API-Key", "") == token


def _not_found(request: web.Request) -> web.HTTPNotFound:
    paths = [f"/{f}" for f in FEEDS] + ["/bench", "/"]
    hint = did_you_mean(request.path, paths)
    return web.HTTPNotFound(
        text=f"laminar demo-server: no feed at {request.path!r}{hint} "
        f"(endpoints: {', '.join(paths)})\n"
    )


def endpoints(base_url: str = "") -> list[tuple[str, str]]:
    """(URL, description) of every endpoint, for the index and the CLI banner."""
    rows = [(f"{base_url}/{f.name}", f.description) for f in FEEDS.values()]
    rows.append((f"{base_url}/bench?workload=small", "benchmark: small|large|multiline|crlf"))
    rows.append((f"{base_url}/secure/stocks", "any feed behind a bearer token / X-API-Key"))
    rows.append((f"{base_url}{CHAT_PATH}", "POST: an OpenAI-style chat stream ending in [DONE]"))
    return rows


async def _index(request: web.Request) -> web.Response:
    base = f"{request.scheme}://{request.host}"
    return web.json_response(
        {
            "endpoints": {url: text for url, text in endpoints(base)},
            "feed_parameters": {k: v[1] for k, v in _FEED_PARAMS.items()},
            "bench_parameters": {k: v[1] for k, v in _BENCH_PARAMS.items()},
        }
    )


async def _fallback(request: web.Request) -> web.Response:
    raise _not_found(request)


async def _on_shutdown(app: web.Application) -> None:
    app[_STOP].set()


def build_app(
    *,
    rate: float = DEFAULT_RATE,
    seed: int = 0,
    retry_ms: int = DEFAULT_RETRY_MS,
    keepalive_s: float = DEFAULT_KEEPALIVE_S,
    epoch: float | str | datetime | None = None,
    token: str = DEFAULT_TOKEN,
    bench_cache_bytes: int = 256 * 1024 * 1024,
) -> web.Application:
    """Build the demo feed application; the arguments are defaults that queries override.

    ``epoch`` (seconds, ISO text or datetime) makes timestamps deterministic;
    ``token`` guards the ``/secure/<feed>`` routes.
    """
    if rate < 0:
        raise ValueError("rate must be >= 0 (0 = unpaced)")
    if isinstance(epoch, datetime):
        epoch = epoch.timestamp()
    elif isinstance(epoch, str):
        epoch = _epoch(epoch)
    app = web.Application()
    app[_CONFIG] = {
        "rate": float(rate),
        "seed": int(seed),
        "retry_ms": int(retry_ms),
        "keepalive_s": float(keepalive_s),
        "epoch": epoch,
        "token": token,
    }
    app[_STOP] = asyncio.Event()
    app[_CACHE] = _BlockCache(bench_cache_bytes)
    app.on_shutdown.append(_on_shutdown)
    app.router.add_get("/", _index)
    app.router.add_post(CHAT_PATH, _chat_handler)
    for method in ("GET", "POST"):  # POST: a JSON body adds query parameters
        app.router.add_route(method, "/bench", _bench_handler)
        app.router.add_route(method, "/{feed}", _feed_handler)
        app.router.add_route(method, "/{secure:secure}/{feed}", _feed_handler)
    app.router.add_route("*", "/{tail:.*}", _fallback)
    return app


async def start_demo_server(
    host: str = DEFAULT_HOST, port: int = 0, **opts: Any
) -> tuple[web.AppRunner, str]:
    """Start the demo feed in the running loop; return ``(runner, "http://host:port")``.

    ``opts`` go to :func:`build_app`. Stop it with ``await runner.cleanup()``;
    open streams end promptly (the server tells them to stop, then waits at most 2 s).
    """
    runner = web.AppRunner(build_app(**opts), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1]
    shown = f"[{host}]" if ":" in host else host
    return runner, f"http://{shown}:{bound}"
