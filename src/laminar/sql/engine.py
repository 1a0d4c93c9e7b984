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

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from laminar._suggest import did_you_mean
from laminar.connectors.sse.options import ConnectionOptions
from laminar.connectors.sse.source import SSETableSource
from laminar.connectors.sse.table_options import parse_table_options
from laminar.errors import CatalogError, ConfigError, LaminarError, SQLError
from laminar.formats import Column, build_row_decoder, parse_type
from laminar.runtime.stats import PipelineStats
from laminar.sql import ast
from laminar.sql.catalog import (
    SYSTEM_TABLE_NAMES,
    Catalog,
    ConnectionDef,
    TableDef,
    ViewDef,
)
from laminar.sql.continuous import ContinuousQuery
from laminar.sql.executor import BatchQuery, ViewSQL, quote
from laminar.sql.parser import parse_statements

CONNECTORS = ("sse_source", "sse")


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

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.catalog = Catalog(env)
        self.env = env
        self.queries: dict[int, ContinuousQuery] = {}
        self.system_tables: Callable[[Engine], dict[str, pa.Table]] = _default_system_tables

    # -- entry points -------------------------------------------------------------------

    def execute(self, sql: str) -> list[Result]:
        """Run every statement of ``sql`` in order; return one result per statement."""
        return [self.run_statement(stmt) for stmt in parse_statements(sql)]

    def run_statement(self, stmt: ast.Statement) -> Result:
        handler = _HANDLERS[type(stmt)]
        try:
            return handler(self, stmt)
        except SQLError as exc:
            if exc.line is None:
                raise SQLError(exc.message, line=stmt.line, column=stmt.column) from exc
            raise
        except LaminarError as exc:
            _locate(exc, stmt)
            raise

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
        if name in self.catalog.views:
            raise CatalogError(f"'{name}' is a view; drop it first or pick another name")
        if self._exists(name in self.catalog.tables, stmt, "table"):
            return Message(f"TABLE {name} exists, skipped")
        columns = tuple(Column(c.name, c.type, c.primary_key) for c in stmt.columns)
        for column in columns:
            parse_type(column.type, column=column.name)
        table_options, inline = parse_table_options(
            name, [c.name for c in columns], _values(stmt.options)
        )
        build_row_decoder(name, list(columns), table_options.format)  # checks columns vs format
        table = TableDef(name, columns, table_options, inline, stmt.text)
        self.catalog.connection_options(table)  # checks connection + inline options now
        self.catalog.tables[name] = table
        return Message(f"CREATE TABLE {name}")

    # -- views ----------------------------------------------------------------------------

    def _create_view(self, stmt: ast.CreateView) -> Result:
        name = stmt.name
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

    def query(self, query: ast.Query, label: str = "SELECT") -> Result:
        """Plan ``query``: a ContinuousQuery over a stream, or Rows over system tables."""
        tables, views, system = self.catalog.view_dependencies(query.sources)
        if not tables:
            return self._one_shot(query, views, system, label)
        if len(tables) > 1:
            raise SQLError(
                f"{label}: the query reads {len(tables)} streams ({', '.join(tables)}); "
                "joining streams needs windows, which are not available yet — query one stream"
            )
        if system:
            raise SQLError(f"{label}: a query over a stream cannot read system tables too")
        table = self.catalog.resolve_table(tables[0])
        stats = PipelineStats(table.name, table.options.connection)
        source = SSETableSource(table, stats)
        batch_query = BatchQuery(
            query.sql,
            table.name,
            source.schema,
            [ViewSQL(v, self.catalog.views[v].query.sql) for v in views],
            partitions=table.options.parallelism,
            statement=label,
        )
        running = ContinuousQuery(
            query.sql, source, batch_query, limit=query.limit, on_close=self._forget
        )
        self.queries[running.id] = running
        return running

    def _forget(self, query: ContinuousQuery) -> None:
        self.queries.pop(query.id, None)

    def _check_query(self, query: ast.Query, label: str) -> None:
        """Bind ``query`` against empty batches, so errors surface when the statement runs."""
        result = self.query(query, label)
        if isinstance(result, ContinuousQuery):
            result.close()

    def _one_shot(self, query: ast.Query, views: list[str], system: list[str], label: str) -> Rows:
        con = duckdb.connect(":memory:")
        try:
            tables = self.system_tables(self) if system else {}
            for name in system:
                con.register(_system_relation(name), tables[name])
            for view in views:
                view_sql = _use_system_relations(self.catalog.views[view].query.sql)
                con.execute(f"CREATE VIEW {quote(view)} AS {view_sql}")
            cursor = con.execute(_use_system_relations(query.sql))
            columns = [d[0] for d in cursor.description or []]
            types = [str(d[1]) for d in cursor.description or []]
            return Rows(columns, cursor.fetchall(), types)
        except duckdb.Error as exc:
            raise SQLError(f"{label}: {str(exc).strip()}") from exc
        finally:
            con.close()

    def _insert(self, stmt: ast.InsertInto) -> Result:
        raise SQLError(
            f"INSERT INTO {stmt.target}: sink tables are not available yet; "
            "a continuous SELECT writes its rows to stdout",
            line=stmt.line,
            column=stmt.column,
        )

    # -- DROP / SHOW / DESCRIBE --------------------------------------------------------

    def _drop(self, stmt: ast.Drop) -> Result:
        kind = stmt.kind
        store: dict[str, Any] = {
            "CONNECTION": self.catalog.connections,
            "TABLE": self.catalog.tables,
            "VIEW": self.catalog.views,
        }[kind]
        name = stmt.name
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
                if t.inline:
                    options.update(ConnectionOptions.from_options(t.inline).redacted())
                columns = ", ".join(f"{c.name} {c.type}" for c in t.columns)
                rows.append((t.name, "sse_source", t.options.connection, columns, _json(options)))
            return Rows(["name", "connector", "connection", "columns", "options"], rows)
        return Rows(["name", "sql"], [(v.name, v.query.sql) for v in catalog.views.values()])

    def _describe(self, stmt: ast.Describe) -> Result:
        name = stmt.name
        catalog = self.catalog
        if name in catalog.tables:
            table = catalog.tables[name]
            rows = [
                (c.name, parse_type(c.type, column=c.name).name, c.primary_key)
                for c in table.columns
            ]
            return Rows(["column_name", "column_type", "primary_key"], rows)
        if name in catalog.views:
            result = self.query(catalog.views[name].query, f"DESCRIBE {name}")
            if isinstance(result, ContinuousQuery):
                columns, types = result.columns, result.types
                result.close()
            else:
                columns, types = result.columns, result.types
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
}


def _values(options: Mapping[str, ast.OptionValue]) -> dict[str, Any]:
    return {k: v.value for k, v in options.items()}


def _json(mapping: Mapping[str, Any]) -> str:
    return json.dumps(dict(mapping), sort_keys=True)


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
# to registered relations before DuckDB sees the query.
_SYSTEM_NAME = re.compile(
    r"\bsystem\s*\.\s*(" + "|".join(n.split(".")[1] for n in SYSTEM_TABLE_NAMES) + r")\b",
    re.IGNORECASE,
)


def _system_relation(name: str) -> str:
    return "__laminar_system_" + name.split(".")[1]


def _use_system_relations(sql: str) -> str:
    return _SYSTEM_NAME.sub(lambda m: _system_relation("system." + m.group(1).lower()), sql)


def _default_system_tables(engine: Engine) -> dict[str, pa.Table]:
    from laminar.observability.system_tables import build_system_tables

    return build_system_tables(engine)
