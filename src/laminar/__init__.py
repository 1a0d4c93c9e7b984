"""Laminar: streaming SQL over Server-Sent Events.

Imports stay lazy so that ``from laminar.sse import SSEDecoder`` loads no
network, SQL or Arrow code and ``laminar --help`` starts fast.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from laminar.errors import (
    AuthError,
    CatalogError,
    ConfigError,
    ContentTypeError,
    EventTooLargeError,
    HTTPStatusError,
    LaminarError,
    PayloadError,
    PipelineError,
    ReconnectExhaustedError,
    SourceError,
    SQLError,
    SSEProtocolError,
    StateError,
)

if TYPE_CHECKING:
    from laminar.api import Connection, Cursor, connect
    from laminar.connectors.sse import ConnectionOptions, EventSource
    from laminar.sse import SSEDecoder, SSEEvent

__version__ = "0.1.0"

# A library stays quiet unless the application configures logging.
logging.getLogger("laminar").addHandler(logging.NullHandler())

_LAZY = {
    "connect": "laminar.api",
    "Connection": "laminar.api",
    "Cursor": "laminar.api",
    "EventSource": "laminar.connectors.sse",
    "ConnectionOptions": "laminar.connectors.sse",
    "SSEDecoder": "laminar.sse",
    "SSEEvent": "laminar.sse",
}

__all__ = [
    "AuthError",
    "CatalogError",
    "ConfigError",
    "Connection",
    "ConnectionOptions",
    "ContentTypeError",
    "Cursor",
    "EventSource",
    "EventTooLargeError",
    "HTTPStatusError",
    "LaminarError",
    "PayloadError",
    "PipelineError",
    "ReconnectExhaustedError",
    "SQLError",
    "SSEDecoder",
    "SSEEvent",
    "SSEProtocolError",
    "SourceError",
    "StateError",
    "__version__",
    "connect",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'laminar' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
