"""The engine: runs statements against the catalog, plans queries onto the runtime.

``Engine.execute(sql)`` parses a script and runs each statement in order,
dispatching by statement type (``_HANDLERS``). DDL answers a ``Message``;
SHOW / DESCRIBE and queries over system tables answer ``Rows``; a SELECT over
a stream answers a ``ContinuousQuery`` that the caller iterates.

Every error raised while running a statement is a LaminarError whose message
starts with the statement's line and column (or the offending option's) and
names the statement.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from laminar._suggest import did_you_mean
from laminar.connectors.sse.options import ConnectionOptions
from laminar.connectors.sse.source import SSETableDef, SSETableSource
from laminar.connectors.sse.table_options import SSETableOptions, parse_table_options
from laminar.errors import CatalogError, ConfigError, LaminarError, SQLError
from laminar.formats import Column, build_row_decoder, parse_type
from laminar.observability.hub import Observability
from laminar.observability.system_tables import DeclaredTable, build_system_tables
from laminar.runtime.state import StateStore
from laminar.runtime.stats import PipelineStats
from laminar.sinks.options import SINK_CONNECTORS, is_sink_connector, parse_sink_options
from laminar.sql import ast, limits
from laminar.sql.catalog import (
    SYSTEM_TABLE_NAMES,
    Catalog,
    ConnectionDef,
    SinkTableDef,
    TableDef,
    ViewDef,
)
from laminar.sql.continuous import ContinuousQuery
from laminar.sql.executor import BatchQuery, quote
from laminar.sql.parser import parse_statements
from laminar.sql.plain import read as read_plain
from laminar.sql.staged import StagedQuery

CONNECTORS = ("sse_source", "sse")
logger = logging.getLogger("laminar.sql")


@dataclass
class Message:
    """What a DDL statement did ("CREATE TABLE live_events")."""

    text: str


@dataclass
class Rows:
    """A finished result: column names, their SQL types, and the rows."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    types: list[str] = field(default_factory=list)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


Result = Message | Rows | ContinuousQuery


