"""Shared fixtures. Add yours below; keep each one generic and fast.

* ``sse_server`` — a started, empty SSEServer on 127.0.0.1 (queue scripts with
  ``sse_server.add(...)``); closed after the test.
* ``make_sse_server`` — a factory for more servers (``await make_sse_server(*scripts,
  ssl=...)``), all closed after the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio

from tests.support.sse_server import Script, SSEServer


@pytest_asyncio.fixture
async def sse_server() -> AsyncIterator[SSEServer]:
    async with SSEServer() as server:
        yield server


@pytest_asyncio.fixture
async def make_sse_server() -> AsyncIterator[Callable[..., Awaitable[SSEServer]]]:
    servers: list[SSEServer] = []

    async def make(*scripts: Script, **options: Any) -> SSEServer:
        server = SSEServer(*scripts, **options)
        servers.append(server)
        return await server.start()

    yield make
    for server in servers:
        await server.close()
