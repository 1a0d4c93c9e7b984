"""EventSource: an SSE client on aiohttp that owns its connection's whole life.

Contract:

* ``async with EventSource(endpoint_or_options, observer, **options) as source`` then
  ``async for event in source`` (one SSEEvent at a time) or ``async for batch in
  source.batches()`` (the decoder's non-empty list per network read — the fast path).
* The socket is read only when the consumer asks for more: no internal queue, so a
  slow consumer slows the server (back-pressure). Decompressed output is fed to the
  decoder in slices of at most ``_INFLATE_SLICE`` bytes, one batch per slice.
* Iteration ends normally when the server answers 204, sends the
  ``end_of_stream_data`` value, ends the stream cleanly with
  ``max_reconnect_attempts = 0``, or the source is closed. ``restart()`` drops the
  connection and reconnects at once (no backoff, no failed attempt). It
  raises a LaminarError for what retrying cannot fix: ConfigError, AuthError (401,
  403), HTTPStatusError (other 4xx, too many redirects), ContentTypeError,
  SourceError (TLS verification, a refused redirect), SSEProtocolError (beyond
  ``max_decompression_ratio``: a compression bomb) and ReconnectExhaustedError.
  An event larger than ``max_event_size`` is skipped and counted
  (``stats.events_oversized``), or delivered as an ``OversizedEvent`` with
  ``report_oversized=True`` (tables route it like a bad payload).
  Everything else — EOF, network errors, 429/5xx, a silent connection beyond
  ``keepalive_timeout_ms`` — reconnects after ``backoff_delay`` with Last-Event-ID.
* Options, ``${VAR}``s and ``token_file`` are resolved afresh for every attempt.
* Redirects are followed here, not by aiohttp: credentials only go to the same
  origin, and an https -> http downgrade with credentials is refused.
* The backoff step grows with every reconnection and resets only after a connection
  stayed open ``HEALTHY_AFTER_S`` on the injectable ``clock``; an event resets the
  failure count (``max_reconnect_attempts``) only.
* Foreign exceptions are translated here and nowhere else; messages are scrubbed of
  secrets.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import re
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from time import monotonic
from typing import TYPE_CHECKING, Any, cast

import aiohttp
import yarl

from laminar.connectors.sse.backoff import backoff_delay, parse_retry_after
from laminar.connectors.sse.observer import SourceObserver
from laminar.connectors.sse.options import (
    MAX_REDIRECTS,
    RATIO_CHECK_AFTER,
    ConnectionOptions,
    ResolvedRequest,
)
from laminar.errors import (
    AuthError,
    ContentTypeError,
    EventTooLargeError,
    HTTPStatusError,
    LaminarError,
    ReconnectExhaustedError,
    SourceError,
    SSEProtocolError,
)
from laminar.secrets import has_references, redact_headers, redact_url
from laminar.sse import OversizedEvent, SSEComment, SSEDecoder, SSEEvent

if TYPE_CHECKING:
    from laminar.runtime.time import Clock  # (a type only: that module imports pyarrow)

logger = logging.getLogger("laminar.connectors.sse")

STATES = ("idle", "connecting", "open", "reconnecting", "closed", "failed")
# The backoff delay starts again from its base only after a connection stayed open this
# long (LaunchDarkly's threshold): a server that sends one event and closes, again and
# again, gets ever longer delays instead of a reconnection storm.
HEALTHY_AFTER_S = 60.0
_READ_BUFSIZE = 1 << 18
_YIELD_EVERY_S = 0.005  # the read loop lets the event loop run at least this often
_INFLATE_SLICE = 1 << 16
_BODY_EXCERPT = 200
_SSL_NOTE = re.compile(r" ssl:(?:default|None|True|False|<[^>]*>)")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ENCODINGS = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}
_LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_NO_OBSERVER = SourceObserver()
_URL_ERRORS: tuple[type[Exception], ...] = tuple(
    getattr(aiohttp, name)
    for name in ("InvalidURL", "NonHttpUrlClientError")
    if hasattr(aiohttp, name)
)


class SourceStats:
    """Counters of one EventSource (fed to metrics and system tables by their owners)."""

    __slots__ = (
        "bytes_decoded",
        "bytes_received",
        "comments_received",
        "connections",
        "events_oversized",
        "events_received",
        "last_error",
        "last_status",
        "reconnect_attempts",
    )

    def __init__(self) -> None:
        self.bytes_received = 0  # from the network, before decompression
        self.bytes_decoded = 0  # fed to the SSE decoder, after decompression
        self.events_received = 0
        self.events_oversized = 0  # skipped for outgrowing max_event_size
        self.comments_received = 0  # only counted when ignore_comments is false
        self.connections = 0  # streams opened (200 + text/event-stream)
        self.reconnect_attempts = 0  # reconnections scheduled, over the source's life
        self.last_status: int | None = None
        self.last_error: str | None = None  # redacted

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        return f"SourceStats({self.as_dict()!r})"


class _KeepaliveTimeout(Exception):
    """No byte arrived for keepalive_timeout_ms while we were waiting for one."""


class _Closed(Exception):
    """The source was closed while a read was pending."""


class _Restart(Exception):
    """restart() was called while a read was pending."""


class _Retry(Exception):
    """A failed attempt or a broken stream that reconnection may cure."""

    def __init__(
        self,
        reason: str,
        message: str,
        error: BaseException | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.error = error
        self.retry_after_s = retry_after_s


class EventSource:
    """An SSE stream that reconnects by itself; see the module docstring."""

    def __init__(
        self,
        source: ConnectionOptions | str | Mapping[str, Any],
        observer: SourceObserver | None = None,
        *,
        env: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        rand: Callable[[], float] = random.random,
        resume_from: str | None = None,
        report_oversized: bool = False,
        clock: Clock = monotonic,
        **options: Any,
    ) -> None:
        if isinstance(source, ConnectionOptions):
            opts = source.with_overrides(options) if options else source
        elif isinstance(source, str):
            opts = ConnectionOptions({"endpoint": source, **options}, env=env)
        elif isinstance(source, Mapping):
            opts = ConnectionOptions({**source, **options}, env=env)
        else:
            raise TypeError("EventSource needs an endpoint URL, a mapping or ConnectionOptions")
        self.options = opts
        self._report_oversized = report_oversized
        self.stats = SourceStats()
        self._observer = observer or _NO_OBSERVER
        self._session = session
        self._own_session = session is None
        self._rand = rand
        self._state = "idle"
        self._closed = False
        self._wake: asyncio.Event | None = None  # set by aclose() and restart()
        self._restart_requested = False
        self._attempt = 0
        self._backoff_step = 0  # reconnections since the last healthy (long) connection
        self._clock = clock
        self._server_retry_ms: int | None = None
        # The id to resume from, sent as is (never a ${VAR} template: it came from the
        # server); None: the last_event_id option, resolved at the first connection.
        self._last_event_id: str | None = resume_from
        self._decoder: SSEDecoder | None = None
        self._response: aiohttp.ClientResponse | None = None
        self._request: ResolvedRequest | None = None
        self._gen: AsyncIterator[list[SSEEvent]] | None = None
        self._gen_running = False
        self._pending: Iterator[SSEEvent] = iter(())
        self._read_since: float | None = None
        self._watchdog: asyncio.TimerHandle | None = None

    # -- public surface -----------------------------------------------------------

    @property
    def state(self) -> str:
        """idle | connecting | open | reconnecting | closed | failed."""
        return self._state

    @property
    def last_event_id(self) -> str:
        """The id that the next (re)connection sends as Last-Event-ID ("" for none)."""
        decoder = self._decoder
        if decoder is not None:
            return decoder.last_event_id
        if self._last_event_id is not None:
            return self._last_event_id
        initial = self.options.last_event_id
        if has_references(initial):
            return ""  # resolved at the first connection
        return initial.replace("$${", "${")

    @property
    def retry_ms(self) -> int | None:
        """The reconnection time the server set with ``retry:``, if it did."""
        decoder = self._decoder
        if decoder is not None and decoder.retry is not None:
            return decoder.retry
        return self._server_retry_ms

    @property
    def attempt(self) -> int:
        """Consecutive failed attempts since the last healthy connection."""
        return self._attempt

    async def __aenter__(self) -> EventSource:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> EventSource:
        return self

    async def __anext__(self) -> SSEEvent:
        for event in self._pending:
            return event
        batch = await self.batches().__anext__()
        self._pending = iter(batch)
        return next(self._pending)

    def batches(self) -> AsyncIterator[list[SSEEvent]]:
        """Non-empty lists of events, one per network read (or inflated slice)."""
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    def restart(self) -> None:
        """Drop the current connection and reconnect at once, sending Last-Event-ID.

        Like LaunchDarkly's ``restart()``: no backoff delay and no failed attempt
        counted (``stats.reconnect_attempts`` and ``connections`` still count it). A
        source that is waiting to reconnect stops waiting. No-op once closed.
        """
        if self._closed or self._state == "failed":
            return
        self._restart_requested = True
        response = self._response
        if response is not None and not response.closed:
            response.content.set_exception(_Restart())  # wakes (or fails) the next read
        if self._wake is not None:
            self._wake.set()  # cuts a backoff wait short

    async def aclose(self) -> None:
        """Close the stream and the session; iteration ends normally. Idempotent."""
        if not self._closed:
            self._closed = True
            if self._wake is not None:
                self._wake.set()
            response = self._response
            if response is not None and not self._gen_running:
                self._observer.on_disconnect("closed", None)  # the generator is parked
            elif response is not None and not response.closed:
                response.content.set_exception(_Closed())  # wakes the pending read
        if self._gen is not None and not self._gen_running:
            await self._gen.aclose()  # type: ignore[attr-defined]
        await self._close_session()
        if self._state != "failed":
            self._state = "closed"

    def __repr__(self) -> str:
        return f"<EventSource {self.options.display_endpoint} state={self._state}>"

    # -- the life of the source -------------------------------------------------------

    async def _run(self) -> AsyncIterator[list[SSEEvent]]:
        if self._closed:
            return
        self._wake = asyncio.Event()
        opts = self.options
        observer = self._observer
        stats = self.stats
        keep_comments = not opts.ignore_comments
        self._gen_running = True
        try:
            while True:
                response = await self._connect()
                if response is None:
                    return
                decoder = self._decoder = SSEDecoder(
                    max_event_size=opts.max_event_size,
                    comment_prefix=opts.comment_prefix,
                    keep_comments=keep_comments,
                    last_event_id=self._request.last_event_id if self._request else "",
                )
                feed = decoder.feed
                inflate = _inflater(
                    response.headers.get("Content-Encoding", ""), opts.max_decompression_ratio
                )
                read = response.content.readany
                opened_at = self._clock()
                events_before = stats.events_received
                end_data = opts.end_of_stream_data
                finished = False
                busy_until = monotonic() + _YIELD_EVERY_S
                self._start_watchdog(response)
                reason, error = "eof", cast("BaseException | None", None)
                try:
                    while True:
                        self._read_since = monotonic()
                        chunk = await read()
                        self._read_since = None
                        if not chunk:
                            break
                        stats.bytes_received += len(chunk)
                        observer.on_bytes(len(chunk))
                        for piece in (chunk,) if inflate is None else inflate(chunk):
                            if monotonic() >= busy_until:
                                # Slices that make no event never reach a consumer's await:
                                # let the loop run (signals, /healthz) every few ms of work.
                                await asyncio.sleep(0)
                                if self._closed:
                                    raise _Closed()
                                busy_until = monotonic() + _YIELD_EVERY_S
                            stats.bytes_decoded += len(piece)
                            try:
                                items = feed(piece)
                            except EventTooLargeError as exc:
                                items = self._oversized(exc, decoder)
                            if not items:
                                continue
                            if end_data is not None:
                                items, finished = _until(items, end_data)
                            # With comments kept, events and comments are reported in
                            # stream order: the events before a comment are yielded (and
                            # consumed) before its on_comment hook runs.
                            for events in self._segments(items) if keep_comments else (items,):
                                if events:
                                    stats.events_received += len(events)
                                    observer.on_events(len(events))
                                    self._gen_running = False
                                    yield events  # type: ignore[misc]
                                    self._gen_running = True
                            if finished:
                                reason = "end_of_stream"
                                break
                        if finished:
                            break
                except _Closed:
                    reason = "closed"
                except _Restart:
                    reason = "restart"
                except _KeepaliveTimeout as exc:
                    reason, error = "keepalive_timeout", exc
                except zlib.error as exc:
                    reason = "network_error"
                    error = SSEProtocolError(f"the compressed response is corrupt ({exc})")
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    reason, error = "network_error", exc
                finally:  # also on GeneratorExit / cancellation: never leak the connection
                    self._read_since = None
                    self._end_stream(response, decoder)
                if self._closed:
                    observer.on_disconnect("closed", None)
                    return
                if reason == "restart" or self._restart_requested:
                    self._restart_requested = False
                    observer.on_disconnect("restart", None)
                    stats.reconnect_attempts += 1
                    self._state = "reconnecting"
                    self._log("info", f"{opts.display_endpoint}: restart(): reconnecting now")
                    continue
                if reason == "end_of_stream":
                    self._log(
                        "info",
                        f"{opts.display_endpoint} sent the end_of_stream_data value "
                        f"{opts.end_of_stream_data!r}: the stream is complete",
                    )
                    observer.on_disconnect("stopped", None)
                    return
                if reason == "eof" and opts.max_reconnect_attempts == 0:
                    # A clean end with reconnection disabled is the end of a finite stream
                    # (an LLM answer), not a failure: one request, and done.
                    self._log(
                        "info",
                        f"{opts.display_endpoint} ended the stream; not reconnecting "
                        "(max_reconnect_attempts = 0)",
                    )
                    observer.on_disconnect("stopped", None)
                    return
                observer.on_disconnect(reason, error)
                progressed = stats.events_received > events_before
                if self._clock() - opened_at >= HEALTHY_AFTER_S:
                    self._attempt = self._backoff_step = 0
                elif progressed:
                    self._attempt = 0  # progress: not a failure, but the delay keeps growing
                # A clean end after a stream that delivered events is routine (info, shown
                # with -v); if the reconnection then fails, that failure is the warning.
                routine = reason == "eof" and progressed
                await self._retry(
                    _Retry(reason, self._describe_drop(reason, error), error),
                    "info" if routine else "warning",
                )
        except LaminarError as exc:
            self._state = "failed"
            self.stats.last_error = str(exc)
            self._log("error", str(exc))
            raise
        finally:
            self._gen_running = False
            if self._state != "failed":
                self._state = "closed"
            await self._close_session()

    def _oversized(self, exc: EventTooLargeError, decoder: SSEDecoder) -> list[Any]:
        """The chunk's other items; the dropped event is skipped (and counted), or stands
        as an OversizedEvent for a source that routes it like a bad payload."""
        self.stats.events_oversized += 1
        self._log(
            "warning" if self.stats.events_oversized == 1 else "debug",
            f"{self.options.display_endpoint}: skipped an event: {exc} "
            f"({self.stats.events_oversized} so far)",
        )
        items: list[Any] = exc.events
        if self._report_oversized:
            items.append(
                OversizedEvent("message", "", decoder.last_event_id, size=exc.size, limit=exc.limit)
            )
        return items

    def _segments(self, items: list[SSEEvent | SSEComment]) -> Iterator[list[SSEEvent]]:
        """The runs of events between comments; each comment is reported when reached."""
        events: list[SSEEvent] = []
        for item in items:
            if type(item) is SSEComment:
                if events:
                    yield events
                    events = []
                self.stats.comments_received += 1
                self._observer.on_comment(item.text)
            else:
                events.append(item)  # type: ignore[arg-type]
        if events:
            yield events

    def _end_stream(self, response: aiohttp.ClientResponse, decoder: SSEDecoder) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self._last_event_id = decoder.last_event_id
        if decoder.retry is not None:
            self._server_retry_ms = decoder.retry
        self._decoder = None
        self._response = None
        response.close()

    # -- connecting -------------------------------------------------------------------

    async def _connect(self) -> aiohttp.ClientResponse | None:
        """Open a stream, retrying what may be cured; None when told to stop or closed."""
        while not self._closed:
            self._state = "connecting"
            self._observer.on_connecting(self._attempt)
            self._request = request = self.options.resolve(self._last_event_id)
            try:
                response = await self._send(request)
            except _Retry as retry:
                if self._closed:
                    return None
                await self._retry(retry)
                continue
            if self._closed:
                response.close()
                return None
            try:
                stop = await self._check_response(response, request)
            except _Retry as retry:
                response.close()
                await self._retry(retry)
                continue
            except BaseException:
                response.close()
                raise
            if stop:
                response.close()
                self._log("info", f"{self.options.display_endpoint} answered 204: stopping")
                self._observer.on_disconnect("stopped", None)
                return None
            self._response = response
            self._restart_requested = False  # this connection is the fresh one asked for
            self._state = "open"
            self.stats.connections += 1
            self.stats.last_status = response.status
            self._observer.on_open(
                response.status, redact_headers(
                    response.headers, self.options.api_key_header, self.options.secret_headers
                )
            )
            self._log("info", f"connected to {self.options.display_endpoint}")
            return response
        return None

    async def _send(self, request: ResolvedRequest) -> aiohttp.ClientResponse:
        """Send the request, following redirects ourselves (see ``_redirect``)."""
        opts = self.options
        timeout_s = opts.timeout_ms / 1000 if opts.timeout_ms else None
        try:
            async with asyncio.timeout(timeout_s):
                for _ in range(MAX_REDIRECTS + 1):
                    response = await self._send_once(request, timeout_s)
                    if response.status not in _REDIRECTS or "Location" not in response.headers:
                        return response
                    location = response.headers["Location"]
                    response.close()
                    request = self._redirect(request, response.status, location)
                raise HTTPStatusError(
                    f"{opts.display_endpoint}: more than {MAX_REDIRECTS} redirects; "
                    "check endpoint (it may redirect in a loop)",
                    status=response.status,
                )
        except TimeoutError as exc:
            raise _Retry(
                "timeout",
                f"no response from {opts.display_endpoint} within {opts.timeout_ms} ms "
                "(timeout_ms)",
                exc,
            ) from None

    def _redirect(self, request: ResolvedRequest, status: int, location: str) -> ResolvedRequest:
        """The request to send to ``location``: credentials only to the same origin.

        Like browsers and ``requests``: a redirect to another scheme, host or port drops
        every credential header (Authorization, the api key, secret_headers); an
        https -> http downgrade is refused while credentials are set; 303 (and 301/302
        of a POST) turn into a GET without a body.
        """
        try:
            here = yarl.URL(request.url)
            there = here.join(yarl.URL(location))
        except (ValueError, TypeError):
            raise SourceError(
                f"{self.options.display_endpoint} redirected to an invalid URL "
                f"{redact_url(location)!r}; check endpoint"
            ) from None
        if there.scheme not in ("http", "https") or not there.host:
            raise SourceError(
                f"{self.options.display_endpoint} redirected to {redact_url(str(there))!r}, "
                "not an http(s) URL; check endpoint"
            )
        headers = dict(request.headers)
        credentials = request.credential_headers
        if (here.scheme, here.host, here.port) != (there.scheme, there.host, there.port):
            if credentials and here.scheme == "https" and there.scheme == "http":
                raise SourceError(
                    f"{self.options.display_endpoint} redirected from https to plain http "
                    f"({redact_url(str(there.origin()))}): refusing to send credentials "
                    "unencrypted; point endpoint at the final https URL"
                )
            for name in credentials:
                headers.pop(name, None)
            credentials = frozenset()
        method, body = request.method, request.body
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method, body = "GET", None
            for name in [h for h in headers if h.lower() == "content-type"]:
                del headers[name]
        self._log("debug", f"HTTP {status}: following the redirect to {redact_url(str(there))}")
        return dataclasses.replace(
            request,
            method=method,
            url=str(there),
            headers=headers,
            body=body,
            credential_headers=credentials,
        )

    async def _send_once(
        self, request: ResolvedRequest, timeout_s: float | None
    ) -> aiohttp.ClientResponse:
        opts = self.options
        session = self._ensure_session()
        headers = request.headers
        if not any(name.lower() == "user-agent" for name in headers):
            headers = {**headers, "User-Agent": _user_agent()}
        try:
            return await session.request(
                request.method,
                request.url,
                headers=headers,
                data=request.body,
                proxy=request.proxy,
                ssl=request.ssl,
                allow_redirects=False,
                auto_decompress=False,
                read_bufsize=_READ_BUFSIZE,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout_s, sock_read=None),
            )
        except aiohttp.ClientHttpProxyError as exc:
            if exc.status == 407:
                raise AuthError(
                    "the proxy refused our credentials (HTTP 407); put them in the proxy "
                    "URL (http://user:password@host:port) — option proxy",
                    status=407,
                ) from None
            raise _Retry("network_error", f"proxy error: HTTP {exc.status}") from None
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError) as exc:
            raise SourceError(
                f"TLS failure connecting to {opts.display_endpoint}: "
                f"{request.scrub(str(exc))}; trust the server's CA with ca_cert = "
                "'/path/ca.pem' (or, for tests only, verify_tls = false)"
            ) from exc
        except _URL_ERRORS as exc:
            raise SourceError(
                f"cannot follow {opts.display_endpoint}: {request.scrub(str(exc))}; check endpoint"
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            text = request.scrub(str(exc) or type(exc).__name__)
            if not request.url.startswith("https:"):  # aiohttp's "ssl:default" means nothing
                text = _SSL_NOTE.sub("", text)
            raise _Retry(
                "network_error", f"cannot connect to {opts.display_endpoint}: {text}", exc
            ) from None

    async def _check_response(
        self, response: aiohttp.ClientResponse, request: ResolvedRequest
    ) -> bool:
        """True when the server asks us to stop (204); raises for anything but a stream."""
        opts = self.options
        status = response.status
        self.stats.last_status = status
        where = opts.display_endpoint
        if status == 200:
            content_type = response.headers.get("Content-Type", "")
            if content_type.split(";", 1)[0].strip().lower() != "text/event-stream":
                body = await self._read_body(response, request)
                raise ContentTypeError(
                    f"{where} answered 200 with Content-Type "
                    f"{content_type or '(none)'!r}, not 'text/event-stream': is endpoint the "
                    f"URL of the event stream?{_excerpt(body)}"
                )
            encoding = response.headers.get("Content-Encoding", "").strip().lower()
            if encoding not in ("", "identity"):
                if encoding not in _ENCODINGS:
                    raise ContentTypeError(
                        f"{where} sent Content-Encoding {encoding!r}, which Laminar cannot "
                        "decode (gzip and deflate are supported); remove Accept-Encoding "
                        "from headers"
                    )
                if not opts.decompress_response:
                    raise ContentTypeError(
                        f"{where} sent a {encoding}-compressed stream but decompress_response "
                        "is false: set decompress_response = true, or remove Accept-Encoding "
                        "from headers"
                    )
            return False
        if status == 204:
            return True
        body = await self._read_body(response, request)
        headers = redact_headers(response.headers, opts.api_key_header, opts.secret_headers)
        label = f"HTTP {status} {response.reason or ''}".rstrip()
        if status in (401, 403):
            raise AuthError(
                f"{label} from {where}: the server refused the credentials. "
                f"{_auth_hint(opts)}{_excerpt(body)}",
                status=status,
                headers=headers,
                body=body,
            )
        if status == 429 or 500 <= status <= 599:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            error = HTTPStatusError(
                f"{label} from {where}{_excerpt(body)}",
                status=status,
                headers=headers,
                body=body,
                retryable=True,
            )
            raise _Retry("http_status", str(error), error, retry_after)
        hint = "check endpoint, method and body" if 400 <= status < 500 else "check endpoint"
        raise HTTPStatusError(
            f"{label} from {where}: cannot stream from this response; {hint}{_excerpt(body)}",
            status=status,
            headers=headers,
            body=body,
        )

    async def _read_body(self, response: aiohttp.ClientResponse, request: ResolvedRequest) -> str:
        """The start of a failed response's body (at most BODY_LIMIT bytes), scrubbed."""
        limit = HTTPStatusError.BODY_LIMIT
        data = b""
        try:
            async with asyncio.timeout(min(5.0, self.options.timeout_ms / 1000 or 5.0)):
                while len(data) < limit:
                    chunk = await response.content.read(limit - len(data))
                    if not chunk:
                        break
                    data += chunk
        except (aiohttp.ClientError, OSError, TimeoutError):
            pass
        return request.scrub(data.decode("utf-8", "replace"))

    # -- reconnecting -------------------------------------------------------------------

    async def _retry(self, retry: _Retry, level: str = "warning") -> None:
        """Count a failed attempt, give up if they ran out, else wait the backoff delay."""
        opts = self.options
        self._attempt += 1
        self.stats.last_error = retry.message
        limit = opts.max_reconnect_attempts
        if limit is not None and self._attempt > limit:
            if limit == 0:
                text = "reconnection is disabled (max_reconnect_attempts = 0)"
            else:
                text = (
                    f"gave up after {limit} reconnection attempt{'s' if limit != 1 else ''} "
                    f"(max_reconnect_attempts = {limit})"
                )
            error = retry.error
            exhausted = ReconnectExhaustedError(
                f"{opts.display_endpoint}: {text}; last error: {retry.message}"
            )
            exhausted.reason = retry.reason  # "eof": the stream had ended cleanly
            if isinstance(error, LaminarError):
                raise exhausted from error
            raise exhausted
        self._backoff_step += 1
        delay = backoff_delay(
            self._backoff_step,
            reconnect_interval_ms=opts.reconnect_interval_ms,
            reconnect_backoff_ms=opts.reconnect_backoff_ms,
            server_retry_ms=self._server_retry_ms,
            multiplier=opts.reconnect_multiplier,
            max_interval_ms=opts.max_reconnect_interval_ms,
            retry_after_s=retry.retry_after_s,
            rand=self._rand,
        )
        self.stats.reconnect_attempts += 1
        self._state = "reconnecting"
        self._observer.on_retry(self._attempt, delay, retry.reason)
        self._log(
            level,
            f"{retry.message}; reconnecting in {delay:.3f} s (attempt {self._attempt})",
        )
        wake = self._wake
        if delay > 0 and wake is not None and not self._restart_requested:
            if not self._closed:
                wake.clear()
            try:
                async with asyncio.timeout(delay):
                    await wake.wait()
            except TimeoutError:
                pass
        self._restart_requested = False  # the reconnection is happening now

    def _describe_drop(self, reason: str, error: BaseException | None) -> str:
        where = self.options.display_endpoint
        if reason == "keepalive_timeout":
            return (
                f"no bytes from {where} for {self.options.keepalive_timeout_ms} ms "
                "(keepalive_timeout_ms)"
            )
        if reason == "eof":
            return f"{where} ended the stream"
        text = str(error) or type(error).__name__
        if self._request is not None:
            text = self._request.scrub(text)
        return f"connection to {where} broke: {text}"

    # -- keep-alive watchdog ------------------------------------------------------------

    def _start_watchdog(self, response: aiohttp.ClientResponse) -> None:
        timeout_ms = self.options.keepalive_timeout_ms
        if not timeout_ms:
            return
        limit = timeout_ms / 1000
        loop = asyncio.get_running_loop()

        def check() -> None:
            since = self._read_since
            now = monotonic()
            if since is not None and now - since >= limit:
                self._watchdog = None
                response.content.set_exception(_KeepaliveTimeout())
                return
            wait = limit - (now - since) if since is not None else limit
            self._watchdog = loop.call_later(wait, check)

        self._watchdog = loop.call_later(limit, check)

    # -- plumbing -------------------------------------------------------------------------

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._own_session:
                raise SourceError("the aiohttp session given to EventSource is closed")
            self._session = aiohttp.ClientSession(
                auto_decompress=False,
                timeout=aiohttp.ClientTimeout(total=None),
                read_bufsize=_READ_BUFSIZE,
            )
        return self._session

    async def _close_session(self) -> None:
        session = self._session
        if self._own_session and session is not None and not session.closed:
            self._session = None
            await session.close()

    def _log(self, level: str, message: str) -> None:
        logger.log(_LOG_LEVELS[level], message)
        self._observer.on_log(level, message)