class Engine:
    """A Laminar instance: a catalog and the queries running on it."""

    def __init__(
        self, env: Mapping[str, str] | None = None, state: StateStore | None = None
    ) -> None:
        self.catalog = Catalog(env)
        self.env = env
        self.queries: dict[int, ContinuousQuery] = {}
        # name -> an Arrow table, or an installer ``(duckdb connection, relation name) -> None``
        self.system_tables: Callable[[Engine], dict[str, Any]] = _default_system_tables
        self.observability = Observability()  # metrics registry, connector logs, monitors
        self.state = state  # catalog statements and checkpoints persist here when set
        self.clock: Callable[[], float] = time.time  # windows' processing time (injectable)
        self._restored: set[tuple[str, str]] = set()  # from the store, not redefined since
        if state is not None:
            self._replay_catalog(state)

    def declared_tables(self) -> list[DeclaredTable]:
        """Every table of the catalog as the system tables show it (their hook)."""
        declared = []
        for name, table in list(self.catalog.tables.items()):
            try:
                endpoint: str | None = self.catalog.connection_options(table).display_endpoint
            except Exception:  # a table whose connection was dropped: still listed
                endpoint = None
            declared.append(DeclaredTable(
                name, table.options.connection, endpoint, table.options.parallelism
            ))
        return declared

    # -- entry points -------------------------------------------------------------------

    def execute(self, sql: str) -> list[Result]:
        """Run every statement of ``sql`` in order; return one result per statement."""
        return [self.run_statement(stmt) for stmt in parse_statements(sql)]

    def run_statement(self, stmt: ast.Statement) -> Result:
        handler = _HANDLERS[type(stmt)]
        if self.state is not None and isinstance(stmt, _CREATES):
            kind, name = _KINDS[type(stmt)], stmt.name
            if _unchanged(self.catalog, stmt):
                return Message(f"{kind} {name} unchanged (kept from the state store)")
            if (kind, name) in self._restored and not stmt.if_not_exists:
                # the latest definition wins
                stmt = dataclasses.replace(stmt, or_replace=True)
            self._restored.discard((kind, name))
        try:
            result = handler(self, stmt)
            if self.state is not None:
                _persist(self.state, stmt, result)
            return result
        except SQLError as exc:
            if exc.line is None:
                raise SQLError(exc.message, line=stmt.line, column=stmt.column) from exc
            raise
        except LaminarError as exc:
            _locate(exc, stmt)
            raise

    def _replay_catalog(self, state: StateStore) -> None:
        """Re-run the stored CREATE statements without storing them again.

        In stored order, then again for those that failed while others succeed: a
        replaced view is stored last, yet views created before it may read it.
        """
        self.state = None
        try:
            pending = list(state.statements())
            failures: dict[tuple[str, str], LaminarError] = {}
            while pending:
                retry = []
                for kind, name, sql in pending:
                    try:
                        for stmt in parse_statements(sql):
                            self.run_statement(stmt)
                    except LaminarError as exc:
                        failures[(kind, name)] = exc
                        retry.append((kind, name, sql))
                    else:
                        failures.pop((kind, name), None)
                        self._restored.add((kind, name))
                if len(retry) == len(pending):
                    break  # no progress: these cannot be restored
                pending = retry
            for (kind, name), failure in failures.items():
                logger.warning(
                    "state store %s: the stored %s %s could not be restored (%s); it is "
                    "skipped until it is created again",
                    state.directory,
                    kind,
                    name,
                    failure,
                )
        finally:
            self.state = state

    # -- connections ----------------------------------------------------------------------

    def _create_connection(self, stmt: ast.CreateConnection) -> Result:
        name = stmt.name
        if stmt.connector.lower() not in CONNECTORS:
            raise ConfigError(
                f"unknown connector '{stmt.connector}'{did_you_mean(stmt.connector, CONNECTORS)}"
                " — write FROM sse_source",
                option="connector",
            )
        if self._exists(name in self.catalog.connections, stmt, "connection"):
            return Message(f"CONNECTION {name} exists, skipped")
        options = ConnectionOptions.from_options(_values(stmt.options), env=self.catalog.env)
        self.catalog.connections[name] = ConnectionDef(name, "sse_source", options, stmt.text)
        return Message(f"CREATE CONNECTION {name}")

    # -- tables ---------------------------------------------------------------------------

    def _create_table(self, stmt: ast.CreateTable) -> Result:
        name = stmt.name
        self._check_case_clash(name)
        if name in self.catalog.views:
            raise CatalogError(f"'{name}' is a view; drop it first or pick another name")
        if self._exists(name in self.catalog.tables or name in self.catalog.sinks, stmt, "table"):
            return Message(f"TABLE {name} exists, skipped")
        columns = tuple(Column(c.name, c.type, c.primary_key) for c in stmt.columns)
        for column in columns:
            parse_type(column.type, column=column.name)
        connector = _values(stmt.options).get("connector", "sse_source")
        if is_sink_connector(connector):
            spec = parse_sink_options(name, _values(stmt.options))
            self.catalog.tables.pop(name, None)
            self.catalog.sinks[name] = SinkTableDef(name, columns, spec, stmt.text)
            return Message(f"CREATE TABLE {name}")
        if not isinstance(connector, str) or connector.strip().lower() not in CONNECTORS:
            known = (*CONNECTORS, *SINK_CONNECTORS)
            raise ConfigError(
                f"option connector: unknown connector {connector!r}"
                f"{did_you_mean(str(connector), known)} (sources: sse_source; sinks: "
                f"{', '.join(SINK_CONNECTORS)})",
                option="connector",
            )
        table_options, inline = parse_table_options(
            [c.name for c in columns], _values(stmt.options)
        )
        table_options = _event_time(stmt, columns, table_options)
        build_row_decoder(name, list(columns), table_options.format)  # checks columns vs format
        table = TableDef(name, columns, table_options, inline, stmt.text)
        self.catalog.connection_options(table)  # checks connection + inline options now
        self.catalog.sinks.pop(name, None)
        self.catalog.tables[name] = table
        return Message(f"CREATE TABLE {name}")

    # -- views ----------------------------------------------------------------------------

    def _create_view(self, stmt: ast.CreateView) -> Result:
        name = stmt.name
        self._check_case_clash(name)
        if name in self.catalog.tables:
            raise CatalogError(f"'{name}' is a table; drop it first or pick another name")
        if name in stmt.query.sources:
            raise SQLError(f"CREATE VIEW {name}: a view cannot read itself",
                           line=stmt.line, column=stmt.column)
        if self._exists(name in self.catalog.views, stmt, "view"):
            return Message(f"VIEW {name} exists, skipped")
        view = ViewDef(name, stmt.query, stmt.text)
        previous = self.catalog.views.pop(name, None)
        self.catalog.views[name] = view
        try:
            self._check_query(stmt.query, f"CREATE VIEW {name}")
        except LaminarError:
            self.catalog.views.pop(name)
            if previous is not None:
                self.catalog.views[name] = previous
            raise
        return Message(f"CREATE VIEW {name}")

    # -- queries --------------------------------------------------------------------------

    def _select(self, stmt: ast.Select) -> Result:
        return self.query(stmt.query, "SELECT")

    def _explain(self, stmt: ast.Explain) -> Result:
        """The stages the query would run on (laminar.sql.explain); nothing is started."""
        from laminar.sql import explain

        tables, _, _ = self.catalog.view_dependencies(stmt.query.sources)
        if not tables:
            return Rows(explain.COLUMNS, explain.one_shot())
        planned = self.query(stmt.query, "EXPLAIN")
        assert isinstance(planned, ContinuousQuery)
        try:
            return Rows(explain.COLUMNS, explain.stages(planned.query))
        finally:
            planned.close()

    def query(
        self, query: ast.Query, label: str = "SELECT", extra_views: Mapping[str, str] | None = None
    ) -> Result:
        """Plan ``query``: a ContinuousQuery over a stream, or Rows over system tables.

        ``extra_views`` are views of this query only (name -> SELECT), e.g. INSERT INTO's
        projection reads the user's query as one; ``query.sources`` lists what they read.
        """
        sources = [s for s in query.sources if s not in (extra_views or {})]
        for extra in (extra_views or {}).values():
            from laminar.sql.query import parse, relations

            sources.extend(relations(parse(extra)))
        tables, views, system = self.catalog.view_dependencies(sources)
        if not tables:
            return self._one_shot(query, views, system, label)
        if len(tables) > 1:
            raise SQLError(
                f"{label}: the query reads {len(tables)} streams ({', '.join(tables)}); "
                "stream-stream joins are not supported. Supported over one stream: filters, "
                "projections, windows (TUMBLE, HOP, SESSION), GROUP BY, and views over "
                "windowed views"
            )
        if system:
            raise SQLError(f"{label}: a query over a stream cannot read system tables too")
        table = self.catalog.resolve_table(tables[0])
        stats = PipelineStats(table.name, table.options.connection)
        observer = self.observability.observer()
        source = SSETableSource(table, stats, observer)
        batch_query = self._plan(query, label, table, source.schema, extra_views)
        running = ContinuousQuery(
            query.sql, source, batch_query, limit=query.limit, on_close=self._forget
        )
        self.queries[running.id] = running
        self.observability.watch(running, observer)
        return running

    def _plan(
        self,
        query: ast.Query,
        label: str,
        table: SSETableDef,
        schema: pa.Schema,
        extra_views: Mapping[str, str] | None,
    ) -> BatchQuery | StagedQuery:
        """The per-batch work of ``query`` over ``table``'s stream."""
        plain = None if extra_views else read_plain(query.sql)
        if plain is not None and plain.relation == table.name:
            # What the planner makes of a plain query over the stream itself (one
            # stateless stage), without loading sqlglot to analyse it.
            return BatchQuery(query.sql, table.name, schema,
                              partitions=table.options.parallelism, statement=label)
        from laminar.sql.planner import StreamContext, build

        context = StreamContext(
            table=table.name,
            schema=schema,
            views={
                **{name: v.query.sql for name, v in self.catalog.views.items()},
                **(extra_views or {}),
            },
            partitions=table.options.parallelism,
            event_time_field=table.options.event_time_field,
            watermark_delay_ms=table.options.watermark_delay_ms,
            idle_timeout_ms=table.options.idle_timeout_ms,
            memory_limit_mb=table.options.state_memory_limit_mb,
            spill_dir=str(self.state.directory) if self.state is not None else None,
            clock=self.clock,
        )
        built = build(query.sql, label, context)
        if len(built.stages) == 1 and isinstance(built.stages[0], BatchQuery):
            return built.stages[0]
        return StagedQuery(built)

    def _forget(self, query: ContinuousQuery) -> None:
        self.queries.pop(query.id, None)
        self.observability.release(query)

    def _check_query(self, query: ast.Query, label: str) -> None:
        """Bind ``query`` against empty batches, so errors surface when the statement runs."""
        result = self.query(query, label)
        if isinstance(result, ContinuousQuery):
            result.close()

    def _one_shot(self, query: ast.Query, views: list[str], system: list[str], label: str) -> Rows:
        # Sandboxed: a one-shot query reads system tables and views, never files or the
        # network (it may come from the monitoring port's POST /sql).
        con = duckdb.connect(":memory:", config={"enable_external_access": False})
        try:
            tables = self.system_tables(self) if system else {}
            for name in system:
                relation = tables[name]
                if isinstance(relation, pa.Table):
                    con.register(_system_relation(name), relation)
                else:
                    relation(con, _system_relation(name))
            for view in views:
                view_sql = _use_system_relations(self.catalog.views[view].query.sql)
                con.execute(f"CREATE VIEW {quote(view)} AS {view_sql}")
            con.execute("SET lock_configuration = true")  # the set-up is done: no SET after it
            caps = limits.current()  # set by a server answering over HTTP; None locally
            with limits.deadline(con, caps):
                cursor = con.execute(_use_system_relations(query.sql))
                columns = [d[0] for d in cursor.description or []]
                types = [str(d[1]) for d in cursor.description or []]
                return Rows(columns, limits.fetch_capped(cursor, caps), types)
        except duckdb.Error as exc:
            raise SQLError(f"{label}: {str(exc).strip()}") from exc
        finally:
            con.close()

    def _insert(self, stmt: ast.InsertInto) -> Result:
        """A continuous query whose rows go to a sink table (``ContinuousQuery.sink``)."""
        target = stmt.target
        label = f"INSERT INTO {target}"
        sink = self.catalog.sinks.get(target)
        if sink is None:
            if target in self.catalog.tables:
                raise SQLError(
                    f"{label}: '{target}' is an SSE source table; INSERT INTO writes to a sink "
                    "table: CREATE TABLE … WITH (connector = 'filesystem' | 'webhook' | "
                    "'stdout' | 'blackhole', …)"
                )
            raise CatalogError(
                f"{label}: unknown sink table '{target}'"
                f"{did_you_mean(target, self.catalog.sinks)}; create it with CREATE TABLE "
                f"{target} (…) WITH (connector = 'filesystem', path = '…')"
            )
        projection, inner = _sink_projection(self, stmt.query, sink, label)
        result = self.query(projection, label, inner)
        if not isinstance(result, ContinuousQuery):
            raise SQLError(
                f"{label}: the query reads no stream; INSERT INTO runs a continuous query over "
                "an SSE table"
            )
        result.sink = sink
        return result

    # -- DROP / SHOW / DESCRIBE --------------------------------------------------------

    def _drop(self, stmt: ast.Drop) -> Result:
        kind = stmt.kind
        stores: dict[str, dict[str, Any]] = {
            "CONNECTION": self.catalog.connections,
            "TABLE": self.catalog.tables,
            "VIEW": self.catalog.views,
        }
        store = stores[kind]
        name = stmt.name
        if kind == "TABLE" and name in self.catalog.sinks:
            del self.catalog.sinks[name]
            return Message(f"DROP TABLE {name}")
        if name not in store:
            if stmt.if_exists:
                return Message(f"{kind} {name} does not exist, skipped")
            raise CatalogError(
                f"DROP {kind}: {kind.lower()} '{name}' does not exist{did_you_mean(name, store)}"
                f" (use DROP {kind} IF EXISTS to ignore this)"
            )
        users = (
            [t.name for t in self.catalog.tables.values() if t.options.connection == name]
            if kind == "CONNECTION"
            else [v.name for v in self.catalog.views.values() if name in v.query.sources]
        )
        if users:
            raise CatalogError(
                f"DROP {kind}: {', '.join(users)} still use{'s' if len(users) == 1 else ''} "
                f"'{name}'; drop {'it' if len(users) == 1 else 'them'} first"
            )
        del store[name]
        return Message(f"DROP {kind} {name}")

    def _show(self, stmt: ast.Show) -> Result:
        catalog = self.catalog
        rows: list[tuple[Any, ...]]
        if stmt.kind == "CONNECTIONS":
            rows = [
                (c.name, c.connector, c.options.display_endpoint, _json(c.options.redacted()))
                for c in catalog.connections.values()
            ]
            return Rows(["name", "connector", "endpoint", "options"], rows)
        if stmt.kind == "TABLES":
            rows = []
            for t in catalog.tables.values():
                options = t.options.describe()
                if t.inline:  # the inline connection options, as the effective ones show them
                    effective = _effective_redacted(catalog, t)
                    options.update({k: effective.get(k, "***") for k in t.inline})
                columns = ", ".join(f"{c.name} {c.type}" for c in t.columns)
                rows.append((t.name, "sse_source", t.options.connection, columns, _json(options)))
            for sink in catalog.sinks.values():
                columns = ", ".join(f"{c.name} {c.type}" for c in sink.columns)
                options = sink.spec.describe()
                rows.append((sink.name, sink.spec.connector, None, columns, _json(options)))
            return Rows(["name", "connector", "connection", "columns", "options"], rows)
        return Rows(["name", "sql"], [(v.name, v.query.sql) for v in catalog.views.values()])

    def _describe(self, stmt: ast.Describe) -> Result:
        name = stmt.name
        catalog = self.catalog
        if name in catalog.tables or name in catalog.sinks:
            table = catalog.tables.get(name) or catalog.sinks[name]
            rows = [
                (c.name, parse_type(c.type, column=c.name).name, c.primary_key)
                for c in table.columns
            ]
            return Rows(["column_name", "column_type", "primary_key"], rows)
        if name in catalog.views:
            result = self.query(catalog.views[name].query, f"DESCRIBE {name}")
            if isinstance(result, Message):
                raise CatalogError(f"DESCRIBE {name}: the view is not a query")
            columns, types = result.columns, result.types
            if isinstance(result, ContinuousQuery):
                result.close()
            return Rows(
                ["column_name", "column_type", "primary_key"],
                [(c, t, False) for c, t in zip(columns, types, strict=True)],
            )
        if name in catalog.connections:
            conn = catalog.connections[name]
            return Rows(["option", "value"], sorted(conn.options.redacted().items()))
        candidates = [*catalog.tables, *catalog.views, *catalog.connections]
        raise CatalogError(f"DESCRIBE: nothing is named '{name}'{did_you_mean(name, candidates)}")

    # -- helpers --------------------------------------------------------------------------

    def _check_case_clash(self, name: str) -> None:
        """DuckDB matches names case-insensitively, even quoted ones: refuse near-twins."""
        catalog = self.catalog
        for other in (*catalog.tables, *catalog.sinks, *catalog.views):
            if other != name and other.lower() == name.lower():
                raise CatalogError(
                    f"'{name}' differs from the existing '{other}' only in case, which SQL "
                    "cannot tell apart; pick another name"
                )

    def _exists(self, exists: bool, stmt: Any, kind: str) -> bool:
        """True when the statement should be skipped (IF NOT EXISTS); errors on a clash."""
        if not exists:
            return False
        if stmt.if_not_exists:
            return True
        if stmt.or_replace:
            return False
        raise CatalogError(
            f"{kind} '{stmt.name}' already exists; use CREATE OR REPLACE {kind.upper()} to "
            f"replace it, or CREATE {kind.upper()} IF NOT EXISTS to keep it"
        )


