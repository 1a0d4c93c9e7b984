"""A sink that hands every batch to another sink and to the console's output tail.

The inner sink keeps its guarantees (the two-phase commit is its own); the tail
gets a copy of each batch as JSON object texts, after the inner write, without
blocking. ``inner=None`` is the console's own sink for a plain SELECT: rows go
to the tail only.
"""

from __future__ import annotations

from typing import Any

from laminar.console.tail import OutputTail
from laminar.formats.columns import TYPE_METADATA_KEY
from laminar.output import row_json
from laminar.sinks.base import Sink


class TeeSink(Sink):
    def __init__(self, table: str, tail: OutputTail, inner: Sink | None = None) -> None:
        super().__init__(table)
        self.tail = tail
        self.inner = inner
        self.kind = inner.kind if inner is not None else "json"  # type: ignore[misc]
        if inner is not None:
            self.min_checkpoint_interval_s = inner.min_checkpoint_interval_s

    @property
    def connector(self) -> str:  # type: ignore[override]
        return self.inner.connector if self.inner is not None else "console"

    async def open(self) -> None:
        if self.inner is not None:
            self.inner.pipeline = self.pipeline
            await self.inner.open()

    async def recover(self, txn: Any) -> None:
        if self.inner is not None:
            await self.inner.recover(txn)

    async def write(self, rows: Any) -> None:
        if self.inner is not None:
            try:
                await self.inner.write(rows)
            finally:
                self.failed = self.inner.failed
        texts = rows if self.kind == "json" else _json_rows(rows)
        self.rows_written += len(texts)
        self.tail.publish(texts)

    async def flush(self) -> None:
        if self.inner is not None:
            await self.inner.flush()

    async def prepare(self) -> Any:
        return await self.inner.prepare() if self.inner is not None else None

    async def publish(self, txn: Any) -> None:
        if self.inner is not None:
            await self.inner.publish(txn)

    async def tick(self) -> None:
        if self.inner is not None:
            try:
                await self.inner.tick()
            finally:
                self.failed = self.failed or self.inner.failed

    async def close(self) -> None:
        if self.inner is not None:
            await self.inner.close()


def _json_rows(table: Any) -> list[str]:
    """An Arrow sink's rows as the JSON texts of stdout (JSON columns as JSON, NaN null)."""
    columns = table.column_names
    types = [
        "JSON" if (f.metadata or {}).get(TYPE_METADATA_KEY) == b"JSON" else "" for f in table.schema
    ]
    return [row_json(columns, row, types) for row in zip(*table.to_pydict().values(), strict=True)]
