"""The shape of a query, read structurally with sqlglot (DuckDB dialect).

Laminar keeps the user's SQL for DuckDB to run, but it must know what a query
*does* before running it on a stream: does it aggregate, over which window,
grouped by what, and does it read a relation more than once. ``analyse``
answers that from the syntax tree — never from regular expressions over SQL
or plan text — and ``aggregate_sql`` rewrites an aggregating SELECT into the
SQL a window operator runs over the rows of closed windows.

Window syntax accepted (both spellings group by the window):

* Arroyo's: ``TUMBLE(INTERVAL '10' SECOND) AS window`` (or ``HOP(slide, size)``,
  ``SESSION(gap)``) in the select list, ``GROUP BY …, window``;
* Flink's: ``GROUP BY …, TUMBLE(ts, INTERVAL '10' SECOND)`` (``HOP(ts, slide,
  size)``, ``SESSION(ts, gap)``) with ``window_start`` / ``window_end`` columns.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.tokens import TokenType

from laminar.errors import SQLError
from laminar.runtime.window import (
    KEY_PREFIX,
    WINDOW_END,
    WINDOW_START,
    AggregateSQL,
    WindowSpec,
    describe_interval,
)

DIALECT = "duckdb"
WINDOW_FUNCTIONS = ("TUMBLE", "HOP", "SESSION")
# SESSION is a keyword to sqlglot (SESSION_USER…): the call is renamed before parsing.
_SESSION_CALL = "LAMINAR_SESSION"
FROM_ARG = "from_" if "from_" in exp.Select.arg_types else "from"  # renamed in sqlglot 28
WITH_ARG = "with_" if "with_" in exp.Select.arg_types else "with"

@dataclass
class QueryShape:
    """What ``analyse`` learnt about a SELECT."""

    tree: exp.Expr
    aggregating: bool = False  # GROUP BY, aggregates or DISTINCT at the top level
    window: WindowSpec | None = None
    group_keys: list[exp.Expr] = field(default_factory=list)  # the window aside
    source: str | None = None  # the one relation of a single-table FROM, lower-cased
    has_join: bool = False
    has_offset: bool = False
    has_order: bool = False
    has_distinct: bool = False
    window_functions: bool = False  # OVER (…)


class QueryParseError(SQLError):
    """sqlglot could not read a query; ``at`` is where, as (line, column) of the query."""

    def __init__(self, description: str, at: tuple[int, int] | None) -> None:
        where = f" (line {at[0]}, column {at[1]})" if at is not None else ""
        super().__init__(f"cannot read the query: {description}{where}")
        self.description = description  # what sqlglot found wrong, without the position
        self.at = at


def parse(sql: str) -> exp.Expr:
    """The syntax tree of one query; a QueryParseError when sqlglot cannot read it."""
    try:
        tree = sqlglot.parse_one(_rename_session_calls(sql), read=DIALECT)
    except ParseError as exc:
        first = (exc.errors or [{}])[0]
        line, column = first.get("line"), first.get("col")
        at = (line, column) if isinstance(line, int) and isinstance(column, int) else None
        description = str(first.get("description") or str(exc).split("\n")[0])
        raise QueryParseError(description, at) from exc
    if tree is None:
        raise SQLError("the query is empty")
    return tree


def analyse(sql: str) -> QueryShape:
    """The shape of the top-level SELECT of ``sql`` (see the module docstring)."""
    tree = parse(sql)
    shape = QueryShape(tree)
    select = tree if isinstance(tree, exp.Select) else None
    shape.has_offset = any(
        node.args.get("offset") is not None for node in tree.find_all(exp.Select, exp.Union)
    ) or any(True for _ in tree.find_all(exp.Offset))
    # ORDER BY of a query (not inside an aggregate such as string_agg(x ORDER BY x))
    shape.has_order = any(
        node.args.get("order") is not None for node in tree.find_all(exp.Select, exp.Union)
    )
    shape.window_functions = any(True for _ in tree.find_all(exp.Window))
    if select is None:
        return shape
    from_ = select.args.get(FROM_ARG)
    if from_ is not None and isinstance(from_.this, exp.Table) and not select.args.get("joins"):
        shape.source = table_name(from_.this)
    shape.has_join = bool(select.args.get("joins"))
    shape.has_distinct = select.args.get("distinct") is not None
    group = select.args.get("group")
    if group is not None and group.args.get("all"):
        group = _expand_group_by_all(select)
    window_calls = _window_calls(select)
    aggregates = [a for e in _top_level(select) for a in _aggregates(e)]
    shape.aggregating = bool(group) or bool(aggregates) or shape.has_distinct
    if window_calls:
        shape.window = _window_spec(select, window_calls)
        if group is None:
            raise SQLError(
                f"{shape.window.describe()} needs a GROUP BY that lists the window, "
                "e.g. GROUP BY symbol, window"
            )
    if group is not None:
        shape.group_keys = [
            key for key in group.expressions if not _is_window_key(key, shape.window)
        ]
    return shape


def reads_relation_twice(tree: exp.Expr, names: set[str]) -> bool:
    """True when ``tree`` names any relation of ``names`` more than once (self-join…)."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    seen = [table_name(t) for t in tree.find_all(exp.Table)]
    hits = [n for n in seen if n in names and n not in ctes]
    return len(hits) > 1


