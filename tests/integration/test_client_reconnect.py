"""EventSource reconnection against a real local server: cuts, EOF, retry:, backoff,
Retry-After, keep-alive, attempt limits, Last-Event-ID and re-resolved credentials."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from tests.support.sse_server import (
    Hang,
    RecordingObserver,
    Reply,
    SSEServer,
    Stream,
    comment,
    drop,
    event,
    raw,
    sleep,
    stall,
    wait,
)

from laminar.connectors.sse import EventSource
from laminar.errors import ReconnectExhaustedError
from laminar.sse import SSEEvent

FAST = {"reconnect_interval_ms": 10}


def no_jitter() -> float:
    return 0.0


async def collect(source: EventSource) -> list[SSEEvent]:
    return [ev async for ev in source]


async def test_cut_mid_event_drops_the_partial_event_and_resumes(sse_server: SSEServer) -> None:
    sse_server.add(
        Stream(event("one", id="1"), raw(b"id: 2\ndata: half of tw"), drop()),
        Stream(event("two", id="2"), event("three", id="3")),
    )
    async with EventSource(sse_server.url, **FAST) as source:
        got = await collect(source)
    assert [(ev.data, ev.id) for ev in got] == [("one", "1"), ("two", "2"), ("three", "3")]
    assert [r.last_event_id for r in sse_server.requests] == [None, "1", "3"]


async def test_last_event_id_option_then_latest_id_then_reset(sse_server: SSEServer) -> None:
    sse_server.add(
        Stream(event("a", id="41")),
        Stream(event("b")),  # no id field: the id carries over
        Stream(raw(b"id\ndata: c\n\n")),  # an empty id resets it
        Stream(event("d")),
    )
    async with EventSource(sse_server.url, last_event_id="40", **FAST) as source:
        got = await collect(source)
    assert [ev.id for ev in got] == ["41", "41", "", ""]
    assert [r.last_event_id for r in sse_server.requests] == ["40", "41", "41", None, None]


async def test_eof_reconnects_as_the_spec_says(sse_server: SSEServer) -> None:
    observer = RecordingObserver()
    sse_server.add(Stream(event("a")), Stream(event("b")))
    async with EventSource(sse_server.url, observer, **FAST) as source:
        assert [ev.data for ev in await collect(source)] == ["a", "b"]
    assert [reason for _, _, reason in observer.args("on_retry")] == ["eof", "eof"]


async def test_server_retry_sets_the_reconnection_time(sse_server: SSEServer) -> None:
    observer = RecordingObserver()
    sse_server.add(Stream(event("a", retry=700)))  # then 204: one reconnection
    async with EventSource(
        sse_server.url, observer, reconnect_interval_ms=60000, rand=no_jitter
    ) as source:
        got = await asyncio.wait_for(collect(source), 10)
    assert [ev.data for ev in got] == ["a"]
    assert [delay for _, delay, _ in observer.args("on_retry")] == [0.7]


async def test_a_tiny_server_retry_is_floored_at_500_ms(sse_server: SSEServer) -> None:
    observer = RecordingObserver()
    sse_server.add(Stream(event("a", retry=0)))
    async with EventSource(sse_server.url, observer, rand=no_jitter) as source:
        await asyncio.wait_for(collect(source), 10)
    assert [delay for _, delay, _ in observer.args("on_retry")] == [0.5]


async def test_one_event_then_close_backs_off_instead_of_storming(sse_server: SSEServer) -> None:
    """retry: 0, one event, close — forever: each reconnection waits longer (no storm)."""
    observer = RecordingObserver()
    sse_server.default = Stream(event("x", retry=0))
    async with EventSource(
        sse_server.url, observer, rand=no_jitter, max_reconnect_attempts=3
    ) as source:
        async for _ in source:
            if len(sse_server.requests) >= 3:
                break
    delays = [delay for _, delay, _ in observer.args("on_retry")]
    assert delays[:2] == [0.5, 1.0]  # grows although every connection delivered an event
    assert [a for a, _, _ in observer.args("on_retry")][:2] == [1, 1]  # but is no failure


async def test_backoff_grows_over_failures_and_resets_after_a_healthy_stream(
    sse_server: SSEServer,
) -> None:
    """Healthy = open for HEALTHY_AFTER_S (60 s) on the injectable clock."""
    now = [1000.0]
    long_enough = asyncio.Event()
    sse_server.add(
        Reply(503),
        Reply(502),
        Stream(event("short")),  # delivered an event, but closed at once: not healthy
        Reply(500),
        Stream(event("long"), wait(long_enough)),  # open for 61 s (clock): healthy
        Reply(503),
    )

    class Watch(RecordingObserver):
        def on_events(self, count: int) -> None:
            super().__getattr__("on_events")(count)
            if len(sse_server.requests) == 5:  # the long stream is open
                now[0] += 61
                long_enough.set()

    observer = Watch()
    async with EventSource(
        sse_server.url,
        observer,
        reconnect_backoff_ms=5,
        reconnect_multiplier=2,
        rand=no_jitter,
        clock=lambda: now[0],
    ) as source:
        got = await collect(source)
    assert [ev.data for ev in got] == ["short", "long"]
    retries = observer.args("on_retry")
    assert [(a, d) for a, d, _ in retries] == [
        (1, 0.005),
        (2, 0.01),
        (1, 0.02),  # the event reset the failure count, not the delay
        (2, 0.04),
        (1, 0.005),  # after 60 s open, both start again
        (2, 0.01),
    ]
    assert [r for _, _, r in retries] == ["http_status"] * 2 + ["eof", "http_status"] + [
        "eof",
        "http_status",
    ]


async def test_empty_streams_are_not_healthy(sse_server: SSEServer) -> None:
    """A server that accepts and closes at once does not reset the attempt count."""
    sse_server.add(Stream(), Stream(), Stream())
    async with EventSource(
        sse_server.url, max_reconnect_attempts=2, reconnect_backoff_ms=1, rand=no_jitter
    ) as source:
        with pytest.raises(ReconnectExhaustedError, match="after 2 reconnection attempts"):
            await collect(source)
    assert len(sse_server.requests) == 3
    assert source.state == "failed"


async def test_exhausted_attempts_say_so_with_the_last_error(sse_server: SSEServer) -> None:
    sse_server.default = Reply(503, "overloaded")
    async with EventSource(sse_server.url, max_reconnect_attempts=3, **FAST) as source:
        with pytest.raises(ReconnectExhaustedError) as info:
            await collect(source)
    message = str(info.value)
    assert "max_reconnect_attempts = 3" in message
    assert "HTTP 503" in message and "overloaded" in message
    assert len(sse_server.requests) == 4  # the first attempt and 3 reconnections
    assert source.stats.last_error and "HTTP 503" in source.stats.last_error


async def test_zero_attempts_disables_reconnection(sse_server: SSEServer) -> None:
    """A clean end with reconnection disabled is the end of a finite stream, not an error."""
    sse_server.add(Stream(event("a")))
    sse_server.default = Stream(event("again"))
    async with EventSource(sse_server.url, max_reconnect_attempts=0, **FAST) as source:
        got = [ev.data async for ev in source]
    assert got == ["a"]
    assert len(sse_server.requests) == 1


async def test_zero_attempts_still_fail_on_a_broken_connection(sse_server: SSEServer) -> None:
    sse_server.add(Stream(event("a", id="1"), drop()))
    async with EventSource(sse_server.url, max_reconnect_attempts=0, **FAST) as source:
        with pytest.raises(ReconnectExhaustedError, match="reconnection is disabled"):
            await collect(source)


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured(sse_server: SSEServer, status: int) -> None:
    sse_server.add(Reply(status, headers={"Retry-After": "2"}))
    sources: list[EventSource] = []

    class CloseOnRetry(RecordingObserver):
        def on_retry(self, attempt: int, delay_s: float, reason: str) -> None:
            self.calls.append(("on_retry", (attempt, delay_s, reason)))
            asyncio.get_running_loop().create_task(sources[0].aclose())  # don't wait it out

    observer = CloseOnRetry()
    source = EventSource(sse_server.url, observer, **FAST)
    sources.append(source)
    async with source:
        assert await asyncio.wait_for(collect(source), 1.5) == []
    ((attempt, delay, reason),) = observer.args("on_retry")
    assert (attempt, reason) == (1, "http_status")
    assert delay == 2.0
    assert source.state == "closed"


async def test_keepalive_timeout_reconnects_a_silent_stream(sse_server: SSEServer) -> None:
    observer = RecordingObserver()
    sse_server.add(Stream(event("a", id="1"), stall()), Stream(event("b", id="2")))
    async with EventSource(sse_server.url, observer, keepalive_timeout_ms=150, **FAST) as source:
        got = await asyncio.wait_for(collect(source), 3)
    assert [ev.data for ev in got] == ["a", "b"]
    assert observer.args("on_disconnect")[0][0] == "keepalive_timeout"
    assert sse_server.requests[1].last_event_id == "1"


async def test_comments_count_as_keepalive_activity(sse_server: SSEServer) -> None:
    observer = RecordingObserver()
    pings = []
    for _ in range(8):
        pings += [sleep(0.05), comment("ping")]
    sse_server.add(Stream(event("a"), *pings, event("b")))
    async with EventSource(sse_server.url, observer, keepalive_timeout_ms=150, **FAST) as source:
        got = await asyncio.wait_for(collect(source), 3)
    assert [ev.data for ev in got] == ["a", "b"]
    assert "keepalive_timeout" not in [r for r, _ in observer.args("on_disconnect")]
    assert len(sse_server.requests) == 2  # the stream, then the final 204


async def test_a_slow_consumer_is_not_a_dead_connection(sse_server: SSEServer) -> None:
    sse_server.add(Stream(event("a"), event("b")))
    async with EventSource(sse_server.url, keepalive_timeout_ms=100, **FAST) as source:
        got = []
        async for ev in source:
            got.append(ev.data)
            await asyncio.sleep(0.25)  # longer than the keep-alive timeout
    assert got == ["a", "b"]
    assert len(sse_server.requests) == 2


async def test_timeout_ms_bounds_the_wait_for_response_headers(sse_server: SSEServer) -> None:
    observer = RecordingObserver()
    sse_server.add(Hang(), Stream(event("a")))
    async with EventSource(sse_server.url, observer, timeout_ms=150, **FAST) as source:
        got = await asyncio.wait_for(collect(source), 3)
    assert [ev.data for ev in got] == ["a"]
    assert observer.args("on_retry")[0][2] == "timeout"


async def test_connection_refused_is_retried_then_exhausted() -> None:
    with socket.socket() as sock:  # a port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    observer = RecordingObserver()
    async with EventSource(
        f"http://127.0.0.1:{port}/events", observer, max_reconnect_attempts=2, **FAST
    ) as source:
        with pytest.raises(ReconnectExhaustedError, match="cannot connect"):
            await collect(source)
    assert [r for _, _, r in observer.args("on_retry")] == ["network_error"] * 2


async def test_credentials_are_resolved_again_at_each_reconnection(
    sse_server: SSEServer, tmp_path: Path
) -> None:
    env = {"SSE_TOKEN": "token-one", "TENANT": "a"}
    sse_server.add(Stream(event("1")), Stream(event("2")))
    async with EventSource(
        sse_server.url,
        env=env,
        token="${SSE_TOKEN}",
        headers={"X-Tenant": "${TENANT}"},
        **FAST,
    ) as source:
        async for _ in source:
            env["SSE_TOKEN"] = "token-two"  # rotated while connected
            env["TENANT"] = "b"
    first, second = sse_server.requests[:2]
    assert (first.authorization, first.header("X-Tenant")) == ("Bearer token-one", "a")
    assert (second.authorization, second.header("X-Tenant")) == ("Bearer token-two", "b")

    token_file = tmp_path / "token"
    token_file.write_text("file-token-1\n")
    sse_server.add(Stream(event("1")), Stream(event("2")))
    async with EventSource(sse_server.url, token_file=str(token_file), **FAST) as source:
        async for _ in source:
            token_file.write_text("file-token-2\n")
    assert [r.authorization for r in sse_server.requests[-3:-1]] == [
        "Bearer file-token-1",
        "Bearer file-token-2",
    ]


async def test_post_body_is_sent_on_every_reconnection(sse_server: SSEServer) -> None:
    sse_server.add(Stream(event("a", id="1"), drop()), Stream(event("b")))
    body = '{"model": "m", "stream": true}'
    async with EventSource(sse_server.url, method="POST", body=body, **FAST) as source:
        assert [ev.data for ev in await collect(source)] == ["a", "b"]
    for request in sse_server.requests:
        assert request.method == "POST"
        assert request.body == body.encode()
        assert request.header("Content-Type") == "application/json"
    assert sse_server.requests[1].last_event_id == "1"