_HANDLERS: dict[type, Callable[[Engine, Any], Result]] = {
    ast.CreateConnection: Engine._create_connection,
    ast.CreateTable: Engine._create_table,
    ast.CreateView: Engine._create_view,
    ast.Select: Engine._select,
    ast.InsertInto: Engine._insert,
    ast.Drop: Engine._drop,
    ast.Show: Engine._show,
    ast.Describe: Engine._describe,
    ast.Explain: Engine._explain,
}


INSERT_RELATION = "__laminar_insert"


def _sink_projection(
    engine: Engine, query: ast.Query, sink: SinkTableDef, label: str
) -> tuple[ast.Query, dict[str, str]]:
    """``query`` narrowed to the sink's columns, by name, in the sink's order and types.

    The user's query becomes a view of the projection (returned with it), so that an
    aggregating query keeps its operators. An updating result keeps its ``op`` column.
    """
    probe = engine.query(query, label)
    if isinstance(probe, Message):
        raise CatalogError(f"{label}: the query returns no rows")
    produced = list(probe.columns)
    updating = False
    if isinstance(probe, ContinuousQuery):
        updating = probe.staged is not None and probe.staged.updating
        probe.close()
    for column in sink.column_names:
        if column not in produced:
            raise SQLError(
                f"{label}: the query produces no column '{column}' for the sink table"
                f"{did_you_mean(column, produced)} (it produces {', '.join(produced)}); "
                f"name it in the SELECT, e.g. … AS {column}"
            )
    # Each column as the sink table declares it (FLOAT is DOUBLE here, as everywhere).
    columns = [
        f"CAST({quote(c.name)} AS {parse_type(c.type, column=c.name).name}) AS {quote(c.name)}"
        for c in sink.columns
    ]
    from laminar.runtime.operators.aggregate import OP_COLUMN  # loaded for aggregates only

    if updating and OP_COLUMN not in sink.column_names:
        columns.append(quote(OP_COLUMN))
    sql = f"SELECT {', '.join(columns)} FROM {INSERT_RELATION}"
    projection = ast.Query(sql, [INSERT_RELATION], query.limit, query.line, query.column)
    return projection, {INSERT_RELATION: query.sql}


