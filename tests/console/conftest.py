"""A console on 127.0.0.1 over a fresh engine, and the demo feed to read from."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio

from laminar.console.app import Console, start_console
from laminar.demo_server import start_demo_server
from laminar.sql.engine import Engine

TOKEN = "test-token-0123456789"


@pytest_asyncio.fixture
async def demo() -> AsyncIterator[str]:
    runner, url = await start_demo_server(rate=50.0)
    yield url
    await runner.cleanup()


@pytest_asyncio.fixture
async def console() -> AsyncIterator[Console]:
    server = await start_console(Engine(), token=TOKEN)
    yield server
    await server.close()


@pytest_asyncio.fixture
async def client(console: Console) -> AsyncIterator[aiohttp.ClientSession]:
    """A session authenticated with the bearer token (as curl or a script would be)."""
    async with aiohttp.ClientSession(
        base_url=console.url, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as session:
        yield session
