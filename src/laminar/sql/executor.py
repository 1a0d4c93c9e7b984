"""DuckDB runs a query on every micro-batch of a stream.

Each partition has its own in-memory DuckDB connection holding the query's
views. A batch is registered as ``__laminar_batch`` and the stream table is a
view over it that casts JSON columns to DuckDB's JSON type, so users' views
and queries see the table exactly as declared. DuckDB releases the GIL, so
partitions run in parallel threads.

Output comes in two shapes: Arrow tables (the Python API) or JSON lines made
by DuckDB itself (sinks): ``to_json`` of each row, with TIMESTAMP columns as
ISO-8601 text and JSON columns embedded as JSON values.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from laminar.errors import SQLError
from laminar.formats.columns import TYPE_METADATA_KEY
from laminar.sql.databases import open_database

BATCH_RELATION = "__laminar_batch"
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
WINDOW_TYPE = 'STRUCT("start" TIMESTAMP, "end" TIMESTAMP)'  # a window column, as DuckDB names it


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def stream_view_sql(table: str, schema: pa.Schema) -> str:
    """The view that presents a registered batch as the declared table."""
    columns = []
    for f in schema:
        is_json = (f.metadata or {}).get(TYPE_METADATA_KEY) == b"JSON"
        columns.append(f"{quote(f.name)}::JSON AS {quote(f.name)}" if is_json else quote(f.name))
    return f"CREATE VIEW {quote(table)} AS SELECT {', '.join(columns)} FROM {BATCH_RELATION}"


@dataclass(frozen=True)
class ViewSQL:
    name: str
    sql: str  # the SELECT body


class BatchQuery:
    """A query over one stream table, run on each batch (see the module docstring)."""

    def __init__(
        self,
        query_sql: str,
        table: str,
        schema: pa.Schema,
        views: Sequence[ViewSQL] = (),
        partitions: int = 1,
        statement: str = "SELECT",
    ) -> None:
        self.query_sql = query_sql
        self.table = table
        self.schema = schema
        self._empty = schema.empty_table()
        self._connections = [self._connect(views) for _ in range(partitions)]
        self._pool = ThreadPoolExecutor(partitions, "laminar-duckdb") if partitions > 1 else None
        self._locks = [threading.Lock() for _ in self._connections]
        con = self._connections[0]
        con.register(BATCH_RELATION, self._empty)
        try:
            rel = con.sql(query_sql)
            self.columns: list[str] = list(rel.columns)
            self.types: list[str] = [str(t) for t in rel.types]
        except duckdb.Error as exc:
            raise SQLError(f"{statement}: {_duckdb_message(exc)}") from exc
        self._json_sql = json_lines_sql(self.columns, self.types, query_sql)
        self._json_columns = {
            c for c, t in zip(self.columns, self.types, strict=True) if t == "JSON"
        }

    @property
    def partitions(self) -> int:
        """How many partitions of a batch run at once (a connection each)."""
        return len(self._connections)

    def _connect(self, views: Sequence[ViewSQL]) -> duckdb.DuckDBPyConnection:
        con = open_database()
        con.register(BATCH_RELATION, self.schema.empty_table())
        con.execute(stream_view_sql(self.table, self.schema))
        for view in views:
            try:
                con.execute(f"CREATE VIEW {quote(view.name)} AS {view.sql}")
            except duckdb.Error as exc:
                raise SQLError(f"view {view.name}: {_duckdb_message(exc)}") from exc
        return con

    # -- per batch -----------------------------------------------------------------

    def run(self, partitions: Sequence[pa.Table]) -> pa.Table:
        """The query's rows for one batch, partitions in order, JSON columns marked."""
        results = self._map(self.query_sql, partitions)
        table = results[0] if len(results) == 1 else pa.concat_tables(results)
        if self._json_columns:
            table = pa.Table.from_arrays(table.columns, schema=self._marked(table.schema))
        return table

    def _marked(self, schema: pa.Schema) -> pa.Schema:
        """``schema`` with the query's JSON columns tagged as such (DuckDB exports text)."""
        return pa.schema(
            f.with_metadata({TYPE_METADATA_KEY: b"JSON"}) if f.name in self._json_columns else f
            for f in schema
        )

    def run_json(self, partitions: Sequence[pa.Table]) -> list[str]:
        """The query's rows for one batch as JSON texts (one object per row)."""
        lines: list[str] = []
        for table in self._map(self._json_sql, partitions):
            if table.num_rows:
                lines.extend(table.column(0).to_pylist())
        return lines

    def _map(self, sql: str, partitions: Sequence[pa.Table]) -> list[pa.Table]:
        work = [(i, p) for i, p in enumerate(partitions) if p.num_rows]
        if not work:
            return [self._run_one(0, sql, self._empty)]
        if self._pool is None or len(work) == 1:
            return [self._run_one(i, sql, p) for i, p in work]
        return list(self._pool.map(lambda item: self._run_one(item[0], sql, item[1]), work))

    def _run_one(self, index: int, sql: str, batch: pa.Table) -> pa.Table:
        con = self._connections[index]
        with self._locks[index]:  # close() waits for a call in flight instead of breaking it
            try:
                con.register(BATCH_RELATION, batch)
                return con.sql(sql).to_arrow_table()
            except duckdb.Error as exc:
                raise SQLError(f"query over {self.table}: {_duckdb_message(exc)}") from exc

    def close(self) -> None:
        """Release the connections; a batch still running in a worker thread finishes first."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        for con, lock in zip(self._connections, self._locks, strict=True):
            with lock:
                con.close()


def json_lines_sql(columns: Sequence[str], types: Sequence[str], query_sql: str) -> str:
    """SQL turning ``query_sql``'s rows into JSON texts made by DuckDB, one per row.

    TIMESTAMPs (the window struct's too) become ISO-8601 UTC text, non-finite
    floats null (JSON has no NaN).
    """
    replaced = []
    for column, kind in zip(columns, types, strict=True):
        name = quote(column)
        if kind.startswith("TIMESTAMP"):
            replaced.append(f"strftime({name}, '{_ISO_FORMAT}') AS {name}")
        elif kind in ("DOUBLE", "FLOAT", "REAL"):  # JSON has no NaN or Infinity: null
            replaced.append(f"CASE WHEN isfinite({name}) THEN {name} END AS {name}")
        elif kind == WINDOW_TYPE:
            replaced.append(
                f"{{'start': strftime({name}.start, '{_ISO_FORMAT}'), "
                f"'end': strftime({name}.\"end\", '{_ISO_FORMAT}')}} AS {name}"
            )
    inner = f"SELECT * REPLACE ({', '.join(replaced)}) FROM ({query_sql})" if replaced \
        else f"SELECT * FROM ({query_sql})"
    return f"SELECT to_json(__row)::VARCHAR FROM ({inner}) AS __row"


def _duckdb_message(exc: BaseException) -> str:
    text = str(exc).strip()
    # The "LINE 1: …" excerpt shows Laminar's wrapper SQL, not the user's: drop it.
    text = text.split("\n\nLINE ")[0].split("\nLINE ")[0].strip()
    # DuckDB names our internal relation in some messages; speak of the batch instead.
    return text.replace(BATCH_RELATION, "the stream batch")
