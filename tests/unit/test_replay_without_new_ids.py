"""A server that resends the same old ids on every connection, never a new one, is
reported (issue 9, item 15)."""

from __future__ import annotations

from laminar.runtime.replay import ReplayDetector

OLD = ["1", "2", "3", "4", "5"]


def test_the_same_ids_on_every_connection_are_reported() -> None:
    warnings: list[str] = []
    detector = ReplayDetector(warnings.append)
    detector.observe(OLD)
    for _ in range(3):
        detector.reconnected()
        detector.observe(OLD)  # then the server closes: no fresh id ever comes
    detector.reconnected()
    assert detector.replayed == 15
    assert len(warnings) == 3
    assert all("does not honour Last-Event-ID" in w and "no new event" in w for w in warnings)


def test_an_honest_server_is_not_reported() -> None:
    warnings: list[str] = []
    detector = ReplayDetector(warnings.append)
    detector.observe(OLD)
    detector.reconnected()
    detector.observe(["6", "7"])
    detector.reconnected()
    detector.reconnected()  # a connection that sent nothing at all
    assert warnings == [] and detector.replayed == 0
