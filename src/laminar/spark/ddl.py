"""Laminar DDL -> the options of a "laminar_sse" Spark stream.

The DDL runs through Laminar's own parser and catalog (``Engine``), so a table
is valid here exactly when ``laminar run`` accepts it, connections and ${VAR}s
included (a ${VAR} stays a template, resolved at each connection as in
Laminar). The Spark-only options (``wal_path``, ``endpoints``,
``maxEventsPerTrigger``, ``capture_endpoint``) may be given in a WITH clause too:
they are taken out before Laminar sees the statement.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from laminar.errors import ConfigError
from laminar.options import option_text
from laminar.spark.options import WITH_CLAUSE_ONLY
from laminar.sql import ast
from laminar.sql.engine import Engine
from laminar.sql.parser import parse_statements


def _split(
    stmt: ast.CreateConnection | ast.CreateTable,
) -> tuple[ast.CreateConnection | ast.CreateTable, dict[str, str]]:
    """The statement without its Spark-only options, and those options as text."""
    options = dict(stmt.options)
    spark = {
        k: option_text(options.pop(k).value) for k in list(options) if k.lower() in WITH_CLAUSE_ONLY
    }
    if "endpoints" in spark and "endpoint" not in options:
        try:
            first = json.loads(spark["endpoints"])[0]
        except (ValueError, IndexError, KeyError, TypeError):
            first = None
        if isinstance(first, str):  # Laminar checks the first; Spark reads them all
            options["endpoint"] = ast.OptionValue(first, repr(first))
    return dataclasses.replace(stmt, options=options), spark


def options_from_ddl(sql: str, table: str | None = None) -> tuple[dict[str, str], list]:
    """Spark options and Laminar columns of ``table`` as declared by ``sql``."""
    engine = Engine()
    raw: dict[str, dict[str, str]] = {}
    spark_only: dict[str, dict[str, str]] = {}
    tables: list[str] = []
    for stmt in parse_statements(sql):
        if not isinstance(stmt, ast.CreateConnection | ast.CreateTable):
            raise ConfigError(
                f"{stmt.label}: laminar.spark.stream reads CREATE CONNECTION and CREATE TABLE "
                "statements only; write the query with Spark's DataFrame API or spark.sql"
            )
        stripped, extra = _split(stmt)
        engine.run_statement(stripped)
        kind = "connection" if isinstance(stmt, ast.CreateConnection) else "table"
        raw[f"{kind}:{stmt.name}"] = {
            k: option_text(v.value) for k, v in stripped.options.items()
        }
        spark_only[f"{kind}:{stmt.name}"] = extra
        if kind == "table":
            tables.append(stmt.name)
    name = _pick(tables, table)
    definition = engine.catalog.table(name)
    options: dict[str, str] = {}
    connection = definition.options.connection
    if connection:
        options.update(raw[f"connection:{connection}"])
        options.update(spark_only[f"connection:{connection}"])
    own = raw[f"table:{name}"]
    options.update({k: v for k, v in own.items() if k not in ("connector", "connection")})
    options.update(spark_only[f"table:{name}"])
    if "endpoints" in options:
        options.pop("endpoint", None)  # only put there for Laminar's check above
    options["table"] = name
    options["columns"] = json.dumps([[c.name, c.type] for c in definition.columns])
    return options, list(definition.columns)


def _pick(tables: list[str], wanted: str | None) -> str:
    if wanted is not None:
        key = wanted if wanted in tables else wanted.lower()
        if key not in tables:
            raise ConfigError(
                f"table {wanted!r} is not created by this DDL "
                f"(tables: {', '.join(tables) or 'none'})",
                option="table",
            )
        return key
    if len(tables) != 1:
        raise ConfigError(
            "name the table to read: laminar.spark.stream(spark, ddl, table='...') "
            f"(this DDL creates {', '.join(tables) or 'no table'})",
            option="table",
        )
    return tables[0]


def merge(options: dict[str, str], extra: Mapping[str, Any]) -> dict[str, str]:
    """``options`` with ``extra`` (keyword arguments of stream()) laid over, as text."""
    merged = dict(options)
    for key, value in extra.items():
        merged[key.lower()] = option_text(value)
    return merged


__all__ = ["merge", "options_from_ddl"]
