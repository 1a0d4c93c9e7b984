"""The SSE connector: connection options, the resilient client and its observer hooks.

    from laminar.connectors.sse import EventSource, ConnectionOptions

    async with EventSource("https://stream.example.com/events", reconnect_interval_ms=5000) as s:
        async for event in s:
            print(event.event, event.id, event.data)

``batches()`` yields the decoder's event lists, one per network read (the fast path).
"""

from laminar.connectors.sse.backoff import backoff_delay, parse_retry_after
from laminar.connectors.sse.observer import REASONS, SourceObserver
from laminar.connectors.sse.options import (
    ConnectionOptions,
    ResolvedRequest,
    redact_headers,
    redact_url,
)
from laminar.connectors.sse.transport import STATES, EventSource, SourceStats

__all__ = [
    "REASONS",
    "STATES",
    "ConnectionOptions",
    "EventSource",
    "ResolvedRequest",
    "SourceObserver",
    "SourceStats",
    "backoff_delay",
    "parse_retry_after",
    "redact_headers",
    "redact_url",
]
