"""Stateful aggregation: windows (TUMBLE, HOP, SESSION) and updating GROUP BY results.

Design: the operator keeps the *rows* of open windows (or, for an updating
result, of every group) in its own DuckDB database, and runs the user's
aggregate — rewritten by ``laminar.sql.query.aggregate_sql`` — over the rows of
a window when it closes. Keeping rows rather than merging partial aggregates
makes every DuckDB aggregate exact whatever the micro-batching (medians,
``COUNT(DISTINCT)``, ``string_agg`` order included), and DuckDB spills the
state to disk past ``memory_limit`` instead of growing the process.

* Window (tumble/hop): each row is assigned its windows (``__laminar_ws`` /
  ``__laminar_we``) as it arrives; when the watermark reaches a window's end, the
  window's rows are aggregated, emitted once (ordered by window start, then the
  group keys) and deleted. When every aggregate merges exactly (COUNT, MIN/MAX,
  SUM/AVG of integers and DECIMALs), a batch adds one *partial* row per (window,
  group) instead of its rows, and the final query merges them
  (``laminar.runtime.operators.partial``): same answers, state bounded by
  groups x batches instead of events.
* Session: rows are kept per group; a session is the run of rows less than the
  gap apart; it closes when its last row's time plus the gap is reached.
* Updating (GROUP BY without a window): after every batch, the groups it
  touched are aggregated again and compared with what was emitted for them:
  ``op`` = ``c`` (new group), ``u`` (changed) or ``d`` (gone, e.g. through
  HAVING), at most one change per group per batch. With aggregates that merge
  exactly, the state is partial rows, compacted to one per group whenever it
  doubles: a long-running result costs per batch what its touched groups do,
  not what the whole history does.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import duckdb
import pyarrow as pa

from laminar import arrow_compute as pc
from laminar.errors import SQLError
from laminar.runtime.operator import Emission
from laminar.runtime.time import NO_TIME, Clock, EventTimeWatermark, clock_us, wall_clock
from laminar.runtime.window import TIME, WINDOW_END, WINDOW_START, AggregateSQL, WindowSpec

if TYPE_CHECKING:
    from laminar.runtime.operators import partial

ROWS = "__laminar_rows"
INPUT = "__laminar_in"
CLOSED = "__laminar_closed"
EMITTED = "__laminar_emitted"
OP_COLUMN = "op"
END_OF_TIME = 2**62
COMPACT_MIN_ROWS = 1024  # an updating result's partial rows before the first compaction

TimeMode = Literal["event", "processing", "inherited"]


@dataclass(frozen=True)
class AggregateSpec:
    """Everything an aggregate operator needs, decided by the planner."""

    name: str
    label: str  # for messages: "SELECT", "CREATE VIEW per_minute"…
    input_schema: pa.Schema  # rows in: the query's columns (+ __laminar_time)
    window: WindowSpec | None
    sql: AggregateSQL
    key_exprs: tuple[str, ...]  # the GROUP BY keys as SQL over input rows
    time_mode: TimeMode
    delay_us: int = 0
    idle_us: int = 1_000_000
    memory_limit_mb: int = 1024
    spill_dir: str | None = None
    # An updating result's QUALIFY (a live top N): over all of its groups, every batch
    qualify: str | None = None


class AggregateOperator:
    """See the module docstring; one per aggregating SELECT of a pipeline."""

    def __init__(self, spec: AggregateSpec, clock: Clock = wall_clock) -> None:
        self.spec = spec
        self.name = spec.name
        self.clock = clock
        self.late = 0  # rows dropped: before the watermark (or without an event time)
        self.rows_in = 0  # rows kept in windows or groups so far
        self.watermark: int | None = None
        self._event_time = (
            EventTimeWatermark(spec.delay_us, spec.idle_us, clock)
            if spec.time_mode == "event"
            else None
        )
        self._spill = spec.spill_dir or tempfile.gettempdir()
        self.con = duckdb.connect(
            ":memory:",
            config={
                "threads": 1,
                "memory_limit": f"{spec.memory_limit_mb}MB",
                "temp_directory": os.path.join(self._spill, "laminar-spill"),
            },
        )
        self._state_columns = self._create_state()
        self.updating = spec.window is None
        self._final_sql = spec.sql.final  # over the state: raw rows, or partials (below)
        self.columns, self.types = self._bind()
        self.partial = self._use_partials()
        if self.updating:
            self.columns.append(OP_COLUMN)
            self.types.append("VARCHAR")
            self._create_emitted()
        self.schema = self._empty().schema
        self._next_close = END_OF_TIME  # the earliest end of an open window (tumble/hop)
        # An updating result's partial rows, and how many trigger the next compaction.
        self._partial_rows = 0
        self._compact_at = COMPACT_MIN_ROWS
        self.signature = self._signature()

    # -- set-up ------------------------------------------------------------------------

    def _create_state(self) -> list[str]:
        spec = self.spec
        self.con.register(INPUT, spec.input_schema.empty_table())
        extra = f", NULL::TIMESTAMP AS {TIME}" if spec.time_mode == "processing" else ""
        if spec.window is not None and spec.window.kind != "session":
            extra += f", NULL::TIMESTAMP AS {WINDOW_START}, NULL::TIMESTAMP AS {WINDOW_END}"
        _exec(self.con, f"CREATE TABLE {ROWS} AS SELECT *{extra} FROM {INPUT} LIMIT 0")
        return list(self.con.sql(f"SELECT * FROM {ROWS} LIMIT 0").columns)

    def _closed_view(self) -> str:
        """``__laminar_closed`` as a CTE over the state, for binding the final query."""
        if self.spec.window is not None and self.spec.window.kind == "session":
            return (
                f"WITH {CLOSED} AS (SELECT *, NULL::TIMESTAMP AS {WINDOW_START}, "
                f"NULL::TIMESTAMP AS {WINDOW_END} FROM {ROWS}) "
            )
        return f"WITH {CLOSED} AS (SELECT * FROM {ROWS}) "

    def _bind(self) -> tuple[list[str], list[str]]:
        try:
            rel = self.con.sql(self._closed_view() + self._final_sql)
        except duckdb.Error as exc:
            raise SQLError(f"{self.spec.label}: {_message(exc)}") from exc
        hidden = set(self.spec.sql.hidden)
        pairs = [(c, str(t)) for c, t in zip(rel.columns, rel.types, strict=True)]
        visible = [(c, t) for c, t in pairs if c not in hidden]
        return [c for c, _ in visible], [t for _, t in visible]

    def _use_partials(self) -> partial.PartialPlan | None:
        """Keep per-batch partial aggregates instead of rows, when they merge exactly.

        Tumbling and hopping windows, and updating results (not sessions: they need
        each row's time). The state table is recreated with the partial columns, and
        the rewritten final query must bind to exactly the columns and types of the
        original, or the raw rows are kept.
        """
        from laminar.runtime.operators import partial  # imports sqlglot: not for plain queries

        window = self.spec.window
        if window is not None and window.kind == "session":
            return None
        rel = self.con.sql(f"SELECT * FROM {ROWS} LIMIT 0")
        columns = {c: str(t) for c, t in zip(rel.columns, rel.types, strict=True)}

        def type_of(aggregate: str) -> str:
            return str(self.con.sql(f"SELECT {aggregate} FROM {ROWS} LIMIT 0").types[0])

        bounds = (WINDOW_START, WINDOW_END) if window is not None else ()
        try:
            plan = partial.plan(self._final_sql, columns, bounds, type_of)
        except duckdb.Error:
            return None
        if plan is None:
            return None
        windowed = (
            f"(SELECT *, NULL::TIMESTAMP AS {WINDOW_START}, NULL::TIMESTAMP AS {WINDOW_END} "
            f"FROM {INPUT})" if window is not None else INPUT
        )
        raw = (self.columns, self.types, self._final_sql, self._state_columns)
        try:
            _exec(self.con, f"DROP TABLE {ROWS}")
            _exec(self.con,
                f"CREATE TABLE {ROWS} AS SELECT {plan.select()} FROM {windowed}"
                f"{plan.group_by()} LIMIT 0"
            )
            self._final_sql = plan.final
            self._state_columns = list(self.con.sql(f"SELECT * FROM {ROWS} LIMIT 0").columns)
            if self._bind() == (self.columns, self.types):
                return plan
        except duckdb.Error:
            pass
        # not the same answer: back to the raw rows
        self.columns, self.types, self._final_sql, self._state_columns = raw
        _exec(self.con, f"DROP TABLE IF EXISTS {ROWS}")
        self._create_state()
        return None

    def _create_emitted(self) -> None:
        final = self._final_sql
        _exec(self.con,
            f"CREATE TABLE {EMITTED} AS {self._closed_view()}SELECT * FROM ({final}) LIMIT 0"
        )

    def _empty(self) -> pa.Table:
        select = ", ".join(
            f"NULL::{t} AS {_quote(c)}" for c, t in zip(self.columns, self.types, strict=True)
        )
        return self.con.sql(f"SELECT {select} LIMIT 0").to_arrow_table()

    # -- per batch ---------------------------------------------------------------------

    def process(self, rows: pa.Table | None, watermark: int | None) -> Emission:
        """Keep the batch's on-time rows, then emit what the new watermark closes."""
        spec = self.spec
        if rows is not None and rows.num_rows:
            if spec.time_mode == "processing":
                now = clock_us(self.clock)
                times = pa.array([now] * rows.num_rows, pa.timestamp("us"))
                rows = rows.append_column(TIME, times)
                self.watermark = max(self.watermark or NO_TIME, now)
            elif self._event_time is not None:
                judged = self._event_time.observe(rows.column(TIME).combine_chunks())
                if judged.late:
                    self.late += judged.late
                    rows = pc.filter(rows, judged.keep)
            else:  # inherited: the upstream window's rows, judged against our watermark
                rows = self._on_time(rows)
            if rows.num_rows:
                self._keep(rows)
                self.rows_in += rows.num_rows
        if spec.time_mode == "processing":
            self.watermark = max(self.watermark or NO_TIME, clock_us(self.clock))
        elif self._event_time is not None:
            self.watermark = self._event_time.tick()
        elif watermark is not None:
            self.watermark = max(self.watermark or NO_TIME, watermark)
        if self.updating:
            out = self._changes(rows) if rows is not None and rows.num_rows else self._empty()
        else:
            out = self._emit(self.watermark)
        return Emission(out, self.watermark)

    def _on_time(self, rows: pa.Table) -> pa.Table:
        if self.watermark is None:
            return rows
        times = pc.cast(rows.column(TIME), pa.int64())
        keep = pc.fill_null(pc.greater_equal(times, self.watermark), False)
        kept = pc.filter(rows, keep)
        self.late += rows.num_rows - kept.num_rows
        return kept

    def finish(self) -> pa.Table:
        """Every open window, emitted now: the source has ended for good."""
        if self.updating:
            return self._empty()
        return self._emit(END_OF_TIME)

    def _keep(self, rows: pa.Table) -> None:
        """Add on-time rows to the state, each with the windows it belongs to."""
        con = self.con
        con.register(INPUT, rows)
        window = self.spec.window
        plan = self.partial
        try:
            if window is None and plan is not None:  # an updating result's partials
                self._partial_rows += _count(
                    con, f"INSERT INTO {ROWS} SELECT {plan.select()} FROM {INPUT}{plan.group_by()}"
                )
                if self._partial_rows >= self._compact_at:
                    self._compact(plan)
                return
            if window is None or window.kind == "session":
                _exec(con, f"INSERT INTO {ROWS} SELECT * FROM {INPUT}")
                return
            us = f"epoch_us({TIME})"
            slide = window.slide_us
            last = f"({us} - ((({us} % {slide}) + {slide}) % {slide}))"  # floor, pre-1970 too
            if window.kind == "tumble":
                windowed = (
                    f"SELECT *, make_timestamp({last}) AS {WINDOW_START}, "
                    f"make_timestamp({last} + {window.size_us}) AS {WINDOW_END} FROM {INPUT}"
                )
            else:
                count = -(-window.size_us // window.slide_us)
                windowed = (
                    f"SELECT * EXCLUDE (__s), make_timestamp(__s) AS {WINDOW_START}, "
                    f"make_timestamp(__s + {window.size_us}) AS {WINDOW_END} FROM (SELECT *, "
                    f"unnest(generate_series({last} - {(count - 1) * window.slide_us}, {last}, "
                    f"{window.slide_us})) AS __s FROM {INPUT}) WHERE __s + {window.size_us} > {us}"
                )
            if plan is None:
                _exec(con, f"INSERT INTO {ROWS} {windowed}")
            else:  # one row per (group, window) of this batch
                _exec(con,
                    f"INSERT INTO {ROWS} SELECT {plan.select()} FROM ({windowed}){plan.group_by()}"
                )
            self._next_close = min(self._next_close, self._first_end(rows))
        except duckdb.Error as exc:
            raise SQLError(f"{self.spec.label}: {_message(exc)}") from exc
        finally:
            con.unregister(INPUT)

    def _compact(self, plan: partial.PartialPlan) -> None:
        """Merge each group's partial rows into one: an updating result's groups never
        close, so without this its state would grow by a row per group per batch.

        Run when the state has doubled since the last time: amortised, a constant
        cost per row added, and the state stays under about twice its groups.
        """
        con = self.con
        _exec(con,
            f"CREATE OR REPLACE TEMP TABLE __laminar_merged AS SELECT {plan.merged()} "
            f"FROM {ROWS}{plan.group_by()}"
        )
        _exec(con, f"DELETE FROM {ROWS}")
        self._partial_rows = _count(con, f"INSERT INTO {ROWS} SELECT * FROM __laminar_merged")
        _exec(con, "DROP TABLE __laminar_merged")
        self._compact_at = max(2 * self._partial_rows, COMPACT_MIN_ROWS)

    # -- windows -----------------------------------------------------------------------

    def _emit(self, watermark: int | None) -> pa.Table:
        if watermark is None:
            return self._empty()
        window = self.spec.window
        assert window is not None
        if window.kind == "session":
            return self._emit_sessions(watermark)
        if watermark < self._next_close:
            return self._empty()
        closed = f"SELECT * FROM {ROWS} WHERE {WINDOW_END} <= make_timestamp({watermark}::BIGINT)"
        out = self._final(closed)
        _exec(self.con,
            f"DELETE FROM {ROWS} WHERE {WINDOW_END} <= make_timestamp({watermark}::BIGINT)"
        )
        self._next_close = self._earliest_end()
        return out

    def _first_end(self, rows: pa.Table) -> int:
        """The earliest end of the windows ``rows`` were just added to (no state scan).

        A row at ``t`` is in the windows starting after ``t - size`` (on the slide's
        grid), so the earliest end comes from the earliest row.
        """
        window = self.spec.window
        assert window is not None
        times = rows.column(TIME)
        if not (pa.types.is_timestamp(times.type) and times.type.unit == "us"):
            return self._earliest_end()
        low = pc.min(pc.cast(times, pa.int64())).as_py()
        if low is None:
            return END_OF_TIME
        size, slide = window.size_us, window.slide_us
        return (low - size) // slide * slide + slide + size

    def _earliest_end(self) -> int:
        low = _one(self.con, f"SELECT epoch_us(min({WINDOW_END})) FROM {ROWS}")
        return int(low[0]) if low and low[0] is not None else END_OF_TIME

    def _emit_sessions(self, watermark: int) -> pa.Table:
        spec = self.spec
        assert spec.window is not None
        gap = spec.window.size_us
        low = _one(self.con, f"SELECT epoch_us(min({TIME})) FROM {ROWS}")
        if not low or low[0] is None or int(low[0]) + gap > watermark:
            return self._empty()
        keys = ", ".join(f"({k})" for k in spec.key_exprs)
        part = f"PARTITION BY {keys}" if keys else ""
        columns = ", ".join(_quote(c) for c in self._state_columns)
        _exec(self.con,
            f"""CREATE OR REPLACE TEMP TABLE __laminar_sessions AS
            WITH s AS (SELECT *, epoch_us({TIME}) AS __e FROM {ROWS}),
            p AS (SELECT *, lag(__e) OVER ({part} ORDER BY __e) AS __prev FROM s),
            g AS (SELECT *, sum(CASE WHEN __prev IS NULL OR __e - __prev >= {gap} THEN 1
                  ELSE 0 END) OVER ({part} ORDER BY __e ROWS UNBOUNDED PRECEDING) AS __sid
                  FROM p)
            SELECT {columns}, min(__e) OVER ({part}{', ' if part else 'PARTITION BY '}__sid)
                   AS __s0, max(__e) OVER ({part}{', ' if part else 'PARTITION BY '}__sid)
                   + {gap} AS __s1 FROM g"""
        )
        closed = (
            f"SELECT {columns}, make_timestamp(__s0) AS {WINDOW_START}, make_timestamp(__s1) "
            f"AS {WINDOW_END} FROM __laminar_sessions WHERE __s1 <= {watermark}"
        )
        out = self._final(closed)
        _exec(self.con,
            f"CREATE OR REPLACE TABLE {ROWS} AS SELECT {columns} FROM __laminar_sessions "
            f"WHERE __s1 > {watermark}"
        )
        _exec(self.con, "DROP TABLE __laminar_sessions")
        return out

    def _final(self, closed_sql: str) -> pa.Table:
        """The user's aggregate over ``closed_sql``'s rows, ordered, hidden columns dropped."""
        sql = self.spec.sql
        order = ", ".join(f"{c} NULLS FIRST" for c in sql.order)
        hidden = ", ".join(sql.hidden)
        query = f"WITH {CLOSED} AS ({closed_sql}) SELECT * " + (
            f"EXCLUDE ({hidden}) " if hidden else ""
        ) + f"FROM ({self._final_sql}) AS __laminar_final" + (f" ORDER BY {order}" if order else "")
        try:
            return self.con.sql(query).to_arrow_table()
        except duckdb.Error as exc:
            raise SQLError(f"{self.spec.label}: {_message(exc)}") from exc

    # -- updating results --------------------------------------------------------------

    def _changes(self, rows: pa.Table) -> pa.Table:
        """The groups this batch touched, diffed against what was emitted for them.

        With a QUALIFY (a live top N) a group the batch did not touch can enter or
        leave the result, so every group is ranked and diffed, every batch.
        """
        spec = self.spec
        sql = spec.sql
        con = self.con
        keys = sql.keys
        whole = spec.qualify is not None or not keys
        con.register(INPUT, rows)
        try:
            if not whole:
                touched = ", ".join(
                    f"({expr}) AS {name}" for expr, name in zip(spec.key_exprs, keys, strict=True)
                )
                _exec(con,
                    f"CREATE OR REPLACE TEMP TABLE __laminar_touched AS "
                    f"SELECT DISTINCT {touched} FROM {INPUT}"
                )
                match = " AND ".join(
                    f"({expr}) IS NOT DISTINCT FROM t.{name}"
                    for expr, name in zip(spec.key_exprs, keys, strict=True)
                )
                closed = f"SELECT * FROM {ROWS} SEMI JOIN __laminar_touched AS t ON {match}"
            else:
                closed = f"SELECT * FROM {ROWS}"
            final = self._final_sql
            if spec.qualify is not None:
                final = f"SELECT * FROM ({final}) AS __laminar_result QUALIFY {spec.qualify}"
            _exec(con,
                f"CREATE OR REPLACE TEMP TABLE __laminar_new AS WITH {CLOSED} AS ({closed}) "
                f"{final}"
            )
            on = " AND ".join(f"n.{k} IS NOT DISTINCT FROM e.{k}" for k in keys) or "TRUE"
            visible = [c for c in self.columns if c != OP_COLUMN]
            cols = ", ".join(_quote(c) for c in visible)
            differs = " OR ".join(
                f"n.{_quote(c)} IS DISTINCT FROM e.{_quote(c)}" for c in visible
            ) or "FALSE"
            order = ", ".join(f"{k} NULLS FIRST" for k in keys) or "1"
            if spec.qualify is not None:  # what left first: a top N never shows N + 1 rows
                order = f"{OP_COLUMN} <> 'd', {order}"
            gone_from = (
                f"{EMITTED} AS e"
                if whole
                else f"{EMITTED} AS e SEMI JOIN __laminar_touched AS t ON "
                + " AND ".join(f"e.{k} IS NOT DISTINCT FROM t.{k}" for k in keys)
            )
            changes = con.sql(
                f"""SELECT {cols}, {OP_COLUMN} FROM (
                    SELECT n.*, 'c' AS {OP_COLUMN} FROM __laminar_new AS n
                        ANTI JOIN {EMITTED} AS e ON {on}
                    UNION ALL
                    SELECT n.*, 'u' FROM __laminar_new AS n JOIN {EMITTED} AS e ON {on}
                        WHERE {differs}
                    UNION ALL
                    SELECT e.*, 'd' FROM (SELECT * FROM {gone_from}) AS e
                        ANTI JOIN __laminar_new AS n ON {on}
                ) ORDER BY {order}"""
            ).to_arrow_table()
            if not whole:
                _exec(con,
                    f"DELETE FROM {EMITTED} AS e WHERE EXISTS (SELECT 1 FROM __laminar_touched "
                    "AS t WHERE "
                    + " AND ".join(f"e.{k} IS NOT DISTINCT FROM t.{k}" for k in keys)
                    + ")"
                )
            else:
                _exec(con, f"DELETE FROM {EMITTED}")
            _exec(con, f"INSERT INTO {EMITTED} SELECT * FROM __laminar_new")
            return changes
        except duckdb.Error as exc:
            raise SQLError(f"{spec.label}: {_message(exc)}") from exc
        finally:
            con.unregister(INPUT)

    # -- state -------------------------------------------------------------------------

    def _signature(self) -> str:
        """What the state means: the query over it, its windows and time, its layout.

        Saved with every snapshot. State keys are per pipeline (``table->sink``), so
        a pipeline file edited between two runs would otherwise pour one query's open
        windows into another's: COUNTs read back as MAXes, or a DuckDB error.
        """
        spec = self.spec
        layout = self.con.sql(f"SELECT * FROM {ROWS} LIMIT 0")
        meaning = repr((
            self._final_sql, spec.sql, spec.window, spec.time_mode, spec.key_exprs,
            list(zip(layout.columns, map(str, layout.types), strict=True)),
        ) + ((spec.qualify,) if spec.qualify is not None else ()))
        return hashlib.sha256(meaning.encode()).hexdigest()[:16]

    def misfit(self, state: bytes) -> str | None:
        """Why ``state`` (a snapshot) is not this operator's, or None when it is."""
        header, parts = _sections(state)
        saved = header.get("signature")
        if saved is not None:
            return None if saved == self.signature else (
                "the query changed since its window and group state was saved"
            )
        # Saved before snapshots were signed: the layout is all that can be compared.
        if pa.ipc.open_stream(parts[0]).schema.names == self._state_columns:
            return None
        return (
            "its saved window and group state has another layout (the query, or "
            "Laminar, changed since it was saved)"
        )

    @property
    def state_rows(self) -> int:
        row = _one(self.con, f"SELECT count(*) FROM {ROWS}")
        return int(row[0]) if row else 0

    def memory(self) -> tuple[int, int]:
        """(bytes in memory, bytes spilled to disk) of the operator's DuckDB state."""
        row = _one(
            self.con,
            "SELECT coalesce(sum(memory_usage_bytes), 0), "
            "coalesce(sum(temporary_storage_bytes), 0) FROM duckdb_memory()",
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def snapshot(self) -> bytes:
        """The rows of open windows/groups (Arrow IPC) and the watermark, as bytes."""
        header: dict[str, object] = {
            "signature": self.signature,
            "watermark": self.watermark,
            "late": self.late,
            "event_time": self._event_time.snapshot() if self._event_time else None,
        }
        parts = [_ipc(self.con.sql(f"SELECT * FROM {ROWS}").to_arrow_table())]
        if self.updating:
            parts.append(_ipc(self.con.sql(f"SELECT * FROM {EMITTED}").to_arrow_table()))
        head = json.dumps(header).encode()
        out = io.BytesIO()
        out.write(struct.pack(">I", len(head)))
        out.write(head)
        for part in parts:
            out.write(struct.pack(">Q", len(part)))
            out.write(part)
        return out.getvalue()

    def restore(self, state: bytes) -> None:
        header, sections = _sections(state)
        parts = [pa.ipc.open_stream(section).read_all() for section in sections]
        self.watermark = header["watermark"]
        self.late = int(header.get("late") or 0)
        if self._event_time is not None and header.get("event_time"):
            self._event_time.restore(header["event_time"])
        self.con.register(INPUT, parts[0])
        _exec(self.con, f"DELETE FROM {ROWS}")
        _exec(self.con, f"INSERT INTO {ROWS} SELECT * FROM {INPUT}")
        self.con.unregister(INPUT)
        if self.updating and len(parts) > 1:
            self.con.register(INPUT, parts[1])
            _exec(self.con, f"DELETE FROM {EMITTED}")
            _exec(self.con, f"INSERT INTO {EMITTED} SELECT * FROM {INPUT}")
            self.con.unregister(INPUT)
        if self.spec.window is not None and self.spec.window.kind != "session":
            self._next_close = self._earliest_end()
        self._partial_rows = self.state_rows
        self._compact_at = max(2 * self._partial_rows, COMPACT_MIN_ROWS)

    def close(self) -> None:
        self.con.close()


def _exec(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    con.execute(sql).fetchall()  # DuckDB wants every result finished before the next call


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The number of rows an INSERT added."""
    row = _one(con, sql)
    return int(row[0]) if row else 0


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple | None:
    rows = con.execute(sql).fetchall()
    return rows[0] if rows else None


def _sections(state: bytes) -> tuple[dict, list[memoryview]]:
    """A snapshot's header and its Arrow IPC parts (see ``snapshot``), not yet read."""
    view = memoryview(state)
    (size,) = struct.unpack(">I", view[:4])
    header = json.loads(bytes(view[4 : 4 + size]))
    offset = 4 + size
    parts = []
    while offset < len(view):
        (length,) = struct.unpack(">Q", view[offset : offset + 8])
        offset += 8
        parts.append(view[offset : offset + length])
        offset += length
    return header, parts


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.split("\n\nLINE ")[0].split("\nLINE ")[0].strip()
