"""Driver side: keep each endpoint's SSE connection open and append its events to the WAL.

One thread with one asyncio loop per stream reader; one task per endpoint runs
Laminar's own client (``EventSource``: reconnects, backoff, Last-Event-ID,
keep-alive, ${VAR} resolution at each connection) and appends every network
read as one WAL frame. A task resumes after the last id its WAL holds.

A fatal error of an endpoint (401, a 4xx, max_reconnect_attempts spent) is kept
and raised by ``check()``, which the reader calls from ``latestOffset``: the
Spark query fails with Laminar's message. ``Fenced`` (a newer reader owns the
WAL) only stops the task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Sequence

from laminar.connectors.sse.transport import EventSource
from laminar.errors import LaminarError
from laminar.spark.options import EndpointSpec
from laminar.spark.wal import Fenced, WalWriter

logger = logging.getLogger("laminar.spark")


class Ingest:
    """Runs the endpoints' clients in a background thread (see the module docstring)."""

    def __init__(self, endpoints: Sequence[EndpointSpec], writers: Sequence[WalWriter]) -> None:
        self._jobs = list(zip(endpoints, writers, strict=True))
        self._loop = asyncio.new_event_loop()
        self._sources: list[EventSource] = []
        self._tasks: list[asyncio.Future[None]] = []
        self._stopping = False
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._main, name="laminar-spark-ingest", daemon=True)
        self.events = [0] * len(self._jobs)

    def start(self) -> None:
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._run_all())
        finally:
            self._loop.close()

    async def _run_all(self) -> None:
        if self._stopping:
            return
        self._tasks = [
            asyncio.ensure_future(self._run(i, spec, wal))
            for i, (spec, wal) in enumerate(self._jobs)
        ]
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, index: int, spec: EndpointSpec, wal: WalWriter) -> None:
        resume = wal.end.id or None  # None: the last_event_id option, as in laminar run
        assert spec.connection is not None  # only executors' copies lack it
        source = EventSource(spec.connection, resume_from=resume)
        self._sources.append(source)
        try:
            async for batch in source.batches():
                now = int(time.time() * 1000)
                wal.append(batch, now)
                self.events[index] += len(batch)
        except Fenced as exc:
            # Another query took the log over (same wal_path): say so at the next
            # latestOffset instead of sitting idle with an offset that never moves.
            logger.warning("%s: %s; this reader stops", spec.display, exc)
            self._errors.append(exc)
        except LaminarError as exc:
            logger.error("%s: %s", spec.display, exc)
            self._errors.append(exc)
        except Exception as exc:  # keep the query informed instead of dying silently
            logger.exception("%s: ingest failed", spec.display)
            self._errors.append(exc)
        finally:
            await source.aclose()

    def check(self) -> None:
        """Raise the first fatal error of an endpoint, if any."""
        if self._errors:
            raise self._errors[0]

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel the clients (each closes its connection) and wait for the thread."""
        if not self._thread.is_alive():
            return

        def cancel() -> None:
            for task in self._tasks:
                task.cancel()

        self._stopping = True  # in case the tasks do not exist yet
        with contextlib.suppress(RuntimeError):  # the loop has already finished
            self._loop.call_soon_threadsafe(cancel)
        self._thread.join(timeout)


__all__ = ["Ingest"]
