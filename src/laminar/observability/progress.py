"""The live progress line of ``laminar run`` on a terminal, and log lines that respect it.

``ProgressLine(hub, out)`` redraws one status line on ``out`` (stderr) every
``interval`` seconds: per running query, its table, connection state, events/s,
bytes/s, event lag (p50 / p99, arrival -> commit), reconnects and errors. It
draws with ``\\r`` and erase-line only, so it never scrolls.

Rows go to stdout, which is usually the same terminal: whoever writes rows
calls ``clear()`` first (the line disappears) and ``draw()`` after, so rows and
the status line never share a line. ``TerminalLogHandler`` does the same for
WARNING and ERROR records of the "laminar" loggers, printed on ``out`` as
``laminar: LEVEL table: message``.

``format_status(rows)`` renders connector_status rows for ``laminar status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from laminar.observability.hub import Observability
    from laminar.observability.monitor import QueryMonitor

_ERASE = "\r\x1b[2K"
_STATE_MARK = {
    "connected": "●",
    "connecting": "◌",
    "reconnecting": "↻",
    "disconnected": "○",
    "failed": "✖",
    "idle": "·",
}


class ProgressLine:
    """See the module docstring."""

    def __init__(self, hub: Observability, out: TextIO, interval: float = 0.5) -> None:
        self.hub = hub
        self.out = out
        self.interval = interval
        self._shown = False
        self._had_queries = False
        self._task: asyncio.Task[None] | None = None
        self.lock = threading.RLock()  # rows are written from worker threads

    def text(self, width: int = 200) -> str:
        parts = [_describe(m) for m in self.hub.live()]
        if parts:
            self._had_queries = True
            line = "  ".join(parts)
        else:  # before the first query starts, or after the last one stopped (Ctrl-C)
            line = "laminar: stopping" if self._had_queries else "laminar: waiting for queries"
        return line if len(line) <= width else line[: width - 1] + "…"

    def draw(self) -> None:
        text = self.text(_width(self.out))
        with self.lock, contextlib.suppress(OSError, ValueError):
            self.out.write(_ERASE + text)
            self.out.flush()
            self._shown = True

    def clear(self) -> None:
        with self.lock:
            if self._shown:
                with contextlib.suppress(OSError, ValueError):
                    self.out.write(_ERASE)
                    self.out.flush()
                self._shown = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="laminar-progress")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.clear()

    async def _run(self) -> None:
        while True:
            self.draw()
            await asyncio.sleep(self.interval)


class ProgressStream:
    """A text stream (stdout) that clears the progress line before writing rows.

    ``flush`` redraws it. Anything else is the wrapped stream's.
    """

    def __init__(self, out: TextIO, progress: ProgressLine) -> None:
        self._out = out
        self._progress = progress

    def write(self, text: str) -> int:
        with self._progress.lock:
            self._progress.clear()
            return self._out.write(text)

    def flush(self) -> None:
        self._out.flush()
        self._progress.draw()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._out, name)


class TerminalLogHandler(logging.Handler):
    """WARNING+ records on the terminal, printed around the progress line."""

    def __init__(self, out: TextIO, progress: ProgressLine | None = None) -> None:
        super().__init__(logging.WARNING)
        self.out = out
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR and record.name == "laminar.connectors.sse":
            return  # the client raises it too: the command prints it once, as its error
        try:
            text = f"laminar: {record.levelname} {record.getMessage()}\n"
        except Exception:
            text = f"laminar: {record.levelname} {record.msg}\n"
        if self.progress is not None:
            self.progress.clear()
        with contextlib.suppress(OSError, ValueError):
            self.out.write(text)
            self.out.flush()
        if self.progress is not None:
            self.progress.draw()


def _describe(m: QueryMonitor) -> str:
    state = m.connection_state
    events_s, bytes_s = m.rates()
    lag = m.series.event_lag
    p50, p99 = lag.quantile(0.5), lag.quantile(0.99)
    client = m.client
    reconnects = client.stats.reconnect_attempts if client else 0
    errors = m.stats.parse_errors + m.hub.logs.counts.get("ERROR", 0)
    lag_text = f"lag ≤{_ms(p50)}/{_ms(p99)}" if p50 is not None and p99 is not None else "lag -"
    return (
        f"{_STATE_MARK.get(state, '?')} {m.table} {state} │ {events_s:,.0f} ev/s │ "
        f"{_bytes(bytes_s)}/s │ {lag_text} │ reconnects {reconnects} │ errors {errors}"
    )


def _ms(value: float) -> str:
    if value == float("inf"):
        return "∞"
    return f"{value / 1000:g} s" if value >= 1000 else f"{value:g} ms"


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _width(out: TextIO) -> int:
    import shutil

    return max(shutil.get_terminal_size((120, 24)).columns - 1, 20)


# -- laminar status ---------------------------------------------------------------------------


def format_status(summary: Mapping[str, Any]) -> str:
    """A readable report of a ``/status`` summary (see laminar.observability.server)."""
    lines = [
        f"laminar: {summary.get('status', '?')} · up {_duration(summary.get('uptime_s', 0))}"
    ]
    sources: Sequence[Mapping[str, Any]] = summary.get("sources") or []
    if not sources:
        lines.append("  no SSE tables")
    for s in sources:
        head = f"  {_STATE_MARK.get(s.get('status') or '', '?')} {s['table_name']}"
        if s.get("connection_name"):
            head += f" (connection {s['connection_name']})"
        head += f": {s.get('status')}"
        if s.get("query_id") is not None:
            head += f", query {s['query_id']} {s.get('query_state')}"
        lines.append(head)
        if s.get("endpoint"):
            lines.append(f"      endpoint   {s['endpoint']}")
        if s.get("query_id") is None:
            continue
        lines.append(
            f"      events     {s.get('events_received') or 0:,} received, "
            f"{s.get('events_per_second') or 0:,.1f}/s · "
            f"{_bytes(s.get('bytes_received') or 0)} ({_bytes(s.get('bytes_per_second') or 0)}/s)"
        )
        lines.append(
            f"      rows       {s.get('rows_emitted') or 0:,} emitted · filtered "
            f"{s.get('events_filtered') or 0:,} · deduplicated "
            f"{s.get('events_deduplicated') or 0:,} · parse errors {s.get('parse_errors') or 0:,}"
        )
        p50, p99 = s.get("lag_p50_ms"), s.get("lag_p99_ms")
        lag = f"p50 ≤ {_ms(p50)}, p99 ≤ {_ms(p99)}" if p50 is not None and p99 is not None else "-"
        lines.append(
            f"      lag        {lag} · batches {s.get('batches') or 0:,}, avg "
            f"{s.get('avg_processing_time_ms') or 0:.2f} ms · buffer "
            f"{(s.get('buffer_occupancy') or 0) * 100:.0f}%"
        )
        lines.append(
            f"      reconnects {s.get('reconnect_attempts') or 0} · last event id "
            f"{s.get('last_event_id') or '-'} at {s.get('last_event_at') or '-'}"
        )
        if s.get("last_error"):
            lines.append(f"      last error {s['last_error']}")
    problems = summary.get("recent_problems") or []
    if problems:
        lines.append("recent warnings and errors:")
        for p in problems[-5:]:
            lines.append(f"  {p['level']:<7} {p.get('table') or '-'}: {p['message']}")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s" if m else f"{s}s"
