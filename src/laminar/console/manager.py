"""Pipelines managed over the API: create, stop, restart (with or without state), delete.

With a state store, the pipelines created over the API are saved beside it
(``laminar.console.saved``) and created again by the next ``laminar serve``.

A pipeline is one continuous statement (a SELECT over a stream, or INSERT INTO)
run by ``laminar.sql.pipelines.run_query`` as a task of the console's event
loop, with a ``TeeSink`` that copies its output into its ``OutputTail``. Its
checkpoint key is ``laminar run``'s (``<table>-><sink>``), so a pipeline keeps
its committed position across ``laminar serve`` restarts with a state store.

Restart with state resumes after the committed checkpoint (state store) or,
without a store, after the last event id the previous run covered; restart
without state forgets both and starts from the table's options.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from laminar.console import saved
from laminar.console.tail import OutputTail
from laminar.console.tee import TeeSink
from laminar.errors import LaminarError, SQLError
from laminar.sinks import Sink, build_sink
from laminar.sql import ast
from laminar.sql.continuous import ContinuousQuery
from laminar.sql.engine import Engine, Message, Result, Rows
from laminar.sql.parser import parse_statements
from laminar.sql.pipelines import persists, pipeline_key, run_query

logger = logging.getLogger("laminar.console")


@dataclass
class Pipeline:
    id: str
    name: str
    sql: str  # the continuous statement's text
    tail: OutputTail = field(default_factory=OutputTail)
    state: str = "starting"  # running | stopped | finished | failed
    key: str = ""
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    stopped_at: float | None = None
    error: str | None = None
    query: ContinuousQuery | None = None
    task: asyncio.Task[Any] | None = None
    position: str = ""  # the last event id the previous run covered
    restarts: int = 0
    saved: bool = True  # created over the API (a file's pipelines run again from the file)
    # `laminar run --console`: a SELECT's rows also go where a plain `laminar run` puts them
    echo: Callable[[ContinuousQuery], Sink] | None = None
    store: Any = None  # the engine's StateStore, where its checkpoints are committed
    _samples: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)

    def rows_per_second(self, window_s: float = 10.0) -> float:
        """Rows out per second over about the last ``window_s`` (sampled when asked)."""
        rows = self.query.stats.rows_out if self.query is not None else 0
        return self.rate("rows_out", rows, window_s)

    def rate(self, counter: str, value: int, window_s: float = 10.0) -> float:
        """Per second of a growing ``counter`` over about the last ``window_s``, from the
        values it had when asked before (the graph's nodes, the list's rows/s)."""
        now = time.monotonic()
        samples = self._samples.setdefault(counter, deque(maxlen=64))
        if samples and value < samples[-1][1]:
            samples.clear()  # a restart: the counter started again
        samples.append((now, value))
        while len(samples) > 2 and now - samples[0][0] > window_s:
            samples.popleft()
        (t0, v0), (t1, v1) = samples[0], samples[-1]
        return (v1 - v0) / (t1 - t0) if t1 > t0 else 0.0


class PipelineManager:
    """See the module docstring. Methods run on the console's event loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pipelines: dict[str, Pipeline] = {}
        self._ids = itertools.count(1)
        self._closing = False

    # -- saved pipelines (console-pipelines.json beside the state store) ------------------

    def save(self) -> None:
        store = self.engine.state
        if store is None:
            return
        saved.save(store.directory, [
            {"id": p.id, "name": p.name, "sql": p.sql, "key": p.key,
             "running": p.state in ("running", "starting", "finished")}
            for p in self.pipelines.values() if p.saved
        ])

    def restore(self) -> list[str]:
        """Create the saved pipelines again; those that ran resume after their checkpoints."""
        store = self.engine.state
        if store is None:
            return []
        messages = []
        for entry in saved.load(store.directory):
            number = str(entry.get("id", ""))
            # Its checkpoint key as saved: worked out again, it could be another's.
            pipeline = Pipeline(id=number, name=str(entry.get("name") or number), sql=entry["sql"],
                                state="stopped", key=str(entry.get("key") or ""))
            self.pipelines[pipeline.id] = pipeline
            if number.isdigit():
                self._ids = itertools.count(max(int(number) + 1, next(self._ids)))
            if not entry.get("running"):
                continue
            try:
                self._start_statement(pipeline)
                messages.append(f"pipeline {pipeline.id} ({pipeline.name}) restored")
            except LaminarError as exc:
                pipeline.state, pipeline.error = "failed", str(exc)
                messages.append(f"pipeline {pipeline.id} ({pipeline.name}) failed: {exc}")
        return messages

    # -- statements ---------------------------------------------------------------------

    def run_script(self, sql: str, name: str | None = None) -> tuple[list[str], Pipeline | None]:
        """Run DDL in order; a continuous statement becomes a pipeline (at most one)."""
        statements = parse_statements(sql)
        continuous = [s for s in statements if is_continuous(self.engine, s)]
        if len(continuous) > 1:
            extra = continuous[1]
            raise SQLError(
                "one pipeline per request: this text has "
                f"{len(continuous)} continuous queries; send each on its own",
                line=extra.line, column=extra.column,
            )
        messages: list[str] = []
        pipeline = None
        for stmt in statements:
            if stmt in continuous:
                pipeline = self._create(stmt, name)
            else:
                messages.append(_describe(self.engine.run_statement(stmt)))
        return messages, pipeline

    def run_file(
        self, sql: str, echo: Callable[[ContinuousQuery], Sink] | None = None
    ) -> list[str]:
        """A pipeline file: statements in order, each continuous one its own pipeline.

        ``echo(query)`` is the sink a SELECT's rows also go to (besides the console's
        tail), in every run of its pipeline: ``laminar run --console``'s stdout.
        """
        messages = []
        for stmt in parse_statements(sql):
            if is_continuous(self.engine, stmt):
                pipeline = self._create(stmt, None, saved=False, echo=echo)
                messages.append(f"pipeline {pipeline.id} ({pipeline.key}) started")
            else:
                messages.append(_describe(self.engine.run_statement(stmt)))
        return messages

    def _create(
        self,
        stmt: ast.Statement,
        name: str | None,
        *,
        saved: bool = True,
        echo: Callable[[ContinuousQuery], Sink] | None = None,
    ) -> Pipeline:
        query = self.engine.run_statement(stmt)
        if not isinstance(query, ContinuousQuery):  # pragma: no cover - checked by the caller
            raise SQLError("not a continuous query", line=stmt.line, column=stmt.column)
        number = next(self._ids)
        pipeline = Pipeline(id=str(number), name=name or f"pipeline-{number}", sql=stmt.text,
                            saved=saved, echo=echo)
        pipeline.key = self._unique_key(pipeline_key(query))
        self.pipelines[pipeline.id] = pipeline
        self._start(pipeline, query)
        self.save()
        return pipeline

    def _unique_key(self, key: str) -> str:
        taken = {p.key for p in self.pipelines.values()}
        found, n = key, 2
        while found in taken:
            found, n = f"{key}#{n}", n + 1
        return found

    # -- life ---------------------------------------------------------------------------

    def _start(self, pipeline: Pipeline, query: ContinuousQuery) -> None:
        engine = self.engine
        inner: Sink | None = None
        if query.sink is not None:
            inner = build_sink(query.sink.name, query.sink.spec, engine.env)
        elif pipeline.echo is not None:
            inner = pipeline.echo(query)
        sink = TeeSink(query.table, pipeline.tail, inner)
        pipeline.store = engine.state
        pipeline.query, pipeline.state, pipeline.error = query, "running", None
        pipeline.started_at, pipeline.stopped_at = time.time(), None

        async def run() -> None:
            try:
                await run_query(query, state=engine.state, sink=sink, key=pipeline.key,
                                env=engine.env)
            except asyncio.CancelledError:
                pipeline.state = "stopped"
                raise
            except LaminarError as exc:
                pipeline.state, pipeline.error = "failed", str(exc)
                logger.error("pipeline %s failed: %s", pipeline.name, exc)
            except Exception as exc:  # a bug: keep the console up, show it
                pipeline.state, pipeline.error = "failed", f"internal error: {exc!r}"
                logger.exception("pipeline %s crashed", pipeline.name)
            else:
                pipeline.state = "finished"
            finally:
                pipeline.position = query.position or pipeline.position
                pipeline.stopped_at = time.time()

        pipeline.task = asyncio.get_running_loop().create_task(
            run(), name=f"laminar-console-{pipeline.id}"
        )

    async def stop(self, pipeline: Pipeline) -> None:
        task = pipeline.task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if pipeline.state in ("running", "starting"):
            pipeline.state = "stopped"
        if not self._closing:
            self.save()

    async def restart(self, pipeline: Pipeline, *, keep_state: bool = True) -> None:
        await self.stop(pipeline)
        pipeline.restarts += 1
        self._start_statement(pipeline, keep_state=keep_state)
        self.save()

    def _start_statement(self, pipeline: Pipeline, *, keep_state: bool = True) -> None:
        """Plan the pipeline's statement again and start it."""
        (stmt,) = parse_statements(pipeline.sql)
        query = self.engine.run_statement(stmt)
        if not isinstance(query, ContinuousQuery):
            query_error = "the pipeline's statement no longer reads a stream"
            raise SQLError(query_error, line=stmt.line, column=stmt.column)
        if not pipeline.key:
            pipeline.key = self._unique_key(pipeline_key(query))
        store = self.engine.state
        if keep_state:
            if pipeline.position and (store is None or not persists(query)):
                query.source.resume_event_id = pipeline.position
        else:
            pipeline.position = ""
            if store is not None:
                store.forget_pipeline(pipeline.key)
        self._start(pipeline, query)

    async def delete(self, pipeline: Pipeline) -> None:
        """Stop it and forget it, its checkpoint too (a new one never resumes from it)."""
        await self.stop(pipeline)
        pipeline.tail.close()
        self.pipelines.pop(pipeline.id, None)
        store = self.engine.state
        if store is not None and pipeline.key:
            store.forget_pipeline(pipeline.key)
        self.save()

    async def close(self) -> None:
        """Stop every pipeline (the saved file keeps them as running: a restart resumes)."""
        self.save()
        self._closing = True
        for pipeline in list(self.pipelines.values()):
            await self.stop(pipeline)
            pipeline.tail.close()

    def get(self, pipeline_id: str) -> Pipeline | None:
        return self.pipelines.get(pipeline_id)


def is_continuous(engine: Engine, stmt: ast.Statement) -> bool:
    if isinstance(stmt, ast.InsertInto):
        return True
    if isinstance(stmt, ast.Select):
        try:
            tables, _, _ = engine.catalog.view_dependencies(stmt.query.sources)
        except LaminarError:
            return False  # an unknown name: running the statement reports it, with where
        return bool(tables)
    return False


def _describe(result: Result) -> str:
    if isinstance(result, Message):
        return result.text
    if isinstance(result, Rows):
        return f"{len(result.rows)} row(s)"
    return ""