_KINDS = {ast.CreateConnection: "CONNECTION", ast.CreateTable: "TABLE", ast.CreateView: "VIEW"}
_CREATES = (ast.CreateConnection, ast.CreateTable, ast.CreateView)


def _unchanged(catalog: Catalog, stmt: ast.Statement) -> bool:
    """A CREATE whose exact text defines the object already (a pipeline run again)."""
    kind = _KINDS.get(type(stmt))
    if kind is None:
        return False
    name = stmt.name  # type: ignore[attr-defined]
    stores: dict[str, list[Mapping[str, Any]]] = {
        "CONNECTION": [catalog.connections],
        "TABLE": [catalog.tables, catalog.sinks],
        "VIEW": [catalog.views],
    }
    for store in stores[kind]:
        existing = store.get(name)
        if existing is not None and existing.sql == stmt.text:
            return True
    return False


def _persist(state: StateStore, stmt: ast.Statement, result: Result) -> None:
    """Store what a successful DDL statement changed (the catalog survives a restart)."""
    if isinstance(result, Message) and result.text.endswith("skipped"):
        return
    kind = _KINDS.get(type(stmt))
    if kind is not None:
        name = stmt.name  # type: ignore[attr-defined]
        state.record(kind, name, stmt.text)
        if kind == "TABLE":
            state.forget_table(name)  # a new definition starts from its last_event_id option
    elif isinstance(stmt, ast.Drop):
        state.forget(stmt.kind, stmt.name)
        if stmt.kind == "TABLE":
            state.forget_table(stmt.name)


