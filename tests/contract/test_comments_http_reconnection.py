"""sse-contract-tests: comments (in stream order), HTTP behaviour and reconnection
(restart, Last-Event-ID, body re-sent, read timeout)."""

from __future__ import annotations

import asyncio

from tests.contract.harness import BOM, Client, Comment, Error, Event, connections
from tests.support.sse_server import SSEServer, Stream, drop, raw, stall, wait


async def stream_of(server: SSEServer, *chunks: str, count: int) -> list:
    server.add(Stream(*(raw(c) for c in chunks), stall()))
    async with Client(server.url) as client:
        return await client.wait_for(count)


# -- comments ------------------------------------------------------------------------


async def test_single_comment(sse_server: SSEServer) -> None:
    assert await stream_of(sse_server, ":Hello\n", count=1) == [Comment("Hello")]


async def test_two_comments_in_a_row(sse_server: SSEServer) -> None:
    got = await stream_of(sse_server, ":Hello\n", ":World\n", count=2)
    assert got == [Comment("Hello"), Comment("World")]


async def test_comment_before_event(sse_server: SSEServer) -> None:
    got = await stream_of(sse_server, ":Hello\n", "data: Hello\n\n", count=2)
    assert got == [Comment("Hello"), Event("Hello")]


async def test_comment_after_event(sse_server: SSEServer) -> None:
    got = await stream_of(sse_server, "data: Hello\n\n", ":Hello\n", count=2)
    assert got == [Event("Hello"), Comment("Hello")]


async def test_comments_and_events_in_one_read_keep_stream_order(sse_server: SSEServer) -> None:
    """Issue 9, item 17: both in one network read, still in stream order."""
    text = "data: a\n\n:one\ndata: b\n\ndata: c\n\n:two\n:three\ndata: d\n\n"
    got = await stream_of(sse_server, text, count=7)
    assert got == [
        Event("a"), Comment("one"), Event("b"), Event("c"),
        Comment("two"), Comment("three"), Event("d"),
    ]  # fmt: skip


async def test_bom_with_comment_at_start(sse_server: SSEServer) -> None:
    got = await stream_of(sse_server, BOM + ":comment\ndata: Hello\n\n", count=2)
    assert got == [Comment("comment"), Event("Hello")]


# -- HTTP behaviour ----------------------------------------------------------------------


async def test_default_method_and_headers(sse_server: SSEServer) -> None:
    await stream_of(sse_server, "data: x\n\n", count=1)
    request = sse_server.requests[0]
    assert request.method == "GET"
    assert request.header("Accept") == "text/event-stream"
    assert request.header("Cache-Control") == "no-cache"
    assert request.last_event_id is None


async def test_custom_headers(sse_server: SSEServer) -> None:
    sse_server.add(Stream(raw("data: x\n\n"), stall()))
    headers = {"header-name-1": "value-1", "header-name-2": "value-2"}
    async with Client(sse_server.url, headers=headers) as client:
        await client.events(1)
    assert sse_server.requests[0].header("header-name-1") == "value-1"
    assert sse_server.requests[0].header("header-name-2") == "value-2"


async def request_with_body(server: SSEServer, method: str) -> None:
    server.add(Stream(raw("data: x\n\n"), stall()))
    body = '{"hello": "world"}'
    async with Client(
        server.url,
        method=method,
        body=body,
        headers={"content-type": "application/json; charset=utf-8"},
    ) as client:
        await client.events(1)
    request = server.requests[0]
    assert request.method == method
    assert request.header("content-type") == "application/json; charset=utf-8"
    assert request.body == body.encode()


async def test_post_request(sse_server: SSEServer) -> None:
    await request_with_body(sse_server, "POST")


async def test_report_request(sse_server: SSEServer) -> None:
    await request_with_body(sse_server, "REPORT")


async def test_last_event_id_in_the_initial_request(sse_server: SSEServer) -> None:
    sse_server.add(Stream(raw("data: x\n\n"), stall()))
    async with Client(sse_server.url, last_event_id="abc") as client:
        await client.events(1)
    assert sse_server.requests[0].last_event_id == "abc"


# -- reconnection ---------------------------------------------------------------------------


async def test_caller_can_trigger_a_restart(sse_server: SSEServer) -> None:
    """Issue 9, item 19: restart() drops the connection and reconnects at once."""
    sse_server.add(
        Stream(raw("id: 1\ndata: Hello\n\n"), stall()),
        Stream(raw("data: Thanks\n\n"), stall()),
    )
    async with Client(sse_server.url, reconnect_interval_ms=60_000) as client:
        assert await client.events(1) == [Event("Hello", id="1")]
        client.source.restart()  # no 60 s wait: a restart is not a failure
        await connections(sse_server, 2)
        assert await client.events(2) == [Event("Hello", id="1"), Event("Thanks", id="1")]
        assert client.source.attempt == 0
        assert client.source.stats.connections == 2
        assert client.source.stats.reconnect_attempts == 1
        assert client.source.state == "open"
    assert sse_server.requests[1].last_event_id == "1"
    assert not [m for m in client.messages if isinstance(m, Error)]


async def test_restart_while_waiting_to_reconnect_reconnects_now(sse_server: SSEServer) -> None:
    sse_server.add(Stream(raw("data: one\n\n")), Stream(raw("data: two\n\n"), stall()))
    async with Client(sse_server.url, reconnect_interval_ms=60_000) as client:
        await client.events(1)
        async with asyncio.timeout(10):
            while client.source.state != "reconnecting":
                await asyncio.sleep(0.005)
        client.source.restart()
        assert await client.events(2) == [Event("one"), Event("two")]


async def test_sends_the_id_of_the_last_received_event(sse_server: SSEServer) -> None:
    sse_server.add(Stream(raw("id: abc\ndata: Hello\n\n"), drop()), Stream(stall()))
    async with Client(sse_server.url) as client:
        await client.events(1)
        await connections(sse_server, 2)
    assert sse_server.requests[0].last_event_id is None
    assert sse_server.requests[1].last_event_id == "abc"


async def test_sends_the_last_id_when_later_events_had_none(sse_server: SSEServer) -> None:
    sse_server.add(
        Stream(raw("id: abc\ndata: Hello\n\n"), raw("data: World\n\n"), drop()), Stream(stall())
    )
    async with Client(sse_server.url) as client:
        assert await client.events(2) == [Event("Hello", id="abc"), Event("World", id="abc")]
        await connections(sse_server, 2)
    assert sse_server.requests[1].last_event_id == "abc"


async def test_resends_the_request_body_when_reconnecting(sse_server: SSEServer) -> None:
    sse_server.add(Stream(drop()), Stream(stall()))
    body = '{"hello": "world"}'
    async with Client(sse_server.url, method="POST", body=body):
        await connections(sse_server, 2)
    assert [(r.method, r.body) for r in sse_server.requests[:2]] == [("POST", body.encode())] * 2


async def test_read_timeout(sse_server: SSEServer) -> None:
    go = asyncio.Event()
    sse_server.add(Stream(raw("data: Hello\n\n"), wait(go)), Stream(stall()))
    async with Client(sse_server.url, keepalive_timeout_ms=500) as client:
        got = await client.wait_for(2)  # no byte for 500 ms: an error, then a reconnection
        await connections(sse_server, 2)
        go.set()
    assert got == [Event("Hello"), Error("keepalive_timeout")]
