"""DropReporter: one warning per kind of drop reason, then a summary at most every interval."""

from __future__ import annotations

from laminar.runtime.drops import DropReporter, reason_kind


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_reason_kind_ignores_values_but_keeps_the_column() -> None:
    assert reason_kind("invalid JSON (JSON is malformed: x): 'oops'") == "invalid JSON"
    assert reason_kind("empty payload: ''") == "empty payload"
    a = reason_kind("column 'symbol': cannot convert a string 'AAPL' to INTEGER")
    b = reason_kind("column 'symbol': cannot convert a string 'MSFT' to INTEGER")
    c = reason_kind("column 'price': cannot convert a string 'x' to DOUBLE")
    assert a == b != c


def test_first_drop_of_each_kind_warns_then_summaries_are_rate_limited() -> None:
    clock, lines = FakeClock(), []
    drops = DropReporter("t", lines.append, interval_s=60, clock=clock)
    drops.dropped(["invalid JSON (bad): 'a'", "invalid JSON (bad): 'b'"])
    assert len(lines) == 1 and "invalid JSON (bad): 'a'" in lines[0]
    assert "capture_errors = true" in lines[0]
    for _ in range(100):
        clock.now += 0.1
        drops.dropped(["invalid JSON (bad): 'c'"])
    assert len(lines) == 1  # 10 s: no summary yet
    drops.dropped(["column 'p': cannot convert a string 'x' to DOUBLE"])
    assert len(lines) == 2 and "column 'p'" in lines[1]  # a new kind warns at once
    clock.now += 60
    drops.dropped(["invalid JSON (bad): 'd'"])
    assert len(lines) == 3 and lines[2].startswith("dropped 102 more bad events (104 in all")
    drops.close()
    assert len(lines) == 3  # nothing new since the summary
    drops.dropped(["invalid JSON (bad): 'e'"])
    drops.close()
    assert lines[3].startswith("dropped 1 more bad event (105 in all")
