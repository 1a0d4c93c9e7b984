"""The stdout sink: JSON lines (one object per row) on standard output, or a live table.

Writes happen in a worker thread so a stalled reader of the pipe stalls the
pipeline (back-pressure), not the event loop. ``flush`` (at each checkpoint's
``prepare`` and every tick) flushes the stream: a row is delivered once it is
in the pipe. Rows are visible as soon as they are written, so stdout is
at-least-once: after a crash, the rows written after the last checkpoint are
written again.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from laminar.sinks.base import Sink, json_lines


class StdoutSink(Sink):
    connector = "stdout"

    def __init__(
        self,
        table: str,
        out: TextIO | None = None,
        *,
        pretty: bool = False,
        columns: Sequence[str] = (),
        title: str | None = None,
        keys: Sequence[str] | None = None,
    ) -> None:
        super().__init__(table)
        self._out = out
        self._pretty = pretty
        self._live: Any = None
        if pretty:
            from laminar.output import LiveTable, UpdatingTable

            self.kind = "arrow"  # type: ignore[misc]
            if keys is not None and columns and columns[-1] == "op":
                # an updating result: the current row per group, redrawn in place
                self._live = UpdatingTable(self.out, list(columns), list(keys), title)
            else:
                self._live = LiveTable(self.out, list(columns), title)

    @property
    def out(self) -> TextIO:
        return self._out if self._out is not None else sys.stdout

    async def write(self, rows: Any) -> None:
        if self._pretty:
            self._live.write_rows([tuple(row.values()) for row in rows.to_pylist()])
            self.rows_written += rows.num_rows
            return
        await asyncio.to_thread(_write_lines, self.out, rows)
        self.rows_written += len(rows)

    async def flush(self) -> None:
        try:
            await asyncio.to_thread(self.out.flush)
        except (OSError, ValueError):
            self.failed = True  # the reader went away: what was buffered is lost
            raise

    async def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # the reader went away
            await self.flush()


def _write_lines(out: TextIO, rows: list[str]) -> None:
    for text in json_lines(rows):
        out.write(text)
