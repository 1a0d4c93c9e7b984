"""The planned query as the pipeline's query operator (laminar.runtime.operator.QueryStage).

A query over a stream is planned (laminar.sql.planner) into either one
per-batch DuckDB query (``BatchQuery``: filters, projections) or a chain of
them and of window / group operators (``StagedQuery``). ``QueryOperator`` puts
either behind one interface: a batch's partitions in, output rows out in the
sink's shape (Arrow tables, or JSON texts made by DuckDB); ticks and the flush
at the end of the stream reach the window operators; their states are
checkpointed one entry per operator name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar, cast

import pyarrow as pa

from laminar.runtime.operator import ARROW_ROWS, JSON_ROWS, Rows
from laminar.runtime.stats import PipelineStats
from laminar.runtime.time import NO_TIME
from laminar.sql.executor import BatchQuery
from laminar.sql.staged import StagedQuery

T = TypeVar("T")


class QueryOperator(Generic[T]):
    """See the module docstring. ``rows`` is ARROW_ROWS or JSON_ROWS."""

    name = "query"

    def __init__(self, query: BatchQuery | StagedQuery, rows: Rows[T]) -> None:
        self.query = query
        self.rows = rows
        self.staged = query if isinstance(query, StagedQuery) else None
        self.stateful = self.staged is not None
        self._json = rows.kind == "json"

    def process(self, partitions: Sequence[pa.Table] | None, watermark: int | None) -> T:
        """The rows of one batch (``None``: a tick, time moved without a batch)."""
        del watermark  # the source gives none: time is the window operators' (planner)
        if partitions is None:
            assert self.staged is not None, "only a stateful query is ticked"
            return self._out(self.staged.tick())
        if self._json:
            return cast(T, self.query.run_json(partitions))
        return cast(T, self.query.run(partitions))

    def flush(self) -> T:
        """The end of the stream: every open window (nothing for a per-batch query)."""
        if self.staged is not None:
            return self._out(self.staged.finish())
        if self._json:
            return cast(T, [])
        return cast(T, self.query.run([self.query.schema.empty_table()]))

    def _out(self, table: pa.Table) -> T:
        assert self.staged is not None
        return cast(T, self.staged.to_json(table) if self._json else table)

    def count(self, rows: pa.Table) -> int:
        return int(self.query.run([rows]).num_rows)

    def note_state(self, stats: PipelineStats) -> None:
        """Copy the window operators' figures (late rows, watermark, state size) to ``stats``."""
        staged = self.staged
        if staged is None:
            return
        stats.events_late = staged.late
        watermark = staged.watermark
        stats.watermark = watermark if watermark is not None and watermark > NO_TIME else None
        stats.state_rows, stats.state_bytes, stats.state_spilled_bytes = staged.state_size

    def snapshot(self) -> dict[str, bytes]:
        return self.staged.snapshot() if self.staged is not None else {}

    def misfit(self, states: Mapping[str, bytes]) -> str | None:
        return self.staged.misfit(dict(states)) if self.staged is not None else None

    def restore(self, states: Mapping[str, bytes]) -> None:
        if self.staged is not None:
            self.staged.restore(dict(states))

    def close(self) -> None:
        self.query.close()


def query_operator(query: BatchQuery | StagedQuery, kind: str) -> QueryOperator[Any]:
    """The operator giving ``kind`` ("json" or "arrow") rows."""
    if kind == "json":
        return QueryOperator(query, JSON_ROWS)
    return QueryOperator(query, ARROW_ROWS)
