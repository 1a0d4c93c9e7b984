"""Cost of watching: a console pipeline's throughput with and without a live output tail.

    python -m benchmarks.console_overhead [EVENTS] [ROUNDS]

Runs ``SELECT * FROM stock_stream`` (every event becomes a row, json, loopback) as a
console pipeline (``PipelineManager``, its rows copied into the output tail), in
turn without a subscriber and with one: a separate process reading
``/api/v1/pipelines/{id}/output`` over HTTP, as a browser tab would. Prints the
medians and the ratio (with / without). The tail never blocks the pipeline, so the
ratio should be about 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import subprocess
import sys
import time

from benchmarks.client_bench import serve
from laminar.console.app import start_console
from laminar.sql.engine import Engine

TABLE = """CREATE TABLE stock_stream (symbol TEXT, price DECIMAL, volume BIGINT, ts BIGINT)
WITH (connector = 'sse_source', endpoint = '{url}', format = 'json', reconnect_interval_ms = 0)"""
QUERY = "SELECT * FROM stock_stream"
TOKEN = "bench-token"
# Reads the output as an EventSource would: cut off when too slow, it reconnects and
# resumes after the last batch id it saw.
READER = r"""
import sys, urllib.request
last = "0"
while True:
    req = urllib.request.Request(sys.argv[1], headers={
        "Authorization": "Bearer " + sys.argv[2], "Last-Event-ID": last})
    with urllib.request.urlopen(req) as resp:
        print("open", flush=True)
        tail = b""
        while chunk := resp.read1(1 << 16):  # a browser parses in native code: read in bulk
            tail = (tail + chunk)[-(1 << 16):]
            at = tail.rfind(b"\nid: ")
            if at >= 0:
                last = tail[at + 5:tail.find(b"\n", at + 5)].decode() or last
"""


def once(url: str, events: int, tail: bool) -> float:
    """Rows per second of one run of the pipeline."""

    async def main() -> float:
        engine = Engine(env={})
        console = await start_console(engine, token=TOKEN)
        reader = None
        try:
            engine.execute(TABLE.format(url=url))
            manager = console.manager
            started = time.perf_counter()
            _, pipeline = manager.run_script(QUERY, "bench")
            assert pipeline is not None
            if tail:
                reader = await asyncio.create_subprocess_exec(
                    sys.executable, "-c", READER,
                    f"{console.url}/api/v1/pipelines/{pipeline.id}/output",
                    TOKEN, stdout=subprocess.PIPE,
                )
                assert reader.stdout is not None
                await reader.stdout.readline()  # subscribed; it resumes from the first batch
            assert pipeline.task is not None
            await pipeline.task
            elapsed = time.perf_counter() - started
            assert pipeline.state == "finished", pipeline.error
            assert pipeline.tail.rows_published == events, pipeline.tail.rows_published
            if reader is not None:
                assert reader.returncode is None, "the tail reader died"
            return events / elapsed
        finally:
            if reader is not None:
                with contextlib.suppress(ProcessLookupError):
                    reader.kill()
                await reader.wait()
            await console.close()

    return asyncio.run(main())


def main(argv: list[str]) -> int:
    events = int(argv[0]) if argv else 200_000
    rounds = int(argv[1]) if len(argv) > 1 else 5
    with serve([("small", events)]) as base:
        url = f"{base}/stream/small/{events}"
        once(url, events, False)  # warm-up
        without: list[float] = []
        with_tail: list[float] = []
        for _ in range(rounds):
            without.append(once(url, events, False))
            with_tail.append(once(url, events, True))
    m_without, m_with = statistics.median(without), statistics.median(with_tail)
    print(
        f"console pipeline, no tail open {m_without:>10,.0f} rows/s\n"
        f"console pipeline, tail open    {m_with:>10,.0f} rows/s\n"
        f"ratio with/without             {m_with / m_without:10.3f}  "
        f"(median of {rounds}, {events:,} events; min/max without "
        f"{min(without):,.0f}/{max(without):,.0f}, with {min(with_tail):,.0f}/"
        f"{max(with_tail):,.0f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
