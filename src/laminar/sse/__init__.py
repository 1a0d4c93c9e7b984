"""The SSE wire format: bytes in, events out. No networking code lives here.

This package imports nothing from asyncio, aiohttp, SQL or Arrow, so that
``from laminar.sse import SSEDecoder`` is cheap and the decoder can be used
(and tested) with any transport.
"""

from laminar.sse.decoder import DEFAULT_MAX_EVENT_SIZE, SSEDecoder
from laminar.sse.event import OversizedEvent, SSEComment, SSEEvent

__all__ = [
    "DEFAULT_MAX_EVENT_SIZE",
    "OversizedEvent",
    "SSEComment",
    "SSEDecoder",
    "SSEEvent",
]