def _inflater(content_encoding: str, max_ratio: int = 0) -> _Inflater | None:
    """The incremental decoder for a Content-Encoding, or None for an identity body."""
    encoding = _ENCODINGS.get(content_encoding.strip().lower())
    return None if encoding is None else _Inflater(encoding, max_ratio)


class _Inflater:
    """gzip/deflate, decoded as bytes arrive, in slices of at most _INFLATE_SLICE bytes.

    Bounded output per call makes a decompression bomb cost time, never memory: the
    caller feeds each slice to the decoder before asking for the next one.
    """

    def __init__(self, encoding: str, max_ratio: int = 0) -> None:
        self._wbits = 31 if encoding == "gzip" else 0  # 0: deflate, sniffed on 2 bytes
        self._head = b""
        self._d: Any = None
        self._max_ratio = max_ratio
        self.bytes_in = 0
        self.bytes_out = 0

    def _check_ratio(self) -> None:
        if (
            self._max_ratio
            and self.bytes_out > RATIO_CHECK_AFTER
            and self.bytes_out > self._max_ratio * self.bytes_in
        ):
            raise SSEProtocolError(
                f"the compressed response inflated {self.bytes_in} bytes into "
                f"{self.bytes_out} (more than max_decompression_ratio = {self._max_ratio} "
                "to 1): a compression bomb? Raise max_decompression_ratio (0 = no limit) "
                "if the stream is really that repetitive"
            )

    def __call__(self, data: bytes) -> Iterator[bytes]:
        self.bytes_in += len(data)
        d = self._d
        if d is None:
            if not self._wbits:  # zlib-wrapped (as RFC 9110 says) or raw (as IIS sends)
                data = self._head + data
                if len(data) < 2:
                    self._head = data
                    return
                wrapped = (data[0] & 0x0F) == 8 and ((data[0] << 8) | data[1]) % 31 == 0
                self._wbits = 15 if wrapped else -15
            d = self._d = zlib.decompressobj(self._wbits)
        while data:
            out = d.decompress(data, _INFLATE_SLICE)
            if out:
                self.bytes_out += len(out)
                self._check_ratio()
                yield out
            data = d.unconsumed_tail
            if d.eof:  # a gzip stream may hold several members
                data = d.unused_data
                d = self._d = zlib.decompressobj(self._wbits)


