"""Sampling a live SSE stream for a few seconds: every event with its arrival time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from laminar.connectors.sse import ConnectionOptions, EventSource
from laminar.sse.event import SSEEvent

MAX_EVENTS = 10_000  # enough to infer a schema; memory stays small on a fast feed


@dataclass
class Sample:
    events: list[SSEEvent] = field(default_factory=list)
    seconds: float = 0.0
    ended: bool = False  # the server ended the stream (204) before the time was up


async def sample_stream(
    options: Mapping[str, Any], seconds: float, env: Mapping[str, str] | None = None
) -> Sample:
    """Events of the stream ``options`` describes, for ``seconds`` (or MAX_EVENTS)."""
    connection = ConnectionOptions.from_options(dict(options), env=env)
    sample = Sample()
    started = time.monotonic()
    try:
        async with asyncio.timeout(seconds), EventSource(connection) as source:
            async for batch in source.batches():
                sample.events.extend(batch[: MAX_EVENTS - len(sample.events)])
                if len(sample.events) >= MAX_EVENTS:
                    break
            else:
                sample.ended = True
    except TimeoutError:
        pass
    sample.seconds = max(time.monotonic() - started, 1e-6)
    return sample
