"""The statements Laminar's SQL front end produces: frozen dataclasses, no behaviour.

Contract:
- Each statement class declares its parts as dataclass fields (in the order of the
  public API) and, keyword-only after them, ``line``/``column`` of its first token and
  ``text``, the exact source substring of the statement (without the closing ``;``).
- ``label`` is how messages name the statement ("CREATE TABLE", "DROP VIEW", …).
- Names are already normalised: bare identifiers lower-cased, double-quoted ones kept
  verbatim; dotted names joined with ``.``.
- SELECT bodies are not parsed: a ``Query`` carries the verbatim SQL for DuckDB plus
  what the planner needs to know about it (the relations it reads and a top-level LIMIT).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import ClassVar, Literal

OptionScalar = str | int | float | bool


@dataclass(frozen=True)
class OptionValue:
    """One ``key = value`` of a WITH clause.

    ``value`` is a string literal's content (``''`` unescaped, backslashes kept), an
    int or float for a number (sign included), or a bool for unquoted true/false.
    ``raw`` is the value exactly as written (quotes included).
    """

    value: OptionScalar
    raw: str
    line: int = 0
    column: int = 0


@dataclass(frozen=True)
class ColumnDef:
    """``name TYPE [PRIMARY KEY] [NOT NULL]``; ``type`` is normalised upper-case text."""

    name: str
    type: str
    primary_key: bool = False
    not_null: bool = False
    line: int = 0
    column: int = 0


@dataclass(frozen=True)
class Query:
    """A SELECT (or WITH … SELECT) kept as text for DuckDB.

    ``sources``: relation names read after FROM/JOIN (and after commas in a FROM list),
    at any nesting depth, lower-cased unless quoted, dotted names kept whole
    (``system.connector_status``), first occurrence order, without duplicates and
    without the query's own CTE names; table functions (``read_csv(…)``) are not listed.
    ``limit``: the value of a top-level ``LIMIT n`` / ``FETCH FIRST n ROWS ONLY`` when
    ``n`` is an integer literal, else None.
    """

    sql: str
    sources: list[str] = field(default_factory=list)
    limit: int | None = None
    line: int = 0
    column: int = 0


@dataclass(frozen=True)
class Statement:
    """Base of every statement: position and exact text of the source."""

    _label: ClassVar[str] = "statement"
    _: KW_ONLY
    line: int = 0
    column: int = 0
    text: str = ""

    @property
    def label(self) -> str:
        """How messages name this statement, e.g. "CREATE TABLE" or "DROP VIEW"."""
        return self._label


@dataclass(frozen=True)
class CreateConnection(Statement):
    """``CREATE [OR REPLACE] CONNECTION [IF NOT EXISTS] name FROM connector WITH (…)``."""

    _label: ClassVar[str] = "CREATE CONNECTION"
    name: str
    connector: str
    options: dict[str, OptionValue] = field(default_factory=dict)
    if_not_exists: bool = False
    or_replace: bool = False


@dataclass(frozen=True)
class CreateTable(Statement):
    """``CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name (columns…) [WITH (…)]``."""

    _label: ClassVar[str] = "CREATE TABLE"
    name: str
    columns: list[ColumnDef]
    options: dict[str, OptionValue] = field(default_factory=dict)
    if_not_exists: bool = False
    or_replace: bool = False
    watermark: Watermark | None = None


@dataclass(frozen=True)
class Watermark:
    """``WATERMARK FOR column AS column - INTERVAL …`` of a CREATE TABLE."""

    column: str
    delay_ms: int
    line: int = 0
    column_number: int = 0


@dataclass(frozen=True)
class CreateView(Statement):
    """``CREATE [OR REPLACE] VIEW [IF NOT EXISTS] name AS query``."""

    _label: ClassVar[str] = "CREATE VIEW"
    name: str
    query: Query
    or_replace: bool = False
    if_not_exists: bool = False


@dataclass(frozen=True)
class Select(Statement):
    """A query run on its own: ``SELECT …`` or ``WITH … SELECT …``."""

    _label: ClassVar[str] = "SELECT"
    query: Query


@dataclass(frozen=True)
class InsertInto(Statement):
    """``INSERT INTO target query``."""

    _label: ClassVar[str] = "INSERT INTO"
    target: str
    query: Query


@dataclass(frozen=True)
class Drop(Statement):
    """``DROP CONNECTION|TABLE|VIEW [IF EXISTS] name``."""

    _label: ClassVar[str] = "DROP"
    kind: Literal["CONNECTION", "TABLE", "VIEW"]
    name: str
    if_exists: bool = False

    @property
    def label(self) -> str:
        return f"DROP {self.kind}"


@dataclass(frozen=True)
class Show(Statement):
    """``SHOW CONNECTIONS|TABLES|VIEWS``."""

    _label: ClassVar[str] = "SHOW"
    kind: Literal["CONNECTIONS", "TABLES", "VIEWS"]

    @property
    def label(self) -> str:
        return f"SHOW {self.kind}"


@dataclass(frozen=True)
class Explain(Statement):
    """``EXPLAIN query``: how Laminar would run the query, without running it."""

    _label: ClassVar[str] = "EXPLAIN"
    query: Query


@dataclass(frozen=True)
class Describe(Statement):
    """``DESCRIBE name`` or ``DESC name``."""

    _label: ClassVar[str] = "DESCRIBE"
    name: str


__all__ = [
    "ColumnDef",
    "CreateConnection",
    "CreateTable",
    "CreateView",
    "Describe",
    "Drop",
    "Explain",
    "InsertInto",
    "OptionScalar",
    "OptionValue",
    "Query",
    "Select",
    "Show",
    "Statement",
]
