"""Time for stateful operators: an injectable clock and the event-time watermark.

A window closes when the *watermark* passes its end. With an event-time
column (``event_time_field``, or ``WATERMARK FOR col AS col - INTERVAL …``)
the watermark is the largest event time seen so far minus
``watermark_delay_ms``; it is computed row by row, so an event is late
(dropped and counted) exactly when an earlier event of the stream was more
than the delay ahead of it — however the stream is cut into batches.

An idle stream still closes its windows: once no row has arrived for
``idle_timeout_ms`` of wall-clock time, the watermark moves on with the wall
clock, as if event time kept pace with it since the last row
(``max_seen - delay + (now - last_row_at)``).

Times are integers: microseconds since the epoch (UTC), as DuckDB's TIMESTAMP.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from laminar import arrow_compute as pc

Clock = Callable[[], float]  # seconds since the epoch, like time.time
NO_TIME = -(2**62)  # below every real timestamp, with room to subtract a delay


def wall_clock() -> float:
    return time.time()


def clock_us(clock: Clock) -> int:
    return int(clock() * 1_000_000)


@dataclass
class Lateness:
    """What ``EventTimeWatermark.observe`` found in one batch."""

    keep: pa.Array  # bool per row: on time
    late: int  # rows dropped: before the watermark, or without a time


class EventTimeWatermark:
    """The watermark of one event-time column (see the module docstring)."""

    def __init__(self, delay_us: int, idle_us: int, clock: Clock = wall_clock) -> None:
        self.delay_us = delay_us
        self.idle_us = idle_us
        self.clock = clock
        self.max_seen = NO_TIME
        self.watermark = NO_TIME
        self.last_row_at: int | None = None  # wall clock (µs) of the last row seen

    def observe(self, times: pa.Array) -> Lateness:
        """Judge each row of a batch in order, then advance the watermark past them."""
        now = clock_us(self.clock)
        values = pc.fill_null(pc.cast(times, pa.int64()), NO_TIME)
        running = pc.cumulative_max(values)
        # The largest time seen *before* each row (this batch's earlier rows included).
        before = pa.concat_arrays(
            [pa.array([self.max_seen], pa.int64()), running.slice(0, len(running) - 1)]
        )
        before = pc.max_element_wise(before, pa.scalar(self.max_seen, pa.int64()))
        limit = pc.max_element_wise(
            pc.subtract(before, self.delay_us), pa.scalar(self.watermark, pa.int64())
        )
        keep = pc.and_(pc.is_valid(times), pc.greater_equal(values, limit))
        keep = pc.fill_null(keep, False)
        late = len(times) - pc.sum(keep).as_py() if len(times) else 0
        if len(times):
            top = pc.max(values).as_py()
            if top is not None and top > self.max_seen:
                self.max_seen = top
            self.last_row_at = now
        self._advance(now)
        return Lateness(keep, int(late or 0))

    def tick(self) -> int:
        """The watermark now (an idle stream moves it with the wall clock)."""
        self._advance(clock_us(self.clock))
        return self.watermark

    def _advance(self, now: int) -> None:
        if self.max_seen == NO_TIME:
            return
        candidate = self.max_seen - self.delay_us
        if self.last_row_at is not None and now - self.last_row_at >= self.idle_us:
            candidate += now - self.last_row_at
        if candidate > self.watermark:
            self.watermark = candidate

    # -- checkpoints ----------------------------------------------------------------

    def snapshot(self) -> dict[str, int]:
        return {"max_seen": self.max_seen, "watermark": self.watermark}

    def restore(self, state: dict[str, int]) -> None:
        self.max_seen = int(state["max_seen"])
        self.watermark = int(state["watermark"])
        self.last_row_at = clock_us(self.clock)  # idleness counts from the restart
