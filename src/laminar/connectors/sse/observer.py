"""SourceObserver: the hooks an EventSource calls as its connection lives and dies.

Subclass it and override what you need (metrics, connector logs, system tables,
``laminar tail``); every hook is a no-op by default. Hooks are called inline on
the event loop, so they must be quick and must not raise. Nothing passed to a
hook carries a secret: headers are redacted, messages scrubbed.

Reason codes (``on_disconnect`` and ``on_retry``; a small fixed set, safe as
metric labels): see ``REASONS``.
"""

from __future__ import annotations

from collections.abc import Mapping

REASONS = {
    "eof": "the server ended the response",
    "keepalive_timeout": "no bytes for keepalive_timeout_ms",
    "network_error": "the connection failed or broke (refused, reset, DNS, TLS, truncated)",
    "timeout": "no response headers within timeout_ms",
    "http_status": "a retryable HTTP status (429 or 5xx)",
    "closed": "the source was closed by its owner",
    "restart": "restart() was called: reconnecting at once",
    "stopped": "the stream is over for good: a 204, the end_of_stream_data value, or a "
    "clean end with max_reconnect_attempts = 0",
    "error": "a fatal error (see the exception)",
}


class SourceObserver:
    """No-op hooks; override the ones you need."""

    def on_connecting(self, attempt: int) -> None:
        """A connection attempt starts; ``attempt`` is 0 for the first, then 1, 2, …"""

    def on_open(self, status: int, headers: Mapping[str, str]) -> None:
        """The stream is open (200, text/event-stream); ``headers`` are redacted."""

    def on_bytes(self, n: int) -> None:
        """``n`` bytes arrived from the network (before decompression)."""

    def on_events(self, n: int) -> None:
        """``n`` events were decoded and are about to be handed to the consumer."""

    def on_comment(self, text: str) -> None:
        """A comment line arrived (only when ignore_comments is false)."""

    def on_disconnect(self, reason: str, error: BaseException | None) -> None:
        """An open stream ended; ``reason`` is a code of ``REASONS``."""

    def on_retry(self, attempt: int, delay_s: float, reason: str) -> None:
        """Reconnection attempt ``attempt`` (1-based) will start in ``delay_s`` seconds."""

    def on_log(self, level: str, message: str) -> None:
        """A log line for connector logs: level is debug, info, warning or error."""


__all__ = ["REASONS", "SourceObserver"]
