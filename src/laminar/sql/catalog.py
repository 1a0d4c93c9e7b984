"""The catalog: connections, tables and views by name, with their validated definitions.

Tables and views share one namespace (both are relations a query reads);
connections have their own. A table keeps its own options and the name of its
connection; the connection is laid under the table's inline connection options
when a query starts (``resolve_table``), so a replaced connection takes effect
for the next query. Secrets stay inside ``ConnectionOptions``; everything
shown to people goes through ``redacted()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from laminar._suggest import did_you_mean
from laminar.connectors.sse.options import ConnectionOptions
from laminar.connectors.sse.source import SSETableDef
from laminar.connectors.sse.table_options import SSETableOptions
from laminar.errors import CatalogError, ConfigError
from laminar.formats import Column
from laminar.sinks.options import SinkSpec
from laminar.sql.ast import Query


@dataclass(frozen=True)
class ConnectionDef:
    name: str
    connector: str
    options: ConnectionOptions
    sql: str = ""


@dataclass(frozen=True)
class TableDef:
    name: str
    columns: tuple[Column, ...]
    options: SSETableOptions
    inline: Mapping[str, Any] = field(default_factory=dict)  # connection options given inline
    sql: str = ""


@dataclass(frozen=True)
class SinkTableDef:
    """A table written by INSERT INTO (connector stdout, filesystem, blackhole, webhook)."""

    name: str
    columns: tuple[Column, ...]
    spec: SinkSpec
    sql: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class ViewDef:
    name: str
    query: Query
    sql: str = ""


class Catalog:
    """Named connections, tables and views (see the module docstring)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = env
        self.connections: dict[str, ConnectionDef] = {}
        self.tables: dict[str, TableDef] = {}
        self.views: dict[str, ViewDef] = {}
        self.sinks: dict[str, SinkTableDef] = {}  # share the tables' namespace

    # -- lookups ------------------------------------------------------------------

    def relation_names(self) -> list[str]:
        return [*self.tables, *self.views]

    def table(self, name: str) -> TableDef:
        try:
            return self.tables[name]
        except KeyError:
            raise CatalogError(
                f"unknown table '{name}'{did_you_mean(name, self.tables)}"
            ) from None

    def unknown_relation(self, name: str) -> CatalogError:
        candidates = [*self.relation_names(), *SYSTEM_TABLE_NAMES]
        return CatalogError(
            f"unknown table or view '{name}'{did_you_mean(name, candidates)} "
            "(SHOW TABLES and SHOW VIEWS list them)"
        )

    def resolve_table(self, name: str) -> SSETableDef:
        """The table with its connection options merged (named connection < inline)."""
        table = self.table(name)
        return SSETableDef(
            table.name, table.columns, table.options, self.connection_options(table)
        )

    def connection_options(self, table: TableDef) -> ConnectionOptions:
        conn_name = table.options.connection
        named = self.connections.get(conn_name) if conn_name else None
        if named is not None:
            return named.options.with_overrides(table.inline) if table.inline else named.options
        if "endpoint" not in table.inline:
            if conn_name:
                raise CatalogError(
                    f"table {table.name}: connection '{conn_name}' does not exist"
                    f"{did_you_mean(conn_name, self.connections)}; create it with CREATE "
                    f"CONNECTION {conn_name} FROM sse_source WITH (endpoint = '…'), or give "
                    "the table an endpoint option"
                )
            raise ConfigError(
                f"table {table.name}: no endpoint — set connection = '<name of a CREATE "
                "CONNECTION>' or endpoint = 'https://…' in its WITH clause",
                option="endpoint",
            )
        return ConnectionOptions.from_options(table.inline, env=self.env)

    def view_dependencies(self, sources: list[str]) -> tuple[list[str], list[str], list[str]]:
        """(stream tables, views in creation order, system tables) that ``sources`` read."""
        tables: list[str] = []
        views: list[str] = []
        system: list[str] = []
        pending = list(sources)
        seen: set[str] = set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in self.tables:
                tables.append(name)
            elif name in self.views:
                views.append(name)
                pending.extend(self.views[name].query.sources)
            elif name in SYSTEM_TABLE_NAMES:
                system.append(name)
            elif name in self.sinks:
                raise CatalogError(
                    f"'{name}' is a sink table ({self.sinks[name].spec.connector}): it is "
                    "written with INSERT INTO, not read; query the source table instead"
                )
            else:
                raise self.unknown_relation(name)
        return sorted(tables), self._dependency_order(views), sorted(system)

    def _dependency_order(self, views: list[str]) -> list[str]:
        """``views`` ordered so that every view comes after the views it reads."""
        ordered: list[str] = []
        wanted = set(views)

        def visit(name: str) -> None:
            if name in ordered:
                return
            for source in self.views[name].query.sources:
                if source in wanted and source != name:
                    visit(source)
            ordered.append(name)

        for name in sorted(views):
            visit(name)
        return ordered



SYSTEM_TABLE_NAMES = (
    "system.connector_status",
    "system.connector_logs",
    "system.connector_metrics",
)
