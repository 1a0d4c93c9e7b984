"""How long to wait before reconnecting: pure functions, no clock, injectable randomness.

The formula (attempt n = 1, 2, … counts consecutive failed attempts since the last
healthy connection):

    base  = the server's retry: value if the stream sent one (at least MIN_SERVER_RETRY_MS),
            else reconnect_backoff_ms if set, else reconnect_interval_ms
    cap   = max(max_reconnect_interval_ms, base)
    delay = min(cap, base * reconnect_multiplier ** (n - 1)) * (1 - JITTER * r),  0 <= r < 1
    delay = max(delay, Retry-After)     (429/503 responses; Retry-After at most 1 hour)

Jitter only shortens a delay (by up to 20 %), so the cap and the server's retry
value are never exceeded while many clients spread out instead of reconnecting in
lockstep. A base of 0 reconnects at once after a healthy connection, and failed
attempts then grow from 1 ms, so a dead server is never hammered in a tight loop.

A server's ``retry:`` is floored at 500 ms (as browsers do): ``retry: 0`` from a
server that closes after every event cannot make a client reconnect in a loop.
The configured intervals are the user's and are taken as given. The transport
counts n since the last *healthy* connection (open for 60 s), not since the last
event, so short-lived connections back off too.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

JITTER = 0.2
MIN_SERVER_RETRY_MS = 500.0
RETRY_AFTER_LIMIT_S = 3600.0


def backoff_delay(
    attempt: int,
    *,
    reconnect_interval_ms: float = 3000,
    reconnect_backoff_ms: float | None = None,
    server_retry_ms: float | None = None,
    multiplier: float = 2.0,
    max_interval_ms: float = 60000,
    retry_after_s: float | None = None,
    jitter: float = JITTER,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before reconnection attempt ``attempt`` (1-based); see module doc."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if server_retry_ms is not None:
        base = max(server_retry_ms, MIN_SERVER_RETRY_MS)
    elif reconnect_backoff_ms is not None:
        base = reconnect_backoff_ms
    else:
        base = reconnect_interval_ms
    cap = max(max_interval_ms, base)
    # Grow in floats but stop before overflow: once past the cap, it is the cap.
    exponent = attempt - 1
    delay_ms = base
    while exponent and delay_ms < cap and multiplier > 1.0:
        delay_ms = max(delay_ms, 1.0) * multiplier  # a base of 0 grows from 1 ms
        exponent -= 1
    delay_ms = min(cap, delay_ms)
    delay = delay_ms / 1000.0 * (1.0 - jitter * rand())
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, RETRY_AFTER_LIMIT_S))
    return delay


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delay-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # not "²": isdigit() alone takes any digit
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


__all__ = [
    "JITTER",
    "MIN_SERVER_RETRY_MS",
    "RETRY_AFTER_LIMIT_S",
    "backoff_delay",
    "parse_retry_after",
]
