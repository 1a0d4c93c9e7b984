"""Adapters that drive Laminar and each peer library the way its users do.

Contract. A *decoder adapter* turns a list of byte chunks (an in-memory stream) into
events; a *client adapter* reads a URL over HTTP until the stream ends. Every adapter
has one job in the benchmark — ``count(...) -> (events, data_chars)``: consume every
event through the library's own public (or, for httpx-sse and launchdarkly, internal
but real) code path and add up ``len(event.data)`` — and decoder adapters also expose
``events(chunks)`` (``(event, data, id)`` tuples) so a test can prove they all agree.

An adapter whose library cannot be imported is still listed, with ``error`` saying
why, so a missing peer is reported instead of silently shrinking the comparison.
Laminar's adapters are named :data:`LAMINAR`; the others are named after the
package and the API they use.
"""

from __future__ import annotations

import asyncio
import codecs
import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from benchmarks import LAMINAR

EventTuple = tuple[str, str, str]
Counts = tuple[int, int]


@dataclass(frozen=True)
class DecoderAdapter:
    """An in-memory SSE parser: ``count`` is timed, ``events`` is for checking."""

    name: str
    count: Callable[[list[bytes]], Counts]
    events: Callable[[list[bytes]], list[EventTuple]]
    error: str | None = None


@dataclass(frozen=True)
class ClientAdapter:
    """An HTTP SSE client: ``count(url, expected_events)`` reads the stream to its end."""

    name: str
    count: Callable[[str, int], Counts]
    error: str | None = None


def _missing(module: str) -> str | None:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        return f"cannot import {module}: {exc}"
    return None


# --------------------------------------------------------------------------- decoders


def _laminar_count(chunks: list[bytes]) -> Counts:
    from laminar.sse import SSEDecoder

    feed = SSEDecoder().feed
    n = size = 0
    for chunk in chunks:
        for ev in feed(chunk):
            n += 1
            size += len(ev.data)
    return n, size


def _laminar_events(chunks: list[bytes]) -> list[EventTuple]:
    from laminar.sse import SSEDecoder

    decoder = SSEDecoder()
    return [(ev.event, ev.data, ev.id) for chunk in chunks for ev in decoder.feed(chunk)]


def _httpx_sse_iter(chunks: list[bytes]) -> Iterator[Any]:
    # Exactly what httpx-sse's EventSource.iter_sse does over httpx's iter_text():
    # an incremental UTF-8 decoder (httpx's TextDecoder), SSELineDecoder, SSEDecoder.
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder

    text_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    lines = SSELineDecoder()
    decoder = SSEDecoder()
    for chunk in chunks:
        text = text_decoder.decode(chunk)
        if not text:
            continue
        for line in lines.decode(text):
            sse = decoder.decode(line.rstrip("\n"))
            if sse is not None:
                yield sse
    for line in lines.flush():
        sse = decoder.decode(line.rstrip("\n"))
        if sse is not None:
            yield sse


def _ld_iter(chunks: Iterable[bytes]) -> Iterator[Any]:
    # SSEClient.events: _BufferedLineReader over the byte chunks, then _SSEReader,
    # keeping only Event actions.
    from ld_eventsource.actions import Event
    from ld_eventsource.reader import _BufferedLineReader, _SSEReader

    reader = _SSEReader(_BufferedLineReader.lines_from(chunks))
    for item in reader.events_and_comments():
        if isinstance(item, Event):
            yield item


def _sseclient_iter(chunks: Iterable[bytes]) -> Iterator[Any]:
    from sseclient import SSEClient

    return SSEClient(iter(chunks)).events()


def _counter(make_iter: Callable[[list[bytes]], Iterable[Any]]) -> Callable[[list[bytes]], Counts]:
    def count(chunks: list[bytes]) -> Counts:
        n = size = 0
        for ev in make_iter(chunks):
            n += 1
            size += len(ev.data)
        return n, size

    return count


def _lister(make_iter: Callable[[list[bytes]], Iterable[Any]]) -> Callable[..., list[EventTuple]]:
    def events(chunks: list[bytes]) -> list[EventTuple]:
        return [(ev.event or "message", ev.data, ev.id or "") for ev in make_iter(chunks)]

    return events


