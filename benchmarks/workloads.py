"""The benchmark workloads: deterministic SSE byte streams and what decoding them must yield.

Contract: ``build(name, events)`` returns a :class:`Workload` whose ``payload`` is the
exact ``text/event-stream`` bytes of ``events`` events, together with the totals any
correct decoder must report for it (the number of events and the total length, in
characters, of their ``data``). The same arguments always give the same bytes, so a
server in another process can rebuild them and every implementation sees the same
stream. Names:

* ``small``     — ~95-byte events: ``id: N``, ``event: tick``, one-line JSON ``data:``;
* ``large``     — 4 KiB of one-line JSON ``data`` per event (with some non-ASCII text,
  so UTF-8 characters get split across chunk boundaries);
* ``multiline`` — the small JSON object spread over three ``data:`` lines;
* ``crlf``      — ``small`` with CRLF line endings;
* ``groups``    — ``small`` with a distinct symbol per event (``S0000001``…) and an
  event time that stays inside one second for the first ~1.4 million events: the
  worst case of a windowed GROUP BY, every event a new group of one open window.

The JSON objects carry ``symbol``, ``price``, ``volume`` and ``ts`` so that an
end-to-end SQL benchmark can filter them (``price`` is spread over 1..2000). ``ts``
is epoch milliseconds (a TIMESTAMP column reads it as such), 7 ms apart in "small":
a 1-second window holds ~143 events, and 1 million events span 7,000 windows.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

CHUNK_SIZE = 64 * 1024
WORKLOADS = ("small", "large", "multiline", "crlf", "groups")
LARGE_DATA_SIZE = 4096

# Event counts of a full run: each decodes in a fraction of a second with the
# fastest implementation and in about a second with the slowest.
DEFAULT_EVENTS = {
    "small": 100_000,
    "large": 10_000,
    "multiline": 50_000,
    "crlf": 50_000,
    "groups": 1_000_000,
}

_SYMBOLS = ("ACME", "GLOBX", "INITECH", "UMBRL", "HOOLI", "STARK", "WAYNE", "TYRL")
_FILLER = "lorem ipsum dolor sit amet café naïve déjà-vu 0123456789 "


@dataclass(frozen=True)
class Workload:
    """One stream: its bytes and the totals a correct decoder reports for it."""

    name: str
    payload: bytes
    events: int
    data_chars: int

    def chunks(self, size: int = CHUNK_SIZE) -> list[bytes]:
        """The payload cut into ``size``-byte chunks (the last one may be shorter)."""
        payload = self.payload
        return [payload[i : i + size] for i in range(0, len(payload), size)]


def _tick(rng: random.Random, n: int) -> tuple[str, str, float, int, int]:
    symbol = _SYMBOLS[n % len(_SYMBOLS)]
    price = round(rng.uniform(1.0, 2000.0), 2)
    volume = rng.randrange(1, 10_000)
    ts = 1_700_000_000_000 + n * 7
    return symbol, f'"symbol":"{symbol}"', price, volume, ts


def _small_data(rng: random.Random, n: int) -> list[str]:
    _, sym, price, volume, ts = _tick(rng, n)
    return [f'{{{sym},"price":{price},"volume":{volume},"ts":{ts}}}']


def _groups_data(rng: random.Random, n: int) -> list[str]:
    _, _, price, volume, ts = _tick(rng, n)
    # 0.7 us apart: the first ~1.4M events share the second that starts at the epoch base
    ts = 1_700_000_000_000 + n * 7 // 10_000
    return [f'{{"symbol":"S{n:07d}","price":{price},"volume":{volume},"ts":{ts}}}']


def _multiline_data(rng: random.Random, n: int) -> list[str]:
    _, sym, price, volume, ts = _tick(rng, n)
    return [f"{{{sym},", f'"price":{price},"volume":{volume},', f'"ts":{ts}}}']


def _large_data(rng: random.Random, n: int) -> list[str]:
    _, sym, price, volume, ts = _tick(rng, n)
    head = f'{{{sym},"price":{price},"volume":{volume},"ts":{ts},"note":"'
    room = LARGE_DATA_SIZE - len(head) - 2
    start = n % len(_FILLER)
    filler = (_FILLER * (room // len(_FILLER) + 2))[start : start + room]
    return [head + filler + '"}']


_DATA_BUILDERS = {
    "small": _small_data,
    "large": _large_data,
    "multiline": _multiline_data,
    "groups": _groups_data,
}


@functools.lru_cache(maxsize=16)
def build(name: str, events: int) -> Workload:
    """The workload ``name`` with ``events`` events (cached: callers must not mutate it)."""
    if name not in WORKLOADS:
        raise ValueError(f"unknown workload {name!r}; choose one of {', '.join(WORKLOADS)}")
    newline = "\r\n" if name == "crlf" else "\n"
    make_data = _DATA_BUILDERS.get(name, _small_data)
    rng = random.Random(f"laminar-bench-{name}")
    parts: list[str] = []
    data_chars = 0
    for n in range(1, events + 1):
        lines = make_data(rng, n)
        data_chars += sum(map(len, lines)) + len(lines) - 1
        block = [f"id: {n}", "event: tick", *(f"data: {line}" for line in lines), "", ""]
        parts.append(newline.join(block))
    return Workload(name, "".join(parts).encode("utf-8"), events, data_chars)