def _event_time(
    stmt: ast.CreateTable, columns: tuple[Column, ...], options: SSETableOptions
) -> SSETableOptions:
    """The event-time column (``event_time_field`` or ``WATERMARK FOR``), checked."""
    watermark = stmt.watermark
    if watermark is not None:
        column = watermark.column.lower()
        if options.event_time_field not in (None, column):
            raise ConfigError(
                f"option event_time_field: '{options.event_time_field}' and WATERMARK FOR "
                f"{column} name different event-time columns; keep one",
                option="event_time_field",
            )
        if "watermark_delay_ms" in stmt.options:
            raise ConfigError(
                "option watermark_delay_ms: the WATERMARK clause sets the delay already; keep "
                "one", option="watermark_delay_ms",
            )
        options = dataclasses.replace(
            options, event_time_field=column, watermark_delay_ms=watermark.delay_ms
        )
    field_name = options.event_time_field
    if field_name is None:
        return options
    by_name = {c.name.lower(): c for c in columns}
    if field_name not in by_name:
        names = list(by_name)
        raise SQLError(
            f"WATERMARK FOR {field_name}: no such column{did_you_mean(field_name, names)}"
        )
    kind = parse_type(by_name[field_name].type, column=field_name).name
    if not kind.startswith("TIMESTAMP"):
        raise ConfigError(
            f"option event_time_field: column '{field_name}' is {kind}; the event time must "
            "be a TIMESTAMP column (JSON ISO-8601 text or epoch numbers parse into it)",
            option="event_time_field",
        )
    return options


