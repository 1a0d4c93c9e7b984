"""Continuous queries run as pipelines: a query, its sink and its checkpoint.

``run_query`` resumes a query's source from its committed checkpoint (when
the table has ``persist_event_id = true`` and a state store is given), then
drives it through ``laminar.runtime.commit.run_pipeline`` into its sink: the
sink table of an INSERT INTO, or stdout for a plain SELECT. ``run_all`` runs
several concurrently until they all end; the first failure stops the others
(each still flushes its sink and commits) and is raised.

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
import logging
from collections.abc import Mapping, Sequence

from laminar.runtime.commit import DEFAULT_TICK_S, Committer, run_pipeline
from laminar.runtime.pipeline import run_together
from laminar.runtime.state import StateStore
from laminar.sinks import Sink, build_sink
from laminar.sinks.stdout import StdoutSink
from laminar.sql.continuous import ContinuousQuery

logger = logging.getLogger("laminar.runtime")

STATEFUL_CHECKPOINT_INTERVAL_S = 1.0


def pipeline_key(query: ContinuousQuery) -> str:
    target = query.sink.name if query.sink is not None else "stdout"
    return f"{query.table}->{target}"


def persists(query: ContinuousQuery) -> bool:
    return bool(query.source.table.connection.persist_event_id)


def restore(query: ContinuousQuery, state: StateStore, key: str) -> str | None:
    """Point the query's source at its committed checkpoint; the id resumed after, if any."""
    checkpoint = state.checkpoint(key)
    if checkpoint is None:
        return None
    query.restore(checkpoint.last_event_id, checkpoint.states)
    logger.info("pipeline %s resumes after event id %r", key, checkpoint.last_event_id)
    return checkpoint.last_event_id


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
    if store is not None:
        restore(query, store, key)
    if sink is None:
        sink = (
            build_sink(query.sink.name, query.sink.spec, env)
            if query.sink is not None
            else StdoutSink(query.table)
        )
    staged = query.staged
    # The head operators (dedup) give their state as of the last batch handed (its mark):
    # safe even while the source works on the next one. The query's operators are not: a
    # stateful query is snapshotted at the barrier only (its iterator yields a batch every
    # tick).
    committer = Committer(store, key, query.table, query.snapshot)
    try:
        await run_pipeline(
            query.positioned_batches(sink.kind),
            sink,
            committer,
            tick_s=tick_s,
            # Window and group state can be large: snapshot it once a second, not per batch.
            checkpoint_interval_s=STATEFUL_CHECKPOINT_INTERVAL_S if staged is not None else 0.0,
            snapshot_anytime=staged is None,
        )
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
