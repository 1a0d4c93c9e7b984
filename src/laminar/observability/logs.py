"""Connector logs: structured, levelled records of running pipelines, in a bounded ring.

Contract:

* A ``LogRing`` holds the last ``capacity`` entries (10,000 by default) of one
  engine; older ones go. Each entry carries its time, level, connector, table,
  connection and query id, the logger name and the message.
* Records reach a ring two ways:
  - the SSE client's own records (connected, reconnecting, 204, fatal errors)
    through its observer's ``on_log`` hook: ``LogContext.record`` — every level,
    whatever the logging configuration;
  - any other record of a "laminar.*" logger, through ``RingHandler`` (installed
    once on the "laminar" logger by ``install()``), at the levels the
    application's logging configuration enables. It is filed under the pipeline
    that was running when it was logged: a running query sets a
    ``contextvars.ContextVar`` (``LogContext.enter``) that the tasks it starts
    inherit. Records logged outside any pipeline are not kept.
* The handler skips the SSE client's logger (``laminar.connectors.sse``), whose
  records arrive through the observer, so nothing is stored twice.
* Messages are stored as the caller wrote them. The SSE client scrubs secrets
  from its messages and never logs headers; nothing here adds request data.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

DEFAULT_CAPACITY = 10_000
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class LogEntry(NamedTuple):
    """One connector log record."""

    timestamp: float  # epoch seconds
    level: str  # DEBUG | INFO | WARNING | ERROR | CRITICAL
    connector: str
    table: str | None
    connection: str | None
    query_id: int | None
    logger: str
    message: str


class LogRing:
    """The last ``capacity`` log entries of one engine, oldest first."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self.counts: dict[str, int] = dict.fromkeys(LEVELS, 0)  # over the ring's whole life

    @property
    def capacity(self) -> int:
        return self._entries.maxlen or 0

    def append(self, entry: LogEntry) -> None:
        self._entries.append(entry)
        self.counts[entry.level] = self.counts.get(entry.level, 0) + 1

    def snapshot(self) -> list[LogEntry]:
        """A copy of the entries (safe to call from another thread)."""
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class LogContext:
    """Where the records logged by one running query go, and what they are tagged with."""

    ring: LogRing
    connector: str
    table: str | None
    connection: str | None
    query_id: int | None

    def enter(self) -> contextvars.Token[LogContext | None]:
        """Make this the current context (tasks started from now on inherit it)."""
        return _current.set(self)

    @staticmethod
    def leave(token: contextvars.Token[LogContext | None]) -> None:
        with contextlib.suppress(ValueError):  # reset from another context: nothing to undo
            _current.reset(token)

    def record(self, level: str, message: str, logger: str = "laminar.connectors.sse") -> None:
        """Store one entry; ``level`` is a logging level name, any case."""
        self.ring.append(
            LogEntry(
                time.time(),
                level.upper(),
                self.connector,
                self.table,
                self.connection,
                self.query_id,
                logger,
                message,
            )
        )

    def log(self, level: int, message: str) -> None:
        """Store ``message`` and log it on the "laminar.pipeline" logger too."""
        self.record(logging.getLevelName(level), message, _pipeline_logger.name)
        _pipeline_logger.log(level, message, extra={_STORED: True})


_current: contextvars.ContextVar[LogContext | None] = contextvars.ContextVar(
    "laminar_log_context", default=None
)
_pipeline_logger = logging.getLogger("laminar.pipeline")
_STORED = "laminar_stored"  # a record already put in a ring by LogContext.log
OBSERVED_LOGGERS = frozenset({"laminar.connectors.sse"})  # these come via on_log


class RingHandler(logging.Handler):
    """Copies "laminar" records into the ring of the current ``LogContext``."""

    def emit(self, record: logging.LogRecord) -> None:
        context = _current.get()
        if context is None or record.name in OBSERVED_LOGGERS or hasattr(record, _STORED):
            return
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not break the pipeline
            message = str(record.msg)
        context.ring.append(
            LogEntry(
                record.created,
                record.levelname,
                context.connector,
                context.table,
                context.connection,
                context.query_id,
                record.name,
                message,
            )
        )


_install_lock = threading.Lock()
_handler: RingHandler | None = None


def install() -> RingHandler:
    """Attach the ring handler to the "laminar" logger, once per process."""
    global _handler
    with _install_lock:
        if _handler is None:
            _handler = RingHandler(logging.DEBUG)
            logging.getLogger("laminar").addHandler(_handler)
        return _handler
