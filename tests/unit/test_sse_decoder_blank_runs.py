"""Runs of blank lines are skipped in bulk (issue 9, item 5) without changing what is
decoded: every split of the same bytes gives the same events, ids and retry."""

from __future__ import annotations

from laminar.sse import SSEDecoder, SSEEvent

STREAM = (
    b"\n\n\n"
    b"id: 1\ndata: a\n\n\n\n\n"
    b"retry: 50\n\n\n\n"
    b"event: x\ndata: b\n\n" + b"\n" * 5000 + b"data: c\n\n\r\n\r\n"
    b"id: 2\n\n\n\ndata: d\n\n"
)
EXPECTED = [
    SSEEvent("message", "a", "1"),
    SSEEvent("x", "b", "1"),
    SSEEvent("message", "c", "1"),
    SSEEvent("message", "d", "2"),
]


def decode(chunks: list[bytes]) -> tuple[list, SSEDecoder]:
    decoder = SSEDecoder()
    out: list = []
    for chunk in chunks:
        out += decoder.feed(chunk)
    return out, decoder


def test_blank_runs_between_events_change_nothing() -> None:
    out, decoder = decode([STREAM])
    assert out == EXPECTED
    assert decoder.retry == 50 and decoder.last_event_id == "2"


def test_every_split_point_gives_the_same_events() -> None:
    for cut in range(0, len(STREAM), 97):
        out, _ = decode([STREAM[:cut], STREAM[cut:]])
        assert out == EXPECTED, cut


def test_a_megabyte_of_blank_lines_makes_no_event() -> None:
    out, _ = decode([b"\n" * (1 << 20), b"data: z\n\n"])
    assert out == [SSEEvent("message", "z", "")]
