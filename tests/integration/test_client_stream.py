"""EventSource against a real local server: streaming, batches, comments, compression,
back-pressure, closing, limits and statistics."""

from __future__ import annotations

import asyncio
import gzip

import pytest
from tests.support.sse_server import (
    RecordingObserver,
    SSEServer,
    Stream,
    comment,
    drop,
    event,
    events,
    flood,
    format_event,
    raw,
    sleep,
    stall,
    wait,
)

from laminar.connectors.sse import EventSource
from laminar.errors import ContentTypeError
from laminar.sse import SSEEvent

FAST = {"reconnect_interval_ms": 10}


async def collect(source: EventSource) -> list[SSEEvent]:
    return [ev async for ev in source]


async def test_events_arrive_with_their_fields_and_204_ends_iteration(
    sse_server: SSEServer,
) -> None:
    sse_server.add(
        Stream(
            event("hello"),
            event('{"p": 1}', event="price", id="1", retry=20),
            event("line one\nline two", id="2"),
        )
    )
    source = EventSource(sse_server.url, **FAST)
    assert source.state == "idle"
    async with source:
        got = await collect(source)
    assert got == [
        SSEEvent("message", "hello", ""),
        SSEEvent("price", '{"p": 1}', "1", 20),
        SSEEvent("message", "line one\nline two", "2"),
    ]
    assert source.state == "closed"
    assert source.last_event_id == "2"
    assert source.retry_ms == 20
    assert len(sse_server.requests) == 2  # the stream, then the 204 that stops us


async def test_batches_are_the_decoders_lists_one_per_read(sse_server: SSEServer) -> None:
    signal = asyncio.Event()
    sse_server.add(Stream(events(100), wait(signal), events(50, start=101)))
    async with EventSource(sse_server.url, **FAST) as source:
        batches = []
        async for batch in source.batches():
            assert batch and isinstance(batch, list)
            batches.append(batch)
            signal.set()
    ids = [ev.id for batch in batches for ev in batch]
    assert ids == [str(i) for i in range(1, 151)]
    assert len(batches) >= 2


async def test_stream_split_into_single_bytes(sse_server: SSEServer) -> None:
    blob = format_event("é€𝄞", id="1", eol="\r\n") + format_event("b", id="2", eol="\r")
    sse_server.add(Stream(raw(blob, chunk_size=1, pause=0.001)))
    async with EventSource(sse_server.url, **FAST) as source:
        got = await collect(source)
    assert [(ev.data, ev.id) for ev in got] == [("é€𝄞", "1"), ("b", "2")]


@pytest.mark.parametrize("compress", [None, "gzip", "deflate", "deflate-raw"])
async def test_events_arrive_when_sent(sse_server: SSEServer, compress: str | None) -> None:
    """The first event is delivered while the server still holds the response open."""
    signal = asyncio.Event()
    sse_server.add(Stream(event("first", id="1"), wait(signal), event("second"), compress=compress))
    async with EventSource(sse_server.url, **FAST) as source:
        first = await asyncio.wait_for(source.__anext__(), 5)
        assert first.data == "first"
        signal.set()
        rest = await collect(source)
    assert [ev.data for ev in rest] == ["second"]
    assert sse_server.requests[0].header("Accept-Encoding") == "gzip, deflate"


async def test_compressed_body_is_refused_when_decompression_is_off(
    sse_server: SSEServer,
) -> None:
    sse_server.add(Stream(event("x"), compress="gzip"))
    async with EventSource(sse_server.url, decompress_response=False, **FAST) as source:
        with pytest.raises(ContentTypeError, match="decompress_response"):
            await collect(source)
    assert sse_server.requests[0].header("Accept-Encoding") == "identity"
    assert source.state == "failed"


