"""A small port of LaunchDarkly's sse-contract-tests harness onto Laminar's client.

The upstream suite (github.com/launchdarkly/sse-contract-tests) drives an SSE client
through a test service and records what the client reports, in order: events,
comments, errors. Here the client is ``EventSource`` itself, the stream is a real
``SSEServer`` on 127.0.0.1, and ``Client.messages`` is the ordered record. Every
capability is declared: comments, headers, post, report, last-event-id, restart,
read-timeout, bom, payload-size-stress-testable.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from laminar.connectors.sse import EventSource, SourceObserver
from laminar.errors import LaminarError
from tests.support.sse_server import SSEServer

WAIT_S = 10.0  # generous: polling for an observable state, never asserting durations
BOM = "\ufeff"


@dataclass(frozen=True)
class Event:
    data: str
    type: str = "message"
    id: str = ""


@dataclass(frozen=True)
class Comment:
    text: str


@dataclass(frozen=True)
class Error:
    reason: str


class Client(SourceObserver):
    """An EventSource whose reports (events, comments, errors) land in one ordered list."""

    def __init__(self, url: str, **options: Any) -> None:
        options.setdefault("reconnect_interval_ms", 0)
        options.setdefault("ignore_comments", False)
        self.messages: list[Event | Comment | Error] = []
        self.source = EventSource(url, self, **options)
        self._task: asyncio.Task[None] | None = None

    # -- observer hooks --------------------------------------------------------------
    def on_comment(self, text: str) -> None:
        self.messages.append(Comment(text))

    def on_disconnect(self, reason: str, error: BaseException | None) -> None:
        if reason in ("network_error", "keepalive_timeout", "http_status", "timeout"):
            self.messages.append(Error(reason))

    # -- driving -------------------------------------------------------------------------
    async def __aenter__(self) -> Client:
        self._task = asyncio.create_task(self._consume())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.source.aclose()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, LaminarError):
                await self._task

    async def _consume(self) -> None:
        async for event in self.source:
            self.messages.append(Event(event.data, event.event, event.id))

    async def wait_for(self, count: int) -> list[Event | Comment | Error]:
        """The first ``count`` messages, once they arrived."""
        async with asyncio.timeout(WAIT_S):
            while len(self.messages) < count:
                await asyncio.sleep(0.005)
        return self.messages[:count]

    async def events(self, count: int) -> list[Event]:
        async with asyncio.timeout(WAIT_S):
            while len(found := [m for m in self.messages if isinstance(m, Event)]) < count:
                await asyncio.sleep(0.005)
        return found[:count]


async def connections(server: SSEServer, count: int) -> None:
    await server.wait_for_requests(count, timeout=WAIT_S)
