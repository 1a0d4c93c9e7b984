"""What the client says (issue 9, items 14, 18 and the small things): a routine close is
info, not a warning; any method token is sent; messages read right."""

from __future__ import annotations

import socket

import pytest
from tests.support.sse_server import RecordingObserver, Reply, SSEServer, Stream, event

from laminar.connectors.sse import EventSource
from laminar.errors import ReconnectExhaustedError

FAST = {"reconnect_interval_ms": 5}


async def test_a_clean_close_then_a_reconnect_is_info(sse_server: SSEServer) -> None:
    sse_server.add(Stream(event("a")), Stream(event("b")))
    observer = RecordingObserver()
    async with EventSource(sse_server.url, observer, **FAST) as source:
        assert [ev.data async for ev in source] == ["a", "b"]
    logs = observer.args("on_log")
    assert any(level == "info" and "ended the stream" in text for level, text in logs)
    assert [text for level, text in logs if level in ("warning", "error")] == []


async def test_a_failed_reconnection_is_still_a_warning(sse_server: SSEServer) -> None:
    sse_server.add(Stream(event("a")), Reply(503))
    observer = RecordingObserver()
    async with EventSource(sse_server.url, observer, **FAST) as source:
        assert [ev.data async for ev in source] == ["a"]
    warnings = [text for level, text in observer.args("on_log") if level == "warning"]
    assert len(warnings) == 1 and "HTTP 503" in warnings[0]


async def test_any_method_token_is_sent(sse_server: SSEServer) -> None:
    sse_server.add(Stream(event("r")))
    async with EventSource(
        sse_server.url, method="report", body="<query/>", max_reconnect_attempts=0
    ) as source:
        assert [ev.data async for ev in source] == ["r"]
    assert (sse_server.requests[0].method, sse_server.requests[0].body) == ("REPORT", b"<query/>")


async def test_one_attempt_is_singular(sse_server: SSEServer) -> None:
    sse_server.default = Reply(503)
    async with EventSource(sse_server.url, max_reconnect_attempts=1, **FAST) as source:
        with pytest.raises(ReconnectExhaustedError, match=r"after 1 reconnection attempt \("):
            _ = [ev async for ev in source]


async def test_plain_http_errors_do_not_mention_ssl() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with EventSource(
        f"http://127.0.0.1:{port}/e", max_reconnect_attempts=0, **FAST
    ) as source:
        with pytest.raises(ReconnectExhaustedError) as info:
            _ = [ev async for ev in source]
    assert "cannot connect" in str(info.value)
    assert "ssl:" not in str(info.value)
