"""Table columns and their SQL types, normalised to Arrow.

A :class:`Column` is what ``CREATE TABLE`` declares: a name, the type as the user
wrote it, and whether it is the primary key. :func:`parse_type` turns the written
type into a :class:`TypeSpec` (a conversion *kind*, the Arrow type, the canonical
SQL spelling); :func:`sql_type_to_arrow` is its public face. Unknown types raise
:class:`~laminar.errors.ConfigError` listing the supported ones.

Type table (aliases on the left map to the canonical name on the right):

    TEXT, VARCHAR[(n)], STRING, CHAR[(n)], BPCHAR  -> TEXT       pa.string()
    BOOLEAN, BOOL                                  -> BOOLEAN    pa.bool_()
    TINYINT, INT1                                  -> TINYINT    pa.int8()
    SMALLINT, INT2                                 -> SMALLINT   pa.int16()
    INTEGER, INT, INT4                             -> INTEGER    pa.int32()
    BIGINT, INT8, LONG                             -> BIGINT     pa.int64()
    REAL, FLOAT4                                   -> REAL       pa.float32()
    FLOAT, DOUBLE, FLOAT8, DOUBLE PRECISION        -> DOUBLE     pa.float64()
    DECIMAL[(p[,s])], NUMERIC[(p[,s])]             -> DECIMAL(p,s)  pa.decimal128(p, s),
                                                      default (18,3) like DuckDB
    TIMESTAMP, DATETIME                            -> TIMESTAMP  pa.timestamp("us"), UTC
    TIMESTAMPTZ, TIMESTAMP WITH TIME ZONE          -> TIMESTAMPTZ pa.timestamp("us", "UTC")
    JSON                                           -> JSON       pa.string() + metadata

``FLOAT`` is double precision, as in PostgreSQL, so that ``23.1`` stays ``23.1``;
write ``REAL`` for 4-byte floats. Every Arrow field carries metadata
``laminar.type`` (canonical name) and ``laminar.sql_type`` (as written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from laminar._suggest import did_you_mean
from laminar.errors import ConfigError

TEXT = "text"
BOOL = "bool"
INT = "int"
FLOAT = "float"
DECIMAL = "decimal"
TIMESTAMP = "timestamp"
JSON = "json"

DEFAULT_DECIMAL = (18, 3)

# canonical name -> (kind, arrow type); DECIMAL is built from its arguments.
_SIMPLE: dict[str, tuple[str, pa.DataType]] = {
    "TEXT": (TEXT, pa.string()),
    "BOOLEAN": (BOOL, pa.bool_()),
    "TINYINT": (INT, pa.int8()),
    "SMALLINT": (INT, pa.int16()),
    "INTEGER": (INT, pa.int32()),
    "BIGINT": (INT, pa.int64()),
    "REAL": (FLOAT, pa.float32()),
    "DOUBLE": (FLOAT, pa.float64()),
    "TIMESTAMP": (TIMESTAMP, pa.timestamp("us")),
    "TIMESTAMPTZ": (TIMESTAMP, pa.timestamp("us", tz="UTC")),
    "JSON": (JSON, pa.string()),
}

_ALIASES: dict[str, str] = {
    "TEXT": "TEXT",
    "VARCHAR": "TEXT",
    "STRING": "TEXT",
    "CHAR": "TEXT",
    "BPCHAR": "TEXT",
    "CHARACTER VARYING": "TEXT",
    "BOOLEAN": "BOOLEAN",
    "BOOL": "BOOLEAN",
    "TINYINT": "TINYINT",
    "INT1": "TINYINT",
    "SMALLINT": "SMALLINT",
    "INT2": "SMALLINT",
    "INTEGER": "INTEGER",
    "INT": "INTEGER",
    "INT4": "INTEGER",
    "BIGINT": "BIGINT",
    "INT8": "BIGINT",
    "LONG": "BIGINT",
    "REAL": "REAL",
    "FLOAT4": "REAL",
    "FLOAT": "DOUBLE",
    "DOUBLE": "DOUBLE",
    "FLOAT8": "DOUBLE",
    "DOUBLE PRECISION": "DOUBLE",
    "DECIMAL": "DECIMAL",
    "NUMERIC": "DECIMAL",
    "TIMESTAMP": "TIMESTAMP",
    "DATETIME": "TIMESTAMP",
    "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP",
    "TIMESTAMPTZ": "TIMESTAMPTZ",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ",
    "JSON": "JSON",
}

# types that accept a parenthesised argument list (the length of text is not enforced)
_WITH_ARGS = {"TEXT", "DECIMAL"}

SUPPORTED_TYPES = (
    "TEXT/VARCHAR/STRING, BOOLEAN, TINYINT, SMALLINT, INTEGER/INT, BIGINT, REAL, "
    "FLOAT/DOUBLE, DECIMAL[(p,s)]/NUMERIC, TIMESTAMP, TIMESTAMPTZ, JSON"
)

_TYPE_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_ ]*?)\s*(?:\(\s*([^()]*?)\s*\))?\s*$")

TYPE_METADATA_KEY = b"laminar.type"
SQL_TYPE_METADATA_KEY = b"laminar.sql_type"


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """A column type, resolved: conversion kind, Arrow type, canonical SQL name."""

    kind: str
    arrow: pa.DataType
    name: str


@dataclass(frozen=True, slots=True)
class Column:
    """A declared table column: ``type`` is the SQL type exactly as written."""

    name: str
    type: str
    primary_key: bool = False

    @property
    def spec(self) -> TypeSpec:
        return parse_type(self.type, column=self.name)


def _unknown(type_text: str, column: str | None) -> ConfigError:
    where = f" for column '{column}'" if column else ""
    head = type_text.strip().split("(")[0].strip().upper()
    hint = did_you_mean(head, _ALIASES) if head else ""
    return ConfigError(
        f"unsupported column type '{type_text}'{where}{hint}; supported types: {SUPPORTED_TYPES}"
    )


def parse_type(type_text: str, *, column: str | None = None) -> TypeSpec:
    """Resolve a SQL type as written (any case, extra spaces) into a :class:`TypeSpec`."""
    match = _TYPE_RE.match(type_text or "")
    if not match:
        raise _unknown(type_text, column)
    base = " ".join(match.group(1).upper().split())
    args = match.group(2)
    canonical = _ALIASES.get(base)
    if canonical is None:
        raise _unknown(type_text, column)
    if args is not None and canonical not in _WITH_ARGS:
        raise ConfigError(
            f"column type '{type_text}'{f' for column {column!r}' if column else ''} takes "
            f"no arguments; write {canonical}"
        )
    if canonical == "DECIMAL":
        return _decimal(type_text, args, column)
    if canonical == "TEXT" and args is not None and not re.fullmatch(r"\d+", args):
        raise ConfigError(
            f"column type '{type_text}': the length must be a number, as in VARCHAR(255)"
        )
    kind, arrow = _SIMPLE[canonical]
    return TypeSpec(kind, arrow, canonical)


def _decimal(type_text: str, args: str | None, column: str | None) -> TypeSpec:
    precision, scale = DEFAULT_DECIMAL
    if args is not None:
        parts = [p.strip() for p in args.split(",")]
        if len(parts) > 2 or not all(re.fullmatch(r"\d+", p) for p in parts):
            raise ConfigError(
                f"column type '{type_text}': write DECIMAL(precision, scale), e.g. DECIMAL(10,2)"
            )
        precision = int(parts[0])
        scale = int(parts[1]) if len(parts) == 2 else 0
    if not 1 <= precision <= 38 or scale > precision:
        where = f" for column '{column}'" if column else ""
        raise ConfigError(
            f"column type '{type_text}'{where}: precision must be 1..38 and scale 0..precision"
        )
    return TypeSpec(DECIMAL, pa.decimal128(precision, scale), f"DECIMAL({precision},{scale})")


def sql_type_to_arrow(type: str) -> pa.DataType:
    """The Arrow type a column of SQL type ``type`` holds (JSON is ``pa.string()``)."""
    return parse_type(type).arrow


def arrow_field(column: Column, spec: TypeSpec | None = None) -> pa.Field:
    """The Arrow field for ``column``, with ``laminar.type`` / ``laminar.sql_type`` metadata."""
    spec = spec or column.spec
    metadata = {TYPE_METADATA_KEY: spec.name.encode(), SQL_TYPE_METADATA_KEY: column.type.encode()}
    if column.primary_key:
        metadata[b"laminar.primary_key"] = b"true"
    return pa.field(column.name, spec.arrow, nullable=True, metadata=metadata)
