"""Every error Laminar raises, in one tree.

    LaminarError                 root; .domain is "user", "external" or "internal",
    │                            .retryable says whether trying again can help
    ├── ConfigError              a bad option, a missing ${VAR}; .option names it
    ├── SQLError                 a statement that cannot be parsed or planned;
    │                            .line/.column point at it
    ├── CatalogError             an unknown or duplicate connection, table or view
    ├── SSEProtocolError         the byte stream broke the SSE rules we enforce
    │   └── EventTooLargeError   a line or event exceeded the maximum event size
    ├── SourceError              the SSE endpoint could not give us a stream
    │   ├── HTTPStatusError      a response we cannot stream (.status/.headers/.body)
    │   │   └── AuthError        401 / 403: the credentials were refused
    │   ├── ContentTypeError     200, but not text/event-stream
    │   └── ReconnectExhaustedError  max_reconnect_attempts ran out
    ├── PayloadError             an event payload that does not fit the table
    ├── PipelineError            a running query stopped (names table and reason)
    └── StateError               the state store is locked or unusable

Foreign exceptions (aiohttp, duckdb, sqlite3) are translated where they are
caught, with ``raise … from exc``, so callers only ever see this tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

USER = "user"
EXTERNAL = "external"
INTERNAL = "internal"


class LaminarError(Exception):
    """Root of every error Laminar raises on purpose."""

    domain: str = INTERNAL
    retryable: bool = False


class ConfigError(LaminarError):
    """An option is missing, unknown, of the wrong type or out of range."""

    domain = USER

    def __init__(self, message: str, *, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


class SQLError(LaminarError):
    """A statement could not be parsed, or refers to something that cannot work."""

    domain = USER

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        excerpt: str | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.excerpt = excerpt
        text = message
        if line is not None and column is not None:
            text = f"line {line}, column {column}: {message}"
        if excerpt:
            text = f"{text}\n{excerpt}"
        super().__init__(text)


class CatalogError(LaminarError):
    """A connection, table or view that does not exist, or exists already."""

    domain = USER


class SSEProtocolError(LaminarError):
    """The byte stream broke a rule the decoder enforces."""

    domain = EXTERNAL
    retryable = True


class EventTooLargeError(SSEProtocolError):
    """A line or an event grew beyond the decoder's maximum event size."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"SSE event exceeds the maximum event size: {size} bytes buffered, "
            f"limit {limit} (raise max_event_size if such events are expected)"
        )
        self.size = size
        self.limit = limit
        # the other events of the chunk that overflowed (the decoder kept them)
        self.events: list = []


class SourceError(LaminarError):
    """The endpoint did not give us an event stream."""

    domain = EXTERNAL


class HTTPStatusError(SourceError):
    """The server answered with a status we cannot stream from."""

    BODY_LIMIT = 2048

    def __init__(
        self,
        message: str,
        *,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: str = "",
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})
        self.body = body[: self.BODY_LIMIT]
        self.retryable = retryable


class AuthError(HTTPStatusError):
    """401 or 403: the server refused our credentials."""

    domain = USER


class ContentTypeError(SourceError):
    """The server answered 200 with something other than text/event-stream."""


class ReconnectExhaustedError(SourceError):
    """The source gave up after max_reconnect_attempts failed attempts."""

    reason: str | None = None  # of the last failed attempt ("eof": a clean end of stream)


class PayloadError(LaminarError):
    """An event payload could not be parsed or converted into the table's columns."""

    domain = EXTERNAL
    # Set by the decoder under continue_on_error = false: the failing event's position in
    # the decoded batch, and the rows of the events before it (a pyarrow.Table), which are
    # delivered before the query stops.
    event_index: int | None = None
    rows_before: Any = None


class PipelineError(LaminarError):
    """A running query stopped; the message names the table and the reason."""


class StateError(LaminarError):
    """The state store cannot be used (locked by another process, unreadable)."""

    domain = USER


__all__ = [
    "AuthError",
    "CatalogError",
    "ConfigError",
    "ContentTypeError",
    "EventTooLargeError",
    "HTTPStatusError",
    "LaminarError",
    "PayloadError",
    "PipelineError",
    "ReconnectExhaustedError",
    "SQLError",
    "SSEProtocolError",
    "SourceError",
    "StateError",
]