def decoder_adapters() -> list[DecoderAdapter]:
    """Laminar's decoder first, then every peer decoder (unavailable ones with ``error``)."""
    peers = [
        ("httpx-sse", "httpx_sse._decoders", _httpx_sse_iter),
        ("launchdarkly-eventsource", "ld_eventsource.reader", _ld_iter),
        ("sseclient-py", "sseclient", _sseclient_iter),
    ]
    adapters = [
        DecoderAdapter(LAMINAR, _laminar_count, _laminar_events, _missing("laminar.sse.decoder"))
    ]
    for name, module, make_iter in peers:
        count, events = _counter(make_iter), _lister(make_iter)
        adapters.append(DecoderAdapter(name, count, events, _missing(module)))
    return adapters


# --------------------------------------------------------------------------- clients


def _laminar_event_source() -> Any:
    try:
        from laminar.connectors.sse import EventSource
    except ImportError:
        from laminar.connectors.sse.transport import EventSource
    return EventSource


def _laminar_client(url: str, expected: int) -> Counts:
    event_source = _laminar_event_source()

    async def main() -> Counts:
        n = size = 0
        # The benchmark server answers 204 to a reconnection (it carries
        # Last-Event-ID), which stops the source; we also stop at the last event.
        async with event_source(url) as source:
            async for batch in source.batches():
                n += len(batch)
                for ev in batch:
                    size += len(ev.data)
                if n >= expected:
                    break
        return n, size

    return asyncio.run(main())


def _httpx_sse_async(url: str, expected: int) -> Counts:
    import httpx
    from httpx_sse import aconnect_sse

    async def main() -> Counts:
        n = size = 0
        async with (
            httpx.AsyncClient(timeout=None) as client,
            aconnect_sse(client, "GET", url) as source,
        ):
            async for ev in source.aiter_sse():
                n += 1
                size += len(ev.data)
        return n, size

    return asyncio.run(main())


def _httpx_sse_sync(url: str, expected: int) -> Counts:
    import httpx
    from httpx_sse import connect_sse

    n = size = 0
    with httpx.Client(timeout=None) as client, connect_sse(client, "GET", url) as source:
        for ev in source.iter_sse():
            n += 1
            size += len(ev.data)
    return n, size


def _ld_sync(url: str, expected: int) -> Counts:
    from ld_eventsource import SSEClient

    n = size = 0
    client = SSEClient(url)  # default ErrorStrategy: stop when the server ends the stream
    try:
        for ev in client.events:
            n += 1
            size += len(ev.data)
    finally:
        client.close()
    return n, size


def _ld_async(url: str, expected: int) -> Counts:
    from ld_eventsource.async_client import AsyncSSEClient

    async def main() -> Counts:
        n = size = 0
        async with AsyncSSEClient(url) as client:
            async for ev in client.events:
                n += 1
                size += len(ev.data)
        return n, size

    return asyncio.run(main())


def _sseclient_urllib3(url: str, expected: int) -> Counts:
    import urllib3
    from sseclient import SSEClient

    n = size = 0
    with urllib3.PoolManager() as pool:
        response = pool.request(
            "GET", url, preload_content=False, headers={"Accept": "text/event-stream"}
        )
        try:
            # sseclient-py iterates its source for byte chunks; urllib3's stream()
            # is its fastest chunked source (iterating the response splits lines).
            for ev in SSEClient(response.stream(64 * 1024)).events():
                n += 1
                size += len(ev.data)
        finally:
            response.release_conn()
    return n, size


def client_adapters() -> list[ClientAdapter]:
    """Laminar's EventSource first, then every peer client (unavailable ones with ``error``)."""
    laminar_error = _missing("laminar.connectors.sse.transport")
    if laminar_error is None:
        try:
            _laminar_event_source()
        except ImportError as exc:
            laminar_error = f"no EventSource in laminar.connectors.sse: {exc}"
    return [
        ClientAdapter(LAMINAR, _laminar_client, laminar_error),
        ClientAdapter("httpx-sse (async)", _httpx_sse_async, _missing("httpx_sse")),
        ClientAdapter("httpx-sse (sync)", _httpx_sse_sync, _missing("httpx_sse")),
        ClientAdapter("launchdarkly-eventsource (sync)", _ld_sync, _missing("ld_eventsource")),
        ClientAdapter(
            "launchdarkly-eventsource (async)", _ld_async, _missing("ld_eventsource.async_client")
        ),
        ClientAdapter("sseclient-py (urllib3)", _sseclient_urllib3, _missing("sseclient")),
    ]
