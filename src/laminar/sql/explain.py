"""``EXPLAIN query``: the stages a continuous query runs on, one row each.

Planned as the query would be, never started: no connection is opened. A row
per stage, in the order batches go through them: the per-batch DuckDB queries
and the stateful operators between them (what they keep, how time moves, what
they emit). A query that reads no stream runs once; it says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from laminar.sql.executor import BatchQuery
from laminar.sql.staged import StagedQuery

if TYPE_CHECKING:
    from laminar.runtime.operators.aggregate import AggregateOperator

COLUMNS = ["step", "operator", "detail"]


def stages(query: BatchQuery | StagedQuery) -> list[tuple[int, str, str]]:
    """``query``'s stages as (step, operator, detail) rows."""
    parts = [query] if isinstance(query, BatchQuery) else query.stages
    rows: list[tuple[int, str, str]] = []
    for step, stage in enumerate(parts, start=1):
        if not isinstance(stage, BatchQuery):
            rows.append((step, *_operator(stage)))
        elif step == 1:
            rows.append((step, "per-batch query", _batch(stage)))
        else:
            rows.append((step, "query", f"DuckDB runs on the rows of step {step - 1} as they "
                         f"come out: {stage.query_sql}"))
    return rows


def one_shot() -> list[tuple[int, str, str]]:
    return [(1, "one-shot query", "reads no stream: DuckDB runs it once, over system tables "
             "and views")]


def _batch(query: BatchQuery) -> str:
    partitions = query.partitions
    split = f", in {partitions} partitions at once" if partitions > 1 else ""
    return f"DuckDB runs on every micro-batch of {query.table}{split}: {query.query_sql}"


def _operator(op: AggregateOperator) -> tuple[str, str]:
    spec = op.spec
    keys = ", ".join(spec.key_exprs) or "one group"
    if op.partial is None:
        state = "the rows themselves (an aggregate that does not merge exactly)"
    elif op.updating:
        state = "partial aggregates, compacted to a row per group as they double"
    else:
        state = "partial aggregates (a row per group and window per batch, merged when emitted)"
    if op.updating:
        what = (
            f"a live top N (QUALIFY {spec.qualify}): every group ranked after each batch, "
            "what entered, changed or left sent as c/u/d"
            if spec.qualify is not None
            else "each group the batch changed, sent as c/u/d"
        )
        return "updating aggregate", f"groups: {keys}; emits {what}; keeps {state}"
    assert spec.window is not None
    time = {
        "event": f"event time, watermark = largest seen - {spec.delay_us // 1000} ms",
        "processing": "arrival time",
        "inherited": "the upstream windows' ends",
    }[spec.time_mode]
    return (
        "window",
        f"{spec.window.describe()} by {keys}; time: {time}; emits each window once, when "
        f"the watermark passes its end; keeps {state}",
    )
