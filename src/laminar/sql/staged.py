"""A planned chain of stages, run batch by batch (``StagedQuery``).

``laminar.sql.planner`` cuts a query over a stream into stages (``Built``): per-batch
DuckDB queries and the stateful operators between them. Running them needs no
SQL analysis, so this module imports no SQL parser: a process that runs only
plain queries (``laminar.sql.plain``) never loads one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from laminar.runtime.time import wall_clock
from laminar.sql.executor import BatchQuery, json_lines_sql

if TYPE_CHECKING:  # the stages that are not a BatchQuery (not loaded for plain queries)
    from laminar.runtime.operators.aggregate import AggregateOperator


JSON_SLICE_ROWS = 65_536  # rows turned into JSON texts at a time


@dataclass(frozen=True)
class WindowNames:
    """How a query over a windowed result may name its window, as lower-case column
    references ("window", "window.end", "window_end"…; see planner.check_ranking).

    ``partition``: rows that agree on one of these always come out in the same batch.
    ``order``: those whose ascending order is the order windows come out in.
    """

    partition: frozenset[str] = frozenset()
    order: frozenset[str] = frozenset()

    def kept(self, columns: Sequence[str]) -> WindowNames:
        """The names whose column is still among ``columns`` (a query's output)."""
        present = {c.lower() for c in columns}
        return self.where(lambda column: column in present)

    def where(self, keep: Callable[[str], bool]) -> WindowNames:
        """The names whose column (``window`` of ``window.end``) passes ``keep``."""
        return WindowNames(
            frozenset(k for k in self.partition if keep(k.split(".")[0])),
            frozenset(k for k in self.order if keep(k.split(".")[0])),
        )


@dataclass
class Built:
    """A planned chain: its stages and what its output rows are."""

    stages: list[BatchQuery | AggregateOperator]
    columns: list[str]
    types: list[str]
    schema: pa.Schema
    time: str | None  # SQL over the output giving each row's event time; None: arrival
    updating: bool
    keys: list[str] | None = None  # output columns naming a group of an updating result
    window_names: WindowNames = field(default_factory=WindowNames)


class StagedQuery:
    """A planned chain run batch by batch: ``run`` / ``tick`` / ``finish`` give rows."""

    def __init__(self, built: Built, clock: Callable[[], float] = wall_clock) -> None:
        self.stages = built.stages
        self.columns = built.columns
        self.types = built.types
        self.updating = built.updating
        self.keys = built.keys  # of an updating result: how a terminal finds a row again
        self.operators = [s for s in self.stages if not isinstance(s, BatchQuery)]
        self._json: duckdb.DuckDBPyConnection | None = None  # made at the first JSON row
        self._json_sql = json_lines_sql(self.columns, self.types, "SELECT * FROM __laminar_out")
        self.watermark: int | None = None
        self._state_size = (0, 0, 0)
        self._first = self.stages[0]
        assert isinstance(self._first, BatchQuery)

    @property
    def schema(self) -> pa.Schema:
        return self._first.schema

    def run(self, partitions: Sequence[pa.Table]) -> pa.Table:
        assert isinstance(self._first, BatchQuery)
        return self._through(self._first.run(partitions), 1)

    def tick(self) -> pa.Table:
        return self._through(None, 1)

    def finish(self) -> pa.Table:
        """Every open window, through the rest of the chain (the source ended for good)."""
        outputs = []
        for index, stage in enumerate(self.stages):
            if not isinstance(stage, BatchQuery):
                outputs.append(self._through(stage.finish(), index + 1))
        outputs = [o for o in outputs if o.num_rows]
        if not outputs:
            return self._empty()
        return outputs[0] if len(outputs) == 1 else pa.concat_tables(outputs)

    def _through(self, rows: pa.Table | None, start: int) -> pa.Table:
        watermark = self.watermark
        for stage in self.stages[start:]:
            if not isinstance(stage, BatchQuery):
                emission = stage.process(rows, watermark)
                rows, watermark = emission.rows, emission.watermark
            elif rows is not None:
                rows = stage.run([rows])
        self.watermark = watermark
        self._measure()  # in the worker thread that ran the step: DuckDB is ours here
        return rows if rows is not None else self._empty()

    def _empty(self) -> pa.Table:
        last = self.stages[-1]
        if not isinstance(last, BatchQuery):
            return last.schema.empty_table()
        return last.run([last.schema.empty_table()])

    def run_json(self, partitions: Sequence[pa.Table]) -> list[str]:
        return self.to_json(self.run(partitions))

    def to_json(self, table: pa.Table) -> list[str]:
        if not table.num_rows:
            return []
        if self._json is None:
            self._json = duckdb.connect(":memory:", config={"threads": 1})
        self._json.register("__laminar_out", table)
        try:
            # Slice by slice: a million closing windows never exist twice as JSON
            # (an Arrow column and Python strings) at once.
            reader = self._json.sql(self._json_sql).to_arrow_reader(JSON_SLICE_ROWS)
            texts: list[str] = []
            for chunk in reader:
                texts += chunk.column(0).to_pylist()
            return texts
        finally:
            self._json.unregister("__laminar_out")

    @property
    def state_size(self) -> tuple[int, int, int]:
        """(rows, bytes, spilled bytes) held by the operators: measured after each step."""
        return self._state_size

    def _measure(self) -> None:
        rows = size = spilled = 0
        for op in self.operators:
            rows += op.state_rows
            used, on_disk = op.memory()
            size += used + on_disk
            spilled += on_disk
        self._state_size = (rows, size, spilled)

    @property
    def late(self) -> int:
        return sum(op.late for op in self.operators)

    def snapshot(self) -> dict[str, bytes]:
        return {op.name: op.snapshot() for op in self.operators}

    def misfit(self, states: dict[str, bytes]) -> str | None:
        """Why saved ``states`` are not this chain's (the query changed), or None."""
        for op in self.operators:
            state = states.get(op.name)
            reason = op.misfit(state) if state is not None else None
            if reason is not None:
                return reason
        return None

    def restore(self, states: dict[str, bytes]) -> None:
        for op in self.operators:
            state = states.get(op.name)
            if state is not None:
                op.restore(state)

    def close(self) -> None:
        for stage in self.stages:
            stage.close()
        if self._json is not None:
            self._json.close()
