"""The reconnection delay is a pure function: tested here without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from laminar.connectors.sse import backoff_delay, parse_retry_after
from laminar.connectors.sse.backoff import JITTER, RETRY_AFTER_LIMIT_S


def no_jitter() -> float:
    return 0.0


def test_first_attempt_waits_the_reconnect_interval() -> None:
    assert backoff_delay(1, rand=no_jitter) == 3.0
    assert backoff_delay(1, reconnect_interval_ms=5000, rand=no_jitter) == 5.0


def test_failed_attempts_grow_exponentially_up_to_the_cap() -> None:
    delays = [
        backoff_delay(
            n,
            reconnect_backoff_ms=1000,
            multiplier=2.0,
            max_interval_ms=60000,
            rand=no_jitter,
        )
        for n in range(1, 10)
    ]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


def test_reconnect_backoff_ms_takes_precedence_over_the_interval() -> None:
    assert backoff_delay(1, reconnect_interval_ms=5000, reconnect_backoff_ms=250, rand=no_jitter)
    assert (
        backoff_delay(2, reconnect_interval_ms=5000, reconnect_backoff_ms=250, rand=no_jitter)
        == 0.5
    )


def test_server_retry_replaces_the_configured_base() -> None:
    common = {"reconnect_interval_ms": 3000, "reconnect_backoff_ms": 1000, "rand": no_jitter}
    assert backoff_delay(1, server_retry_ms=700, **common) == 0.7
    assert backoff_delay(3, server_retry_ms=700, **common) == 2.8


def test_a_server_retry_below_500_ms_is_raised_to_it() -> None:
    """retry: 0 from a server that closes after each event must not cause a storm."""
    assert backoff_delay(1, server_retry_ms=0, rand=no_jitter) == 0.5
    assert backoff_delay(1, server_retry_ms=10, rand=no_jitter) == 0.5
    # the user's own interval is taken as given (tests and local servers use tiny ones)
    assert backoff_delay(1, reconnect_interval_ms=10, rand=no_jitter) == 0.01


def test_a_base_above_the_cap_is_honoured() -> None:
    # An explicit interval (or a server retry) larger than the cap is not cut down.
    assert backoff_delay(1, server_retry_ms=120000, max_interval_ms=60000, rand=no_jitter) == 120.0
    assert backoff_delay(4, server_retry_ms=120000, max_interval_ms=60000, rand=no_jitter) == 120.0


def test_multiplier_one_means_a_constant_interval() -> None:
    assert {backoff_delay(n, multiplier=1.0, rand=no_jitter) for n in range(1, 20)} == {3.0}


def test_jitter_only_shortens_the_delay() -> None:
    assert backoff_delay(1, rand=lambda: 0.0) == 3.0
    assert backoff_delay(1, rand=lambda: 0.5) == pytest.approx(3.0 * (1 - JITTER / 2))
    assert backoff_delay(1, rand=lambda: 0.999999) > 3.0 * (1 - JITTER) - 1e-9
    many = {backoff_delay(1) for _ in range(200)}
    assert len(many) > 100  # really random by default
    assert all(3.0 * (1 - JITTER) <= d <= 3.0 for d in many)


def test_retry_after_is_a_minimum_and_bounded() -> None:
    assert backoff_delay(1, retry_after_s=30, rand=no_jitter) == 30.0
    assert backoff_delay(1, retry_after_s=0.5, rand=no_jitter) == 3.0
    assert backoff_delay(1, retry_after_s=10**9, rand=no_jitter) == RETRY_AFTER_LIMIT_S


def test_zero_base_reconnects_at_once_then_grows_from_one_ms() -> None:
    assert backoff_delay(1, reconnect_interval_ms=0, rand=no_jitter) == 0.0
    assert backoff_delay(2, reconnect_interval_ms=0, rand=no_jitter) == 0.002
    assert backoff_delay(11, reconnect_interval_ms=0, rand=no_jitter) == 1.024


def test_huge_attempt_numbers_do_not_overflow() -> None:
    assert backoff_delay(10**6, rand=no_jitter) == 60.0


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError):
        backoff_delay(0)


def test_parse_retry_after_seconds_and_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 7 ") == 7.0
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, now=now) == 90.0
    earlier = format_datetime(now - timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(earlier, now=now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None


def test_retry_after_takes_only_ascii_digits() -> None:
    from laminar.connectors.sse.backoff import parse_retry_after

    assert parse_retry_after("²") is None  # str.isdigit() says yes; float() would raise
    assert parse_retry_after("٣") is None
    assert parse_retry_after("7") == 7.0
