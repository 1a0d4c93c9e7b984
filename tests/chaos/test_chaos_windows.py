"""Chaos: ``kill -9`` during a windowed INSERT INTO a filesystem sink (issue 8, section 3).

A feed of trades with event times 5 ms apart (200 per second, three symbols),
honouring Last-Event-ID, goes through a 1-second tumbling COUNT/SUM per symbol
into JSON-lines files. ``laminar run`` is killed several times mid-stream —
each kill triggered by observed progress (events sent, windows published,
checkpoints committed) — and restarted on the same state directory. The
union of the published files must be every window exactly once, with the
aggregates of one pass over the whole feed: the window state is checkpointed
with the event id, and files are published in a two-phase commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web

from tests.chaos.test_chaos_kill import committed_id, until
from tests.support.sse_server import Script, SSEServer, format_event

pytestmark = pytest.mark.chaos

TOTAL = 3000
SYMBOLS = ("A", "B", "C")


def trade(n: int) -> bytes:
    ms = n * 5
    ts = f"2026-01-01T00:{ms // 60_000:02d}:{ms % 60_000 / 1000:06.3f}Z"
    return format_event(json.dumps({"n": n, "symbol": SYMBOLS[n % 3], "ts": ts}), id=str(n))


class Trades(Script):
    """Trades 1…TOTAL from after Last-Event-ID, in writes of 20; 204 once all are sent."""

    def __init__(self) -> None:
        self.sent = 0

    async def serve(self, server: SSEServer, request: web.Request) -> web.StreamResponse:
        last = request.headers.get("Last-Event-ID", "")
        n = int(last) + 1 if last.isdigit() else 1
        if n > TOTAL:
            return web.Response(status=204)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while n <= TOTAL and not server.closing.is_set():
                upto = min(TOTAL, n + 19)
                await response.write(b"".join(trade(i) for i in range(n, upto + 1)))
                self.sent += upto - n + 1
                n = upto + 1
                await asyncio.sleep(0.008)
            await response.write_eof()
        return response


PER_SECOND = """SELECT symbol, COUNT(*) AS trades, SUM(n) AS total, window_start
    FROM trades GROUP BY symbol, TUMBLE(ts, INTERVAL '1' SECOND)"""
# the top symbol of each second: a subquery planned as a view, ranked per window
TOP_PER_SECOND = f"""SELECT * FROM ({PER_SECOND})
    QUALIFY row_number() OVER (PARTITION BY window_start ORDER BY total DESC) = 1"""


def pipeline(url: str, out: Path, query: str = PER_SECOND) -> str:
    return f"""
    CREATE TABLE trades (n BIGINT, symbol TEXT, ts TIMESTAMP) WITH (
        endpoint = '{url}', persist_event_id = true, event_time_field = 'ts',
        reconnect_interval_ms = 10, max_reconnect_interval_ms = 50, buffer_timeout_ms = 10);
    CREATE TABLE out (symbol TEXT, trades BIGINT, total BIGINT, window_start TIMESTAMP) WITH (
        connector = 'filesystem', path = '{out}', rollover_interval_ms = 100);
    INSERT INTO out {query};
    """


def expected(top: bool = False) -> list[tuple[str, str, int, int]]:
    trades: Counter[tuple[str, str]] = Counter()
    totals: Counter[tuple[str, str]] = Counter()
    for n in range(1, TOTAL + 1):
        key = (f"00:{n * 5 // 1000:02d}", SYMBOLS[n % 3])
        trades[key] += 1
        totals[key] += n
    rows = sorted((second, symbol, trades[second, symbol], totals[second, symbol])
                  for second, symbol in trades)  # fmt: skip
    if top:  # the symbol with the largest total of each second
        best: dict[str, tuple[str, str, int, int]] = {}
        for row in rows:
            if row[0] not in best or row[3] > best[row[0]][3]:
                best[row[0]] = row
        rows = sorted(best.values())
    return rows


def published(out: Path) -> list[tuple[str, str, int, int]]:
    rows = [
        json.loads(line)
        for path in sorted(out.glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]
    return [(r["window_start"][14:19], r["symbol"], r["trades"], r["total"]) for r in rows]


async def start(tmp_path: Path, sql: str) -> asyncio.subprocess.Process:
    (tmp_path / "p.sql").write_text(sql)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "laminar", "run", str(tmp_path / "p.sql"),
        "--state-dir", str(tmp_path / "state"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.parametrize("top", [False, True], ids=["per-second", "top-per-second"])
async def test_kill_9_during_a_windowed_insert_publishes_every_window_once(
    tmp_path: Path, top: bool
) -> None:
    out = tmp_path / "out"
    state = tmp_path / "state"
    feed = Trades()
    kills = 0
    async with SSEServer(default=feed) as server:
        sql = pipeline(server.url, out, TOP_PER_SECOND if top else PER_SECOND)
        for kind in ("sent", "published", "committed", "sent"):
            proc = await start(tmp_path, sql)
            sent, windows, committed = feed.sent, len(published(out)), committed_id(state)
            condition = {
                "sent": lambda s=sent: feed.sent >= s + 400,
                "published": lambda w=windows: len(published(out)) > w,
                "committed": lambda c=committed: committed_id(state) > c,
            }[kind]
            with contextlib.suppress(TimeoutError):
                await until(lambda p=proc, c=condition: c() or p.returncode is not None)
            if proc.returncode is None:
                proc.kill()
                kills += 1
            await proc.wait()
        proc = await start(tmp_path, sql)
        _, stderr = await asyncio.wait_for(proc.communicate(), 40)
        assert proc.returncode == 0, stderr.decode()
    assert kills >= 3
    assert sorted(published(out)) == expected(top)  # every window once, exact aggregates
