"""A continuous query: an SSE table's micro-batches through DuckDB, rows out as they come.

The planned query (laminar.sql.planner) runs as a pipeline of operators
(laminar.runtime.pipeline): source -> head operators -> query operator
(laminar.sql.stage) -> LIMIT. It ends when ``limit`` rows have been produced,
when the source ends for good (the server answered 204), or when it is closed;
a source that gives up (attempts exhausted, 401, …) raises its error.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import pyarrow as pa

from laminar.connectors.sse.source import SSETableSource, source_head
from laminar.runtime.operator import ARROW_ROWS, JSON_ROWS, Rows
from laminar.runtime.operators.limit import Limit
from laminar.runtime.pipeline import TICK_S, Pipeline
from laminar.runtime.stats import PipelineStats
from laminar.sql.executor import BatchQuery
from laminar.sql.stage import QueryOperator
from laminar.sql.staged import StagedQuery

__all__ = ["TICK_S", "ContinuousQuery"]

_ids = itertools.count(1)


class ContinuousQuery:
    """See the module docstring. Iterate ``arrow_batches()`` or ``json_batches()`` once."""

    def __init__(
        self,
        sql: str,
        source: SSETableSource,
        query: BatchQuery | StagedQuery,
        *,
        limit: int | None = None,
        on_close: Callable[[ContinuousQuery], None] | None = None,
    ) -> None:
        self.id = next(_ids)
        self.sql = sql
        self.source = source
        self.head = source_head(source)  # replay check, filter, dedup, partitions
        self.query = query
        self.limit = limit
        self.stats: PipelineStats = source.stats
        self.stats.query_id = self.id
        self.columns = query.columns
        self.types = query.types
        self._on_close = on_close
        self._closed = False
        self.pipeline: Pipeline[Any] | None = None  # made when the query starts running
        self.sink: Any = None  # the sink table's definition for INSERT INTO; None: stdout
        self.monitor: Any = None  # laminar.observability QueryMonitor, set by the engine
        self.tick_s = TICK_S

    @property
    def staged(self) -> StagedQuery | None:
        """The operators' chain when the query aggregates (windows, GROUP BY), else None."""
        return self.query if isinstance(self.query, StagedQuery) else None

    @property
    def table(self) -> str:
        return self.source.table.name

    @property
    def position(self) -> str:
        """The last event id covered by the batch most recently produced."""
        return self.pipeline.position if self.pipeline is not None else ""

    @property
    def dedup_mark(self) -> int:
        """The de-duplication state as of that batch."""
        return self.pipeline.dedup_mark if self.pipeline is not None else 0

    @property
    def dedup_entries(self) -> int:
        """Keys held by the de-duplication window (0 without deduplicate_by)."""
        return self.head.dedup.keys_held if self.head.dedup is not None else 0

    # -- running ----------------------------------------------------------------------

    def start(self, kind: str = "json") -> Pipeline[Any]:
        """The pipeline of a run giving ``kind`` rows ("json" texts or "arrow" tables)."""
        return self._start(JSON_ROWS if kind == "json" else ARROW_ROWS)

    def _start(self, rows: Rows[Any]) -> Pipeline[Any]:
        self.pipeline = Pipeline(
            self.source,
            self.head,
            QueryOperator(self.query, rows),
            Limit(self.limit, rows),
            self.stats,
            tick_s=self.tick_s,
            monitor=self.monitor,
        )
        return self.pipeline

    async def arrow_batches(self) -> AsyncGenerator[pa.Table, None]:
        """Non-empty Arrow tables of result rows, in order."""
        try:
            async with contextlib.aclosing(self._start(ARROW_ROWS).run()) as batches:
                async for rows in batches:
                    yield rows
        finally:
            self.close()

    async def json_batches(self) -> AsyncIterator[list[str]]:
        """Non-empty lists of result rows as JSON object texts, in order."""
        try:
            async with contextlib.aclosing(self._start(JSON_ROWS).run()) as batches:
                async for rows in batches:
                    yield rows
        finally:
            self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.stats.state in ("starting", "running"):
            self.stats.state = "stopped"
        self.query.close()
        if self._on_close is not None:
            self._on_close(self)
