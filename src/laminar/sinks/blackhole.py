"""The blackhole sink: counts rows and throws them away (benchmarks, dry runs)."""

from __future__ import annotations

from typing import Any

from laminar.sinks.base import Sink


class BlackholeSink(Sink):
    connector = "blackhole"
    kind = "arrow"  # no JSON rendering: measures the pipeline, not the serializer

    async def write(self, rows: Any) -> None:
        self.rows_written += len(rows)