def _values(options: Mapping[str, ast.OptionValue]) -> dict[str, Any]:
    return {k: v.value for k, v in options.items()}


def _json(mapping: Mapping[str, Any]) -> str:
    return json.dumps(dict(mapping), sort_keys=True)


def _effective_redacted(catalog: Catalog, table: TableDef) -> dict[str, str]:
    try:
        return catalog.connection_options(table).redacted()
    except LaminarError:  # e.g. its connection was replaced by a broken one: hide everything
        return {}


def _locate(exc: LaminarError, stmt: ast.Statement) -> None:
    """Prefix the error with where it happened: the option's position, else the statement's."""
    line, column = stmt.line, stmt.column
    option = getattr(exc, "option", None)
    options = getattr(stmt, "options", None)
    if option and options and option in options:
        line, column = options[option].line, options[option].column
    name = getattr(stmt, "name", "")
    where = f"line {line}, column {column}: {stmt.label}{' ' + name if name else ''}: "
    if exc.args and isinstance(exc.args[0], str) and not exc.args[0].startswith("line "):
        exc.args = (where + exc.args[0], *exc.args[1:])


# DuckDB has a catalog of its own named "system", so system.* names are rewritten
# to registered relations before DuckDB sees the query (token by token: string
# literals and quoted identifiers stay as they are).


def _system_relation(name: str) -> str:
    return "__laminar_system_" + name.split(".")[1]


def _use_system_relations(sql: str) -> str:
    from laminar.sql.query import rename_qualified

    return rename_qualified(sql, "system", {n.split(".")[1]: _system_relation(n)
                                            for n in SYSTEM_TABLE_NAMES})


def _default_system_tables(engine: Engine) -> dict[str, Any]:
    return dict(build_system_tables(engine))
