"""A cumulative histogram fed in bulk: counts per value, or a whole Arrow array at once.

prometheus_client's ``Histogram.observe`` costs about a microsecond per call,
too much per event at hundreds of thousands of events per second. ``Buckets``
takes a batch's observations at once — ``add(value, count)`` for a run of
equal values (events of one network read share their arrival time), or
``add_array`` for an Arrow array (vectorised) — and is exposed at scrape time
as a Prometheus histogram by the collector.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import pyarrow as pa

from laminar import arrow_compute as pc

# Upper bounds (inclusive, ms) of the lag histograms: 1 ms … 10 min.
LAG_BUCKETS_MS: tuple[float, ...] = (
    1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000
)
# Events per micro-batch.
BATCH_SIZE_BUCKETS: tuple[float, ...] = (1, 5, 10, 50, 100, 500, 1000, 5000, 10000, 50000)
# Processing time of one micro-batch (ms).
PROCESSING_BUCKETS_MS: tuple[float, ...] = (0.1, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000)


class Buckets:
    """Counts per bucket (``le`` upper bounds, plus +Inf), the sum and the count."""

    __slots__ = ("bounds", "count", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(float(b) for b in bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self.count = 0
        self.sum = 0.0

    def add(self, value: float, count: int = 1) -> None:
        """Observe ``value`` ``count`` times."""
        self.counts[bisect_left(self.bounds, value)] += count
        self.count += count
        self.sum += value * count

    def add_array(self, values: pa.Array | pa.ChunkedArray) -> None:
        """Observe every non-null value of a numeric Arrow array (vectorised)."""
        values = pc.drop_null(values)
        n = len(values)
        if n == 0:
            return
        extremes = pc.min_max(values).as_py()
        low, high = float(extremes["min"]), float(extremes["max"])
        first = bisect_left(self.bounds, low)  # buckets below the smallest value stay empty
        last = bisect_left(self.bounds, high)  # the bucket of the largest value
        if first == last:  # the usual case: the whole batch in one bucket, no pass at all
            self.counts[first] += n
        else:
            below = 0
            for i in range(first, last):
                upto = pc.sum(pc.cast(pc.less_equal(values, self.bounds[i]), pa.int64())).as_py()
                self.counts[i] += (upto or 0) - below
                below = upto or 0
            self.counts[last] += n - below
        self.count += n
        self.sum += float(pc.sum(values).as_py() or 0.0)

    def cumulative(self) -> list[tuple[str, int]]:
        """``[(le, cumulative count), …, ("+Inf", count)]`` as Prometheus wants them."""
        out = []
        running = 0
        for bound, n in zip(self.bounds, self.counts, strict=False):
            running += n
            out.append((_le(bound), running))
        out.append(("+Inf", self.count))
        return out

    def quantile(self, q: float) -> float | None:
        """The upper bound of the bucket holding quantile ``q`` (None when empty)."""
        if not self.count:
            return None
        rank = q * self.count
        running = 0
        for bound, n in zip(self.bounds, self.counts, strict=False):
            running += n
            if running >= rank:
                return bound
        return float("inf")


def _le(bound: float) -> str:
    from prometheus_client.utils import floatToGoString  # only when metrics are scraped

    return floatToGoString(bound)
