"""Plain queries, recognised from DuckDB's own syntax tree, so that they never need sqlglot.

Most pipelines run a filter or a projection over one stream: ``SELECT a, b * 2
FROM t WHERE … LIMIT n``. ``laminar.sql.query`` reads every query with sqlglot,
which costs ~65 ms to import and ~20 ms to warm up: a third of ``laminar run``'s
start-up beyond its libraries. DuckDB is loaded anyway and its parser is
exposed structurally (``json_serialize_sql``), so ``read`` takes a query's tree
from it and answers only when the query is plain:

* one SELECT with no WITH, set operation, DISTINCT, ORDER BY, OFFSET, GROUP BY,
  HAVING, QUALIFY, SAMPLE or window;
* FROM exactly one table by a lower-case name with no schema, column aliases
  or sample (DuckDB's tree does not say whether a name was quoted; lower-case
  reads the same either way);
* select list, WHERE and LIMIT made only of column references, constants,
  comparisons, AND / OR / NOT, IS [NOT] NULL, IN lists, BETWEEN and arithmetic
  operators (so no function that could be an aggregate), ``*`` without
  modifiers; LIMIT a plain integer.

Anything else, and any text DuckDB cannot parse, answers None: the caller then
uses sqlglot as before, so refusals and their messages are unchanged. A plain
query needs none of them: it reads its relation once, does not aggregate, and
its LIMIT is the one sqlglot would find.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import duckdb

from laminar.sql import databases

# Expression classes of DuckDB's parser that a plain query may hold (the FUNCTION
# class only for the arithmetic operators of ``_OPERATORS``).
_CLASSES = frozenset(
    {"COLUMN_REF", "CONSTANT", "COMPARISON", "CONJUNCTION", "OPERATOR", "BETWEEN", "FUNCTION"}
)
_OPERATOR_TYPES = frozenset(
    {"OPERATOR_NOT", "OPERATOR_IS_NULL", "OPERATOR_IS_NOT_NULL", "COMPARE_IN", "COMPARE_NOT_IN"}
)
_OPERATORS = frozenset({"+", "-", "*", "/", "%"})
_EMPTY_SELECT_PARTS = ("group_expressions", "group_sets")
_NULL_SELECT_PARTS = ("having", "sample", "qualify")


@dataclass(frozen=True)
class PlainQuery:
    """A plain query (see the module docstring): the relation it reads and its LIMIT."""

    relation: str
    limit: int | None


def read(sql: str) -> PlainQuery | None:
    """``sql`` as a PlainQuery, or None when it is not one (or DuckDB cannot parse it)."""
    tree = _serialize(sql)
    statements = tree.get("statements") or []
    if tree.get("error") or len(statements) != 1:
        return None
    node = statements[0].get("node") or {}
    if node.get("type") != "SELECT_NODE" or (node.get("cte_map") or {}).get("map"):
        return None
    if any(node.get(part) for part in _EMPTY_SELECT_PARTS):
        return None
    if any(node.get(part) is not None for part in _NULL_SELECT_PARTS):
        return None
    if node.get("aggregate_handling") != "STANDARD_HANDLING":
        return None
    relation = _table(node.get("from_table"))
    if relation is None:
        return None
    limit: int | None = None
    for modifier in node.get("modifiers") or []:
        if modifier.get("type") != "LIMIT_MODIFIER" or limit is not None:
            return None
        limit = _limit(modifier)
        if limit is None:
            return None
    expressions = [*(node.get("select_list") or []), node.get("where_clause")]
    if not node.get("select_list") or not all(_plain(e) for e in expressions if e is not None):
        return None
    return PlainQuery(relation, limit)


def _serialize(sql: str) -> dict[str, Any]:
    with databases.borrow() as con:  # left empty: a per-batch query takes it next
        try:
            # fetchall: the result is finished, the connection left as it was
            rows = con.execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchall()
        except duckdb.Error:
            return {"error": True}
    return json.loads(rows[0][0]) if rows and rows[0][0] else {"error": True}


def _table(table: Any) -> str | None:
    """The name of a plain FROM's one table: lower-case, unqualified, nothing attached."""
    if not isinstance(table, dict) or table.get("type") != "BASE_TABLE":
        return None
    name = table.get("table_name")
    if (
        not isinstance(name, str)
        or not name
        or name != name.lower()
        or table.get("schema_name")
        or table.get("catalog_name")
        or table.get("column_name_alias")
        or table.get("sample") is not None
        or table.get("at_clause") is not None
    ):
        return None
    return name


def _limit(modifier: dict[str, Any]) -> int | None:
    """The row count of ``LIMIT n`` (n a plain integer, no OFFSET), else None."""
    if modifier.get("offset") is not None or modifier.get("limit_type") != "ROW_COUNT":
        return None
    count = modifier.get("limit") or {}
    literal = count.get("literal") or {}
    text = literal.get("text")
    if (
        count.get("class") != "CONSTANT"
        or literal.get("kind") != "INTEGER"
        or not isinstance(text, str)
        or not text.isdigit()
    ):
        return None
    return int(text)


def _plain(expression: Any) -> bool:
    """True when ``expression`` and everything in it are of the plain kinds."""
    if isinstance(expression, list):
        return all(_plain(item) for item in expression)
    if not isinstance(expression, dict):
        return True  # a name, a flag, a literal's text
    kind = expression.get("class")
    if kind is None:  # not an expression: a literal's value, a type
        return all(_plain(value) for value in expression.values())
    if kind == "STAR":
        return _plain_star(expression)
    if kind not in _CLASSES:
        return False
    if kind == "OPERATOR" and expression.get("type") not in _OPERATOR_TYPES:
        return False
    if kind == "FUNCTION" and not (
        expression.get("is_operator") is True
        and expression.get("function_name") in _OPERATORS
        and not expression.get("distinct")
        and expression.get("filter") is None
        and not (expression.get("order_bys") or {}).get("orders")
        and not expression.get("schema")
        and not expression.get("catalog")
    ):
        return False
    return all(_plain(value) for value in expression.values())


def _plain_star(star: dict[str, Any]) -> bool:
    """``*`` alone: no EXCLUDE, REPLACE, RENAME, COLUMNS(…) or ``t.*``."""
    return not any(
        star.get(part)
        for part in (
            "relation_name", "exclude_list", "replace_list", "rename_list",
            "qualified_exclude_list", "columns", "expr",
        )
    )  # fmt: skip