async def test_decompression_output_is_bounded_per_batch(sse_server: SSEServer) -> None:
    """A small gzip body that inflates to 20 MB arrives in bounded slices, not at once."""
    block = b"data: x\n\n"
    bomb = gzip.compress(block * (20_000_000 // len(block)), 9)
    assert len(bomb) < 100_000
    sse_server.add(Stream(raw(bomb), stall(), headers={"Content-Encoding": "gzip"}))
    async with EventSource(sse_server.url, **FAST) as source:
        sizes = []
        async for batch in source.batches():
            sizes.append(len(batch))
            if len(sizes) == 20:
                break
    assert max(sizes) <= (1 << 16) // len(block) + 1


async def test_comments_are_ignored_by_default(sse_server: SSEServer) -> None:
    observer = RecordingObserver()
    sse_server.add(Stream(comment(" keep-alive"), event("a"), comment("x")))
    async with EventSource(sse_server.url, observer, **FAST) as source:
        got = await collect(source)
    assert [ev.data for ev in got] == ["a"]
    assert observer.args("on_comment") == []


async def test_comments_reach_the_observer_when_asked_for(sse_server: SSEServer) -> None:
    observer = RecordingObserver()
    sse_server.add(Stream(comment(" keep-alive"), event("a"), raw(b"# custom\n"), event("b")))
    async with EventSource(
        sse_server.url, observer, ignore_comments=False, comment_prefix="#", **FAST
    ) as source:
        got = await collect(source)
    assert [ev.data for ev in got] == ["a", "b"]
    assert observer.args("on_comment") == [("keep-alive",), ("custom",)]
    assert source.stats.comments_received == 2


async def test_back_pressure_reaches_the_server(sse_server: SSEServer) -> None:
    """A consumer that stops asking stops the reads: the server's writes block."""
    total = 256 << 20
    sse_server.add(Stream(flood(total)))
    async with EventSource(sse_server.url, **FAST) as source:
        batch = await source.batches().__anext__()
        assert batch
        await asyncio.sleep(0.3)
        written = sse_server.bytes_written
        await asyncio.sleep(0.2)
        assert sse_server.bytes_written == written  # the server is blocked
    assert written < 48 << 20  # socket buffers and one read buffer, not the flood


async def test_aclose_from_another_task_ends_iteration(sse_server: SSEServer) -> None:
    observer = RecordingObserver()
    sse_server.add(Stream(event("a"), stall()))
    source = EventSource(sse_server.url, observer, **FAST)
    got: list[str] = []

    async def consume() -> None:
        async for ev in source:
            got.append(ev.data)

    task = asyncio.create_task(consume())
    while not got:
        await asyncio.sleep(0.01)
    await source.aclose()
    await asyncio.wait_for(task, 2)  # ends normally, no exception
    assert source.state == "closed"
    assert ("closed", None) in observer.args("on_disconnect")


async def test_aclose_between_reads_and_reuse(sse_server: SSEServer) -> None:
    sse_server.add(Stream(event("a"), stall()))
    source = EventSource(sse_server.url, **FAST)
    assert (await source.__anext__()).data == "a"
    await source.aclose()
    await source.aclose()  # idempotent
    assert [ev async for ev in source] == []
    assert source.state == "closed"


async def test_oversized_event_is_skipped_and_the_stream_goes_on(sse_server: SSEServer) -> None:
    sse_server.add(
        Stream(
            event("small", id="1"),
            sleep(0.05),
            raw(format_event("y" * 5000, id="2") + format_event("after")),  # one write
            event("later", id="3"),
        )
    )
    observer = RecordingObserver()
    async with EventSource(sse_server.url, observer, max_event_size=1024, **FAST) as source:
        got = [ev.data async for ev in source]
    assert got == ["small", "after", "later"]  # the oversized one is the only loss
    assert source.stats.events_oversized == 1
    assert "max_event_size" in observer.text()
    assert source.state == "closed"


async def test_stats_and_observer_hooks(sse_server: SSEServer) -> None:
    observer = RecordingObserver()
    sse_server.add(
        Stream(events(3), drop(), headers={"Set-Cookie": "session=abcdef", "X-Server": "t"}),
        Stream(events(2, start=4)),
    )
    async with EventSource(sse_server.url, observer, **FAST) as source:
        got = await collect(source)
    assert len(got) == 5
    stats = source.stats
    assert stats.events_received == 5
    assert stats.connections == 2
    assert stats.reconnect_attempts == 2  # after the cut, and after the normal end
    assert stats.bytes_received == sum(n for (n,) in observer.args("on_bytes"))
    assert sum(n for (n,) in observer.args("on_events")) == 5
    status, headers = observer.args("on_open")[0]
    assert status == 200
    assert headers["Set-Cookie"] == "***"
    assert headers["X-Server"] == "t"
    assert [a for (a,) in observer.args("on_connecting")] == [0, 1, 1]
    reasons = [r for r, _ in observer.args("on_disconnect")]
    assert reasons == ["network_error", "eof", "stopped"]
    assert "abcdef" not in observer.text()
