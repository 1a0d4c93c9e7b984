"""The Python face: ``laminar.connect()``, ``Connection.execute``, ``Cursor``.

    db = laminar.connect()
    db.execute("CREATE TABLE t (...) WITH (...)")
    for row in db.execute("SELECT * FROM t WHERE price > 1000 LIMIT 10"):
        print(row)                      # a dict per row, as rows arrive
    db.execute("INSERT INTO sink_table SELECT …").run()   # into the sink, until the end

A cursor over a stream is iterated synchronously (``for``, on a private event
loop) or asynchronously (``async for``, on the caller's loop). JSON columns
come back as Python values, TIMESTAMP columns as ``datetime``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import pyarrow as pa

from laminar.errors import LaminarError
from laminar.sql.continuous import ContinuousQuery
from laminar.sql.engine import Engine, Message, Result, Rows


class Cursor:
    """The result of the last statement executed."""

    def __init__(self, result: Result | None) -> None:
        self.result = result
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def columns(self) -> list[str]:
        if isinstance(self.result, (Rows, ContinuousQuery)):
            return list(self.result.columns)
        return []

    @property
    def message(self) -> str | None:
        return self.result.text if isinstance(self.result, Message) else None

    @property
    def is_continuous(self) -> bool:
        return isinstance(self.result, ContinuousQuery)

    # -- rows ---------------------------------------------------------------------

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for table in self.batches():
            yield from _rows(table)

    def fetchall(self) -> list[dict[str, Any]]:
        return list(self)

    @property
    def is_insert(self) -> bool:
        """An INSERT INTO: its rows go to the sink table, run it with ``run()``."""
        return isinstance(self.result, ContinuousQuery) and self.result.sink is not None

    def run(self) -> None:
        """Run an INSERT INTO until its stream ends, writing into the sink table."""
        asyncio.run(self.arun())

    async def arun(self) -> None:
        from laminar.sql.pipelines import run_query

        if not self.is_insert:
            raise LaminarError("run() is for INSERT INTO statements; iterate a SELECT's rows")
        await run_query(self.result)  # type: ignore[arg-type]

    def _check_readable(self) -> None:
        if self.is_insert:
            raise LaminarError(
                "an INSERT INTO writes its rows to the sink table: call cursor.run() "
                "(or await cursor.arun()) instead of iterating it"
            )

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Arrow record batches of rows; over a stream, blocks until each arrives."""
        self._check_readable()
        result = self.result
        if isinstance(result, Rows):
            if result.rows:
                yield from _record_batches(pa.Table.from_pylist(result.as_dicts()))
            return
        if not isinstance(result, ContinuousQuery):
            return
        loop = asyncio.new_event_loop()
        self._loop = loop
        agen = result.arrow_batches()
        step: asyncio.Future[pa.Table] | None = None
        try:
            while True:
                step = asyncio.ensure_future(agen.__anext__(), loop=loop)
                try:
                    table = loop.run_until_complete(step)
                except StopAsyncIteration:
                    return
                step = None
                yield from _record_batches(table)
        finally:
            # Ctrl-C (or a break) may come while a step runs: cancel it and let it finish,
            # so the query closes its connection instead of leaking it.
            if step is not None and not step.done():
                step.cancel()
                with contextlib.suppress(BaseException):
                    loop.run_until_complete(step)
            with contextlib.suppress(RuntimeError):
                loop.run_until_complete(agen.aclose())
            result.close()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._loop = None

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        async for table in self.abatches():
            for row in _rows(table):
                yield row

    async def abatches(self) -> AsyncIterator[pa.RecordBatch]:
        self._check_readable()
        result = self.result
        if isinstance(result, ContinuousQuery):
            agen = result.arrow_batches()
            try:
                async for table in agen:
                    for batch in _record_batches(table):
                        yield batch
            finally:
                await agen.aclose()
        else:
            for batch in self.batches():
                yield batch

    def close(self) -> None:
        if isinstance(self.result, ContinuousQuery):
            self.result.close()


class Connection:
    """A Laminar engine in this process."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.engine = Engine(env)

    def execute(self, sql: str) -> Cursor:
        """Run every statement of ``sql``; the cursor holds the last one's result."""
        results = self.engine.execute(sql)
        for earlier in results[:-1]:
            if isinstance(earlier, ContinuousQuery):
                earlier.close()  # only the last statement's rows can be read
        return Cursor(results[-1] if results else None)

    def close(self) -> None:
        for query in list(self.engine.queries.values()):
            query.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(env: Mapping[str, str] | None = None) -> Connection:
    """A new in-process Laminar engine. ``env`` resolves ``${VAR}`` (default: os.environ)."""
    return Connection(env)


def _record_batches(table: pa.Table) -> Iterator[pa.RecordBatch]:
    """A table's rows as record batches (a table may hold several chunks; none empty)."""
    for batch in table.to_batches():
        if batch.num_rows:
            yield batch


def _rows(table: pa.Table | pa.RecordBatch) -> Iterator[dict[str, Any]]:
    json_columns = [
        f.name for f in table.schema if (f.metadata or {}).get(b"laminar.type") == b"JSON"
    ]
    for row in table.to_pylist():
        for name in json_columns:
            if isinstance(row.get(name), str):
                row[name] = json.loads(row[name])
        yield row
