"""The values the SSE decoder produces: events and (when asked for) comments."""

from __future__ import annotations

import msgspec


class SSEEvent(msgspec.Struct, gc=False):
    """One dispatched event, as a browser's MessageEvent would see it.

    ``event`` is the type ("message" when absent or empty), ``data`` the joined
    data lines, ``id`` the last-event-ID at dispatch ("" if never set), and
    ``retry`` a valid retry value that arrived in this same event block.

    A msgspec Struct rather than a plain class: it is created in C (about 4x
    cheaper, which matters at a million events a second) and, holding only
    strings and an int, it is kept out of the garbage collector's scans.
    """

    event: str
    data: str
    id: str = ""
    retry: int | None = None

    def __repr__(self) -> str:
        data = self.data if len(self.data) <= 60 else self.data[:57] + "..."
        return (
            f"SSEEvent(event={self.event!r}, data={data!r}, id={self.id!r}, retry={self.retry!r})"
        )


class OversizedEvent(SSEEvent, gc=False):
    """Stands for an event dropped for outgrowing ``max_event_size`` (its data is gone).

    Only sources that ask for it (``EventSource(report_oversized=True)``) deliver it,
    so a table can route it like any bad payload (capture_errors, continue_on_error).
    """

    size: int = 0
    limit: int = 0

    @property
    def reason(self) -> str:
        return (
            f"event larger than max_event_size ({self.size} bytes buffered, limit "
            f"{self.limit}); raise max_event_size if such events are expected"
        )


class SSEComment:
    """A comment line (keep-alive), surfaced only to decoders that ask for them."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SSEComment):
            return NotImplemented
        return self.text == other.text

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SSEComment({self.text!r})"
