"""Suite "client": SSE clients over loopback HTTP, Laminar against peer clients.

Contract: ``run(options)`` starts :func:`serve` — a tiny aiohttp server on 127.0.0.1 in
a *separate process* (so it never competes with the client for the GIL) that sends
the exact bytes of a :mod:`benchmarks.workloads` stream as a chunked
``text/event-stream`` response and then ends it — and times each client adapter of
:mod:`benchmarks.peers` reading the whole stream (connect, read, close). Target:
Laminar >= 3x the fastest peer client on "small" and on "large".

Server protocol: ``GET /stream/{workload}/{events}`` streams the workload in 64 KiB
chunked writes; a request carrying ``Last-Event-ID`` (a reconnection after the stream
ended) gets ``204 No Content``, which tells a compliant client to stop. Other suites
(end-to-end) can reuse :func:`serve`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from benchmarks import Case, Options, SuiteResult, measure, ratio_target
from benchmarks.peers import client_adapters
from benchmarks.workloads import CHUNK_SIZE, DEFAULT_EVENTS, build

NAME = "client"
WORKLOADS = ("small", "large")
QUICK_DIVISOR = 10


def _serve_forever(specs: Sequence[tuple[str, int]]) -> None:
    """Server process body: prepare the streams, print the port, serve until stdin closes."""
    import asyncio
    import sys

    from aiohttp import web

    streams = {(name, events): build(name, events).chunks(CHUNK_SIZE) for name, events in specs}

    async def stream(request: web.Request) -> web.StreamResponse:
        if "Last-Event-ID" in request.headers:
            return web.Response(status=204)
        key = (request.match_info["workload"], int(request.match_info["events"]))
        chunks = streams.get(key)
        if chunks is None:
            raise web.HTTPNotFound(text=f"workload {key} was not prepared by this server")
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
        return response

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/stream/{workload}/{events}", stream)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        print(port, flush=True)
        # Serve until the parent closes our stdin (it ended, or it died).
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(main())


@contextlib.contextmanager
def serve(specs: Sequence[tuple[str, int]]) -> Iterator[str]:
    """Run the benchmark server for ``(workload, events)`` specs; yield its base URL.

    Stream URLs are ``f"{base}/stream/{workload}/{events}"``. The server is a child
    process (``python -m benchmarks.client_bench NAME:EVENTS ...``) that lives until
    this context exits.
    """
    args = [f"{name}:{events}" for name, events in specs]
    root = Path(__file__).resolve().parent.parent
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.client_bench", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=root,
        env=env,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        line = process.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"benchmark server failed to start (exit code {process.poll()})")
        yield f"http://127.0.0.1:{int(line)}"
    finally:
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def run(options: Options) -> SuiteResult:
    """Measure every client on "small" and "large"; unavailable clients become notes."""
    result = SuiteResult(NAME)
    adapters = []
    for adapter in client_adapters():
        if adapter.error:
            result.notes.append(f"{adapter.name} skipped: {adapter.error}")
        else:
            adapters.append(adapter)
    divisor = QUICK_DIVISOR if options.quick else 1
    workloads = [build(name, DEFAULT_EVENTS[name] // divisor) for name in WORKLOADS]
    with serve([(w.name, w.events) for w in workloads]) as base:
        for workload in workloads:
            url = f"{base}/stream/{workload.name}/{workload.events}"
            cases = [
                Case(adapter.name, functools.partial(adapter.count, url, workload.events))
                for adapter in adapters
            ]
            result.measurements += measure(
                workload.name,
                cases,
                expected=(workload.events, workload.data_chars),
                payload_bytes=len(workload.payload),
                rounds=options.rounds,
            )
    result.targets = [ratio_target(result.measurements, name, 3, NAME) for name in WORKLOADS]
    return result


if __name__ == "__main__":
    _serve_forever([(spec.split(":")[0], int(spec.split(":")[1])) for spec in sys.argv[1:]])