def relations(tree: exp.Expr) -> list[str]:
    """Relation names read by ``tree`` (CTE names aside), in order, without duplicates."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    names: list[str] = []
    for table in tree.find_all(exp.Table):
        name = table_name(table)
        if name and name not in ctes and name not in names:
            names.append(name)
    return names


def top_level_limit(tree: exp.Expr) -> int | None:
    """The literal row count of the query's own LIMIT n / FETCH FIRST n ROWS, if any.

    Only a plain integer counts: ``LIMIT 10%``, ``LIMIT ALL`` and expressions are
    left to DuckDB (the query then runs without Laminar stopping it early).
    """
    node = tree.args.get("limit")
    if isinstance(node, exp.Limit):
        count = node.expression
        options = node.args.get("limit_options")
    elif isinstance(node, exp.Fetch):
        count = node.args.get("count")
        options = node.args.get("limit_options")
    else:
        return None
    if options is not None and options.args.get("percent"):
        return None
    if isinstance(count, exp.Literal) and not count.is_string and count.this.isdigit():
        return int(count.this)
    return None


def rename_relations(tree: exp.Expr, renames: dict[str, str]) -> exp.Expr:
    """``tree`` (changed in place) reading each relation named in ``renames`` under its
    new name, aliased as before (its alias, else its old name: qualifiers still hold)."""
    for table in list(tree.find_all(exp.Table)):
        new = renames.get(table_name(table)) if not table.db else None
        if new is not None:
            replacement = exp.Table(this=exp.to_identifier(new))
            alias = table.alias or table.name
            replacement.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
            table.replace(replacement)
    return tree


def rename_qualified(sql: str, schema: str, names: dict[str, str]) -> str:
    """``sql`` with every ``schema.name`` (``name`` in ``names``) replaced by ``names[name]``.

    Token by token, so string literals, comments and quoted identifiers are never
    touched and the rest of the text is kept exactly as written.
    """
    try:
        tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(sql)
    except Exception:  # DuckDB reports the problem when it runs the query
        return sql
    out: list[str] = []
    last = 0
    for first, dot, name in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if (
            first.token_type is not TokenType.STRING
            and first.text.lower() == schema
            and dot.token_type is TokenType.DOT
            and name.token_type is not TokenType.STRING
            and name.text.lower() in names
            and first.start >= last
        ):
            out.append(sql[last : first.start])
            out.append(names[name.text.lower()])
            last = name.end + 1
    out.append(sql[last:])
    return "".join(out)


def referenced_columns(tree: exp.Expr) -> set[str]:
    """Lower-cased names of the columns ``tree`` references (qualifiers dropped)."""
    return {c.name.lower() for c in tree.find_all(exp.Column) if c.name}


def interval_us(node: exp.Expr, what: str) -> int:
    """The length of an INTERVAL expression in microseconds (DuckDB evaluates it)."""
    return _interval_us(node.sql(DIALECT), what)


@functools.lru_cache(maxsize=256)
def _interval_us(text: str, what: str) -> int:
    con = duckdb.connect(":memory:")
    try:
        row = con.execute(
            f"SELECT epoch_us(TIMESTAMP '2000-01-01' + ({text})) "
            "- epoch_us(TIMESTAMP '2000-01-01')"
        ).fetchone()
        months = con.execute(f"SELECT datepart('month', ({text})) + "
                             f"12 * datepart('year', ({text}))").fetchone()
    except duckdb.Error as exc:
        raise SQLError(f"{what}: expected an INTERVAL such as INTERVAL '10' SECOND, got "
                       f"{text}") from exc
    finally:
        con.close()
    if months and months[0]:
        raise SQLError(f"{what}: months and years have no fixed length; use days, hours, "
                       "minutes or seconds")
    value = int(row[0]) if row and row[0] is not None else 0
    if value <= 0:
        raise SQLError(f"{what}: the interval must be positive, got {text}")
    return value


def watermark_delay_ms(text: str, column: str) -> int:
    """The delay of ``WATERMARK FOR col AS <text>``: ``col`` or ``col - INTERVAL …``."""
    usage = f"write WATERMARK FOR {column} AS {column} - INTERVAL '5' SECOND"
    try:
        node = sqlglot.parse_one(text, read=DIALECT)
    except ParseError as exc:
        raise SQLError(f"cannot read the watermark expression: {_parse_message(exc)}") from exc
    if isinstance(node, exp.Column) and node.name.lower() == column.lower():
        return 0
    if (
        isinstance(node, exp.Sub)
        and isinstance(node.this, exp.Column)
        and node.this.name.lower() == column.lower()
    ):
        return interval_us(node.expression, "WATERMARK") // 1000
    raise SQLError(f"the watermark must be the column minus a fixed interval; {usage}")


# -- rewriting an aggregate for the window operator -----------------------------


def aggregate_sql(shape: QueryShape, relation: str) -> AggregateSQL:
    """The final query of an aggregate, reading ``relation`` (the operator's state view).

    The window call becomes the ``{start, end}`` struct of the closed window, the
    window key becomes the hidden window columns, WHERE is gone (applied before the
    rows were kept), and every group key is also selected as a hidden column, so
    emissions can be ordered and updating results diffed per group.
    """
    select = shape.tree.copy()
    assert isinstance(select, exp.Select)
    window = shape.window
    for node in list(select.find_all(exp.Column)):
        if node.table:
            node.set("table", None)
    group = select.args.get("group")
    kept: list[exp.Expr] = []
    if group is not None:
        kept = [k for k in group.expressions if not _is_window_key(k, window)]
    if window is not None:
        struct = sqlglot.parse_one(
            f"{{'start': {WINDOW_START}, 'end': {WINDOW_END}}}", read=DIALECT
        )
        for call in _window_calls(select):
            call.replace(struct.copy())
        if window.time_column is not None:  # Flink: window_start / window_end columns
            bounds = {"window_start": WINDOW_START, "window_end": WINDOW_END}
            for node in list(select.find_all(exp.Column)):
                bound = bounds.get(node.name.lower())
                if bound is None:
                    continue
                if node.parent is select:  # a projection keeps its name
                    node.replace(exp.alias_(exp.column(bound), node.name))
                else:
                    node.replace(exp.column(bound))
    keys = tuple(f"{KEY_PREFIX}{i}" for i in range(len(kept)))
    key_exprs: list[exp.Expr] = [
        exp.alias_(_key_expression(select, key), name) for key, name in zip(kept, keys, strict=True)
    ]
    order: tuple[str, ...] = keys
    if window is not None:
        order = (WINDOW_START, *keys)
        group_exprs = [*kept, exp.column(WINDOW_START), exp.column(WINDOW_END)]
    else:
        group_exprs = list(kept)
    if group is not None:
        if group_exprs:
            select.set("group", exp.Group(expressions=group_exprs))
        else:
            select.set("group", None)
    select.set("where", None)
    select.set(FROM_ARG, exp.From(this=exp.to_table(relation)))
    for key_expr in key_exprs:
        select.append("expressions", key_expr)
    if window is not None:
        select.append("expressions", exp.column(WINDOW_START))
        select.append("expressions", exp.column(WINDOW_END))
    hidden = (*keys, *((WINDOW_START, WINDOW_END) if window is not None else ()))
    return AggregateSQL(select.sql(DIALECT), keys, order, hidden)


def _expand_group_by_all(select: exp.Select) -> exp.Group:
    """DuckDB's GROUP BY ALL spelt out, in place: every projection that holds no aggregate
    (the window by its alias, so that it is recognised as the window)."""
    keys: list[exp.Expr] = []
    for projection in select.expressions:
        if isinstance(projection, exp.Star) or _aggregates(projection):
            continue
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(projection, exp.Alias) and _window_name(inner) is not None:
            keys.append(exp.column(exp.to_identifier(projection.alias)))
        else:
            keys.append(inner.copy())
    group = exp.Group(expressions=keys)
    select.set("group", group if keys else None)
    return group


def _key_expression(select: exp.Select, key: exp.Expr) -> exp.Expr:
    """A GROUP BY key as an expression (an alias or ordinal of the select list resolved)."""
    projections = select.expressions
    if isinstance(key, exp.Literal) and not key.is_string:
        index = int(key.this) - 1
        if 0 <= index < len(projections):
            target = projections[index]
            return (target.this if isinstance(target, exp.Alias) else target).copy()
    if isinstance(key, exp.Column) and not key.table:
        for projection in projections:
            if isinstance(projection, exp.Alias) and projection.alias.lower() == key.name.lower():
                inner = projection.this
                if not any(True for _ in inner.find_all(exp.AggFunc)):
                    return inner.copy()
    return key.copy()


# -- helpers --------------------------------------------------------------------


def _top_level(select: exp.Select) -> list[exp.Expr]:
    parts: list[exp.Expr] = list(select.expressions)
    having = select.args.get("having")
    if having is not None:
        parts.append(having)
    return parts


def _aggregates(node: exp.Expr) -> list[exp.Expr]:
    """Aggregate calls in ``node``, not counting those inside subqueries or OVER (…)."""
    found: list[exp.Expr] = []
    for agg in node.find_all(exp.AggFunc):
        if agg.find_ancestor(exp.Subquery, exp.Window) is None:
            found.append(agg)
    return found


def _window_calls(select: exp.Select) -> list[exp.Expr]:
    calls = []
    for part in [*select.expressions, *(select.args.get("group") or exp.Group()).expressions]:
        for node in part.walk():
            if _window_name(node) is not None:
                calls.append(node)
    return calls


def _window_name(node: exp.Expr) -> str | None:
    if isinstance(node, exp.Anonymous):
        name = str(node.this).upper()
        if name == _SESSION_CALL:
            return "SESSION"
        if name in WINDOW_FUNCTIONS:
            return name
    return None


def _window_spec(select: exp.Select, calls: list[exp.Expr]) -> WindowSpec:
    kinds = {_window_name(c) for c in calls}
    if len(kinds) > 1 or len({c.sql(DIALECT) for c in calls}) > 1:
        raise SQLError("a query can group by one window only (TUMBLE, HOP or SESSION)")
    call = calls[0]
    name = _window_name(call) or ""
    args = list(call.expressions)
    time_column: str | None = None
    if args and isinstance(args[0], exp.Column):  # Flink: the time attribute comes first
        time_column = args[0].name.lower()
        args = args[1:]
    arity = {"TUMBLE": 1, "HOP": 2, "SESSION": 1}[name]
    usage = {
        "TUMBLE": "TUMBLE(INTERVAL '10' SECOND)",
        "HOP": "HOP(INTERVAL '10' SECOND, INTERVAL '1' MINUTE) (slide, then size)",
        "SESSION": "SESSION(INTERVAL '30' SECOND) (the gap)",
    }[name]
    if len(args) != arity:
        raise SQLError(f"{name} takes {arity} interval{'s' if arity > 1 else ''}: {usage}")
    sizes = [interval_us(a, name) for a in args]
    parent = call.parent
    alias = parent.alias.lower() if isinstance(parent, exp.Alias) and parent.alias else None
    in_select = any(call is node or call in node.walk() for node in select.expressions)
    if in_select and alias is None:
        raise SQLError(f"name the window column: {name}(…) AS window, then GROUP BY window")
    if name == "TUMBLE":
        return WindowSpec("tumble", sizes[0], sizes[0], time_column, alias)
    if name == "HOP":
        slide, size = sizes
        if slide > size:
            raise SQLError(f"HOP: the slide ({describe_interval(slide)}) is longer than the window "
                           f"({describe_interval(size)}); events would fall between windows")
        return WindowSpec("hop", size, slide, time_column, alias)
    return WindowSpec("session", sizes[0], 0, time_column, alias)


def _is_window_key(key: exp.Expr, window: WindowSpec | None) -> bool:
    if window is None:
        return False
    if _window_name(key) is not None:
        return True
    return (
        isinstance(key, exp.Column)
        and window.alias is not None
        and key.name.lower() == window.alias
    )


def table_name(table: exp.Table) -> str:
    """``schema.name`` as DuckDB resolves it; "" for a table function (read_json(…))."""
    if not isinstance(table.this, exp.Identifier):
        return ""
    parts = [
        p.name if isinstance(p, exp.Identifier) and p.quoted else p.name.lower()
        for p in table.parts
    ]
    return ".".join(parts)


def _rename_session_calls(sql: str) -> str:
    """Token-level fixes before sqlglot parses (string literals stay untouched).

    ``SESSION(`` → ``LAMINAR_SESSION(`` (SESSION is a keyword to sqlglot), and a
    ``window`` that does not open a WINDOW clause (``WINDOW w AS (…)``) is the
    window column of Arroyo's spelling: quoted, as DuckDB needs it too.
    """
    try:
        tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(sql)
    except Exception:  # sqlglot reports the problem when it parses
        return sql
    out: list[str] = []
    last = 0
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        after = tokens[index + 2] if index + 2 < len(tokens) else None
        replacement = None
        if (
            token.token_type is TokenType.SESSION
            and following is not None
            and following.token_type is TokenType.L_PAREN
        ):
            replacement = _SESSION_CALL
        elif token.token_type is TokenType.WINDOW and not (
            after is not None and after.token_type is TokenType.ALIAS
            and following is not None and following.token_type is not TokenType.R_PAREN
        ):
            replacement = '"window"' if token.text.lower() == "window" else None
        if replacement is not None:
            out.append(sql[last : token.start])
            out.append(replacement)
            last = token.end + 1
    out.append(sql[last:])
    return "".join(out)


def _parse_message(exc: ParseError) -> str:
    errors = exc.errors or []
    if errors:
        first = errors[0]
        where = f"line {first.get('line')}, column {first.get('col')}"
        return f"{first.get('description', exc)} ({where})"
    return str(exc).split("\n")[0]