def _until(items: list[Any], end_data: str) -> tuple[list[Any], bool]:
    """The items before the first event whose data is ``end_data``, and whether it came."""
    for index, item in enumerate(items):
        if type(item) is SSEEvent and item.data == end_data:
            return items[:index], True
    return items, False


def _excerpt(body: str) -> str:
    text = " ".join(body.split())
    if not text:
        return ""
    if len(text) > _BODY_EXCERPT:
        text = text[: _BODY_EXCERPT - 3] + "..."
    return f" — response body: {text!r}"


def _auth_hint(opts: ConnectionOptions) -> str:
    if opts.auth_type == "bearer":
        source = "token_file" if opts.token_file else "token"
        return (
            f"Check auth_type ('bearer') and {source}: it is sent as "
            "'Authorization: Bearer <token>'."
        )
    if opts.auth_type == "api_key":
        return (
            f"Check auth_type ('api_key'), api_key and api_key_header: the key is sent "
            f"in the header {opts.api_key_header!r}."
        )
    if any(name.lower() == "authorization" for name in opts.headers):
        return "Check the Authorization header given in headers: the server refused it."
    return (
        "No credentials were sent (auth_type = 'none'): set auth_type = 'bearer' with "
        "token, or auth_type = 'api_key' with api_key (and api_key_header)."
    )


_UA: list[str] = []


def _user_agent() -> str:
    if not _UA:
        try:
            from importlib.metadata import version

            _UA.append(f"laminar/{version('laminar')}")
        except Exception:
            _UA.append("laminar")
    return _UA[0]


__all__ = ["HEALTHY_AFTER_S", "STATES", "EventSource", "SourceStats"]
