"""The webhook sink: each batch is POSTed as a JSON array of row objects, retried with backoff.

A batch larger than ``batch_size`` rows goes out as several requests, in order.
A 2xx answer delivers it. Network errors, timeouts, 429 and 5xx are retried
with exponential backoff (``retry_backoff_ms`` doubling, at most 30 s, a 429's
or 503's ``Retry-After`` honoured) up to ``max_retries`` times; after that, or
on any other status, the pipeline stops with a PipelineError naming the sink
— without committing, so a restart sends the batch again (at least once).
Header values and the URL's query string never appear in messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp

from laminar.connectors.sse.backoff import parse_retry_after
from laminar.errors import PipelineError
from laminar.secrets import redact_url
from laminar.sinks.base import Sink

MAX_BACKOFF_S = 30.0


class WebhookSink(Sink):
    connector = "webhook"

    def __init__(
        self,
        table: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        batch_size: int = 500,
        max_retries: int = 5,
        retry_backoff_ms: int = 200,
        timeout_ms: int = 10_000,
        shown_url: str | None = None,
    ) -> None:
        super().__init__(table)
        self.url = url
        # Messages show the URL as written (${VAR}s unexpanded), redacted: never a secret.
        self.shown_url = redact_url(shown_url or url)
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.backoff = retry_backoff_ms / 1000
        self.timeout = aiohttp.ClientTimeout(total=timeout_ms / 1000)
        self.requests_sent = 0
        self.retries = 0
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)

    async def write(self, rows: Any) -> None:
        for start in range(0, len(rows), self.batch_size):
            chunk = rows[start : start + self.batch_size]
            await self._post(("[" + ",".join(chunk) + "]").encode("utf-8"))
            self.rows_written += len(chunk)

    async def _post(self, body: bytes) -> None:
        await self.open()
        assert self._session is not None
        where = f"sink {self.table}: webhook {self.shown_url}"
        attempt = 0
        while True:
            delay: float | None = None
            problem = ""
            try:
                self.requests_sent += 1
                async with self._session.post(self.url, data=body, headers=self.headers) as resp:
                    if 200 <= resp.status < 300:
                        return
                    problem = f"answered {resp.status} {resp.reason or ''}".rstrip()
                    if resp.status != 429 and resp.status < 500:
                        raise PipelineError(
                            f"{where} {problem}; fix the endpoint or its credentials "
                            "(the batch is not committed and will be sent again on restart)"
                        )
                    delay = parse_retry_after(resp.headers.get("Retry-After"))
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                problem = f"failed ({type(exc).__name__})"
            attempt += 1
            if attempt > self.max_retries:
                raise PipelineError(
                    f"{where} {problem} after {self.max_retries} retries; raise max_retries "
                    "or check the endpoint (the batch is not committed and will be sent "
                    "again on restart)"
                )
            self.retries += 1
            if delay is None:
                delay = min(MAX_BACKOFF_S, self.backoff * 2 ** (attempt - 1))
            await asyncio.sleep(min(delay, MAX_BACKOFF_S))

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
