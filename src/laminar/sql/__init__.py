"""Laminar's SQL front end: ``parse_statements(sql)`` turns text into statements.

Layers: ``tokens`` (text -> tokens), ``parser`` (tokens -> statements, dispatch by
table), ``ast`` (the frozen dataclasses it returns). SELECT bodies are kept verbatim
for DuckDB. Errors are ``laminar.errors.SQLError`` with line, column and an excerpt.
"""

from laminar.sql.ast import (
    ColumnDef,
    CreateConnection,
    CreateTable,
    CreateView,
    Describe,
    Drop,
    Explain,
    InsertInto,
    OptionScalar,
    OptionValue,
    Query,
    Select,
    Show,
    Statement,
)
from laminar.sql.parser import (
    parse_statement,
    parse_statements,
    split_statements,
    statement_complete,
)

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
    "parse_statement",
    "parse_statements",
    "split_statements",
    "statement_complete",
]
