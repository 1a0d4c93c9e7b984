"""Continuous queries run as pipelines: a query, its sink and its checkpoint.

``run_query`` builds a query's sink (the sink table of an INSERT INTO, or
stdout for a plain SELECT) and runs the query's pipeline into it with
``laminar.runtime.pipeline.run_into``, resumed from its committed checkpoint
when the table has ``persist_event_id = true`` and a state store is given.
``run_all`` runs several concurrently (``run_together``: one TaskGroup) until
they all end; the first failure stops the others (each still flushes its sink
and commits) and is raised.

Where the first connection resumes (``Last-Event-ID``), by precedence:
1. the committed id of this pipeline in the state store;
2. the table's (or connection's) ``last_event_id`` option, e.g. ``'${LAST_PROCESSED_ID}'``;
3. none.

The checkpoint is kept per pipeline, keyed ``<source table>-><sink table>``
(``stdout`` for a SELECT), so two pipelines reading one table commit
independently.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from laminar.runtime.commit import DEFAULT_TICK_S
from laminar.runtime.pipeline import run_into, run_together
from laminar.runtime.state import StateStore
from laminar.sinks import Sink, build_sink
from laminar.sinks.stdout import StdoutSink
from laminar.sql.continuous import ContinuousQuery


def pipeline_key(query: ContinuousQuery) -> str:
    target = query.sink.name if query.sink is not None else "stdout"
    return f"{query.table}->{target}"


def persists(query: ContinuousQuery) -> bool:
    return bool(query.source.table.connection.persist_event_id)


async def run_query(
    query: ContinuousQuery,
    *,
    state: StateStore | None = None,
    sink: Sink | None = None,
    key: str | None = None,
    env: Mapping[str, str] | None = None,
    tick_s: float = DEFAULT_TICK_S,
) -> Sink:
    """Run one query to its end into its sink; returns the (closed) sink."""
    key = key or pipeline_key(query)
    store = state if state is not None and persists(query) else None
    if sink is None:
        sink = (
            build_sink(query.sink.name, query.sink.spec, env)
            if query.sink is not None
            else StdoutSink(query.table)
        )
    try:
        pipeline = query.start(sink.kind)
        await run_into(pipeline, sink, store=store, key=key, table=query.table, tick_s=tick_s)
    finally:
        query.close()
    return sink


async def run_all(
    queries: Sequence[ContinuousQuery],
    *,
    state: StateStore | None = None,
    sinks: Sequence[Sink | None] | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Run every query concurrently until all end (see the module docstring)."""
    keys: list[str] = []
    for query in queries:
        key = pipeline_key(query)
        n = 2
        while key in keys:  # two SELECTs over one table: separate checkpoints
            key = f"{pipeline_key(query)}#{n}"
            n += 1
        keys.append(key)
    chosen = list(sinks) if sinks is not None else [None] * len(queries)
    jobs = [
        (k, functools.partial(run_query, q, state=state, sink=s, key=k, env=env))
        for q, s, k in zip(queries, chosen, keys, strict=True)
    ]
    try:
        await run_together(jobs)
    finally:
        for query in queries:
            query.close()
