"""Planning a query over a stream onto stages: per-batch SQL and stateful operators.

A query whose chain of views neither aggregates nor windows runs as one
per-batch DuckDB query (``BatchQuery``), as always. Otherwise the chain is cut
at every aggregating SELECT:

    stream ─► BatchQuery (the aggregate's FROM … WHERE, its columns and time)
           ─► AggregateOperator (windows / updating groups, state, watermark)
           ─► BatchQuery over the operator's rows (a query or view reading it) ─► …

so a view over a windowed view (per-minute counts, then an hourly maximum of
them) is two operators in a row; the second reads the first one's rows, whose
event time is their window's end (minus a microsecond, so that a per-minute
window falls inside its hour).

An aggregating subquery in FROM, or a CTE, is planned as a view of its own
(``_lift_stateful_parts``), so Flink's nested top-N queries plan like views.

Checks are structural (laminar.sql.query): what depends on how the stream is
cut into micro-batches — ORDER BY, OFFSET, window functions, aggregates hidden
in WHERE or select-list subqueries, a stream read twice — is refused with the
reason. Over a windowed result, window functions partitioned by the window and
an ORDER BY that starts with it are exact, and allowed (``check_ranking``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pyarrow as pa
from sqlglot import exp

from laminar._suggest import did_you_mean
from laminar.errors import SQLError
from laminar.runtime.operators.aggregate import OP_COLUMN, AggregateOperator, AggregateSpec
from laminar.runtime.time import Clock, wall_clock
from laminar.runtime.window import TIME, WindowSpec
from laminar.sql.executor import BatchQuery, ViewSQL, quote
from laminar.sql.query import (
    DIALECT,
    FROM_ARG,
    WITH_ARG,
    QueryShape,
    aggregate_sql,
    analyse,
    parse,
    referenced_columns,
    relations,
    rename_relations,
    table_name,
)
from laminar.sql.staged import Built as Built
from laminar.sql.staged import StagedQuery as StagedQuery
from laminar.sql.staged import WindowNames

_NESTED = (
    "aggregates inside a subquery or CTE; put the aggregate in a view and query the view "
    "(CREATE VIEW per_symbol AS SELECT … GROUP BY …)"
)


@dataclass
class StreamContext:
    """What planning needs to know of the catalog and the one stream table."""

    table: str  # the stream table's name
    schema: pa.Schema  # its decoded batches
    views: dict[str, str]  # every view of the catalog: name -> its SELECT
    partitions: int
    event_time_field: str | None
    watermark_delay_ms: int
    idle_timeout_ms: int
    memory_limit_mb: int
    spill_dir: str | None = None
    clock: Clock = wall_clock
    names: list[str] = field(default_factory=list)  # operator names given so far
    # views the planner made of subqueries and CTEs: name -> how messages call them
    lifted: dict[str, str] = field(default_factory=dict)


# -- checks ---------------------------------------------------------------------------


def check_streamable(sql: str, label: str, context: StreamContext) -> QueryShape:
    """Refuse what has no meaning over a stream; the shape of ``sql`` otherwise."""
    shape = analyse(sql)
    _check_tree(shape, label)
    if _reads_stream_twice(shape.tree, context, set()):
        raise SQLError(
            f"{label}: this query reads the stream '{context.table}' more than once (a join, "
            "UNION or subquery over it), which streams do not support: read it once. "
            "Supported: filters, projections, windows (TUMBLE, HOP, SESSION) and GROUP BY "
            "over one stream"
        )
    return shape


def _check_tree(shape: QueryShape, label: str) -> None:
    if shape.has_offset:
        raise SQLError(
            f"{label}: OFFSET has no meaning over a stream (it would skip rows of each "
            "batch); filter with WHERE instead"
        )
    top = shape.tree
    for node in top.find_all(exp.AggFunc, exp.Group):
        owner = node.find_ancestor(exp.Select)
        if owner is not top:
            raise SQLError(f"{label}: this query has {_NESTED}")
    if isinstance(top, exp.Union) or any(True for _ in top.find_all(exp.Union)):
        for select in top.find_all(exp.Select):
            if analyse(select.sql(DIALECT)).aggregating:
                raise SQLError(f"{label}: this query has {_NESTED}")


def check_ranking(shape: QueryShape, label: str, names: WindowNames) -> None:
    """Refuse ORDER BY and window functions (OVER …) unless they work window by window.

    Over a windowed result (``names`` says how its window may be named), every window
    comes out whole, in one batch, and windows come out in the order of their ends. So
    a window function partitioned by the window (top-N per window) and an ORDER BY that
    starts with the window give the same rows however the stream is batched. Anything
    else would depend on the micro-batching, and is refused.
    """
    top = shape.tree
    hint = (
        "; to rank or sort the rows of each window, query a windowed result: "
        "PARTITION BY window in OVER (…), ORDER BY window first"
    )
    usable = bool(names.partition) and not shape.aggregating
    names = _not_shadowed(top, names)
    if shape.has_order and not usable:
        updating = shape.aggregating and shape.window is None
        raise SQLError(
            f"{label}: this query sorts the stream (ORDER BY), which never ends; rows "
            "come in arrival order, and windows come out in window order"
            + ("; for a live top N of an updating result, QUALIFY row_number() OVER "
               "(ORDER BY … DESC) <= N" if updating else hint)
        )
    if shape.has_order and not _orders_by_window(top, names.order):
        raise SQLError(
            f"{label}: this ORDER BY does not start with the window, so it would sort only "
            "what each batch holds: start it with the window, ascending "
            f"({_spellings(names.order)})"
        )
    for node in top.find_all(exp.Window):
        if not usable:
            raise SQLError(
                f"{label}: this query uses a window function over the stream (OVER …), "
                "whose rows would depend on the micro-batching; group by a window "
                "instead (TUMBLE, HOP or SESSION)" + hint
            )
        partition = node.args.get("partition_by") or []
        if node.find_ancestor(exp.Select) is not top or not any(
            _window_key(key) & names.partition for key in partition
        ):
            raise SQLError(
                f"{label}: this window function (OVER …) is not partitioned by the window, "
                "so its rows would depend on the micro-batching: partition it by the "
                f"window ({_spellings(names.partition)})"
            )


def _spellings(keys: frozenset[str]) -> str:
    return " or ".join(sorted(keys)) or "an output column takes the window's name"


def _not_shadowed(top: exp.Expr, names: WindowNames) -> WindowNames:
    """``names`` less those an output alias reuses for another value
    (``SELECT price AS window … ORDER BY window`` does not sort by the window)."""
    if not isinstance(top, exp.Select):
        return names
    shadowed = set()
    for projection in top.expressions:
        if isinstance(projection, exp.Alias):
            inner = projection.this
            same = isinstance(inner, exp.Column) and inner.name.lower() == projection.alias.lower()
            if not same:
                shadowed.add(projection.alias.lower())
    return names.where(lambda column: column not in shadowed)


def _orders_by_window(top: exp.Expr, order_keys: frozenset[str]) -> bool:
    """Does the query's own ORDER BY (its only one) start with the window, ascending?"""
    order = top.args.get("order")
    if order is None or not order.expressions:
        return False
    for node in top.find_all(exp.Select, exp.Union):
        if node is not top and node.args.get("order") is not None:
            return False
    first = order.expressions[0]
    return not first.args.get("desc") and bool(_window_key(first.this) & order_keys)


def _window_key(node: exp.Expr) -> frozenset[str]:
    """The names a column reference may mean a window by: ``p.window`` and ``window``
    both name the struct, ``window.end`` its field."""
    if not isinstance(node, exp.Column):
        return frozenset()
    name, table = node.name.lower(), node.table.lower()
    return frozenset({name, f"{table}.{name}"} if table else {name})


def _reads_stream_twice(tree: exp.Expr, context: StreamContext, seen: set[str]) -> bool:
    return _stream_reads(tree, context, seen) > 1


def _stream_reads(tree: exp.Expr, context: StreamContext, seen: set[str]) -> int:
    count = 0
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        name = table_name(table)
        if not name or name in ctes or table.db:  # a table function, a CTE, system.*
            continue
        if name == context.table:
            count += 1
        elif name in context.views and name not in seen:
            count += _stream_reads(parse(context.views[name]), context, seen | {name})
    return count


# -- planning -------------------------------------------------------------------------


def is_stateful(name: str, context: StreamContext, seen: frozenset[str] = frozenset()) -> bool:
    """Does relation ``name`` (a view) aggregate, itself or through the views it reads?"""
    sql = context.views.get(name)
    if sql is None or name in seen:
        return False
    shape = analyse(sql)
    if shape.aggregating or _aggregates_inside(shape.tree):
        return True
    return any(is_stateful(r, context, seen | {name}) for r in relations(shape.tree))


def _aggregates_inside(tree: exp.Expr) -> bool:
    """An aggregate or GROUP BY at any depth (a subquery that the planner lifts)."""
    return any(True for _ in tree.find_all(exp.AggFunc, exp.Group))


def needs_operators(sql: str, context: StreamContext) -> bool:
    shape = analyse(sql)
    return shape.aggregating or any(is_stateful(r, context) for r in relations(shape.tree))


def build(sql: str, label: str, context: StreamContext) -> Built:
    """Plan ``sql`` (a SELECT over the stream, possibly through views) onto stages."""
    lifted = _lift_stateful_parts(parse(sql), context, label)
    if lifted is not None:
        sql, context = lifted
    shape = check_streamable(sql, label, context)
    if shape.has_distinct and not shape.group_keys and shape.aggregating:
        shape = _distinct_as_group_by(shape)
    live_top = _live_qualify(shape, label)
    leftover = shape.tree.args.get("qualify") if shape.aggregating else None
    if leftover is not None:  # a windowed aggregate's QUALIFY that _ranking_apart left
        foreign = _foreign_to_result(leftover, shape.tree)
        raise SQLError(
            f"{label}: the QUALIFY of a windowed aggregate runs over its rows, so it names "
            f"their columns (its select list's aliases){f', not {foreign}' if foreign else ''}"
            ", as in QUALIFY row_number() OVER (PARTITION BY window ORDER BY n DESC) <= 3; "
            "a condition on an aggregate goes in HAVING"
        )
    upstream_views = [r for r in relations(shape.tree) if is_stateful(r, context)]
    if not shape.aggregating and not upstream_views:
        check_ranking(shape, label, WindowNames())
        return _stateless(sql, label, context, context.table, context.schema)
    source = shape.source
    if source is None:
        join = (
            " To aggregate the stream joined with a file or table, join them in a view "
            "(CREATE VIEW enriched AS SELECT … FROM trades JOIN read_csv('…') …) and "
            "aggregate the view."
            if shape.has_join else ""
        )
        raise SQLError(
            f"{label}: an aggregate or a query over an aggregating view reads one relation "
            "(FROM <stream or view>); joins and subqueries of streams are not supported. "
            "Supported: filters, projections, windows (TUMBLE, HOP, SESSION) and GROUP BY "
            f"over one stream.{join}"
        )
    window_names = WindowNames()
    if source in upstream_views:
        up = build(context.views[source], _view_label(source, label, context), context)
        relation, schema, time = source, up.schema, up.time
        stages = list(up.stages)
        window_names = up.window_names
        # DuckDB runs the rest as sqlglot writes it: that quotes `window`, a reserved
        # word DuckDB refuses as a bare column name (PARTITION BY window)
        sql = shape.tree.sql(DIALECT)
        if up.updating and _plain_projection(shape):
            check_ranking(shape, label, WindowNames())
            tail = _stateless(sql, label, context, relation, schema)
            keys = up.keys if up.keys and set(up.keys) <= set(tail.columns) else None
            return Built([*stages, *tail.stages], tail.columns, tail.types, tail.schema,
                         None, OP_COLUMN in tail.columns, keys)
        if up.updating:
            what = "windows" if shape.window is not None else "queries"
            raise SQLError(
                f"{label}: {_shown(source, context)} is an updating result (GROUP BY without "
                f"a window); {what} over it are not supported, only its columns as they are "
                "(SELECT *, or a list that keeps op) without WHERE: filter in its HAVING"
            )
    else:
        relation, schema, stages = context.table, context.schema, []
        time = context.event_time_field
    check_ranking(shape, label, window_names)
    if not shape.aggregating:
        tail = _stateless(sql, label, context, relation, schema)
        return Built([*stages, *tail.stages], tail.columns, tail.types, tail.schema,
                     _passthrough_time(time, tail.columns), False,
                     window_names=_not_shadowed(shape.tree, window_names).kept(tail.columns))
    head = _aggregate(shape, label, context, relation, schema, time, live_top)
    return Built([*stages, *head.stages], head.columns, head.types, head.schema, head.time,
                 head.updating, head.keys, head.window_names)


# A subquery or CTE that aggregates becomes a view of this name (and a number).
_LIFTED = "__laminar_from"


def _view_label(name: str, label: str, context: StreamContext) -> str:
    lifted = context.lifted.get(name)
    return f"{label}, in {lifted}" if lifted is not None else f"view {name}"


def _shown(name: str, context: StreamContext) -> str:
    return context.lifted.get(name) or f"'{name}'"


def _lift_stateful_parts(
    tree: exp.Expr, context: StreamContext, label: str
) -> tuple[str, StreamContext] | None:
    """``tree``'s aggregating FROM subquery or CTEs turned into views of their own.

    ``SELECT … FROM (SELECT … GROUP BY window) QUALIFY …`` (Flink's top-N) and
    ``WITH per_minute AS (…) SELECT … FROM per_minute`` then plan like a query over a
    view. Returns the rewritten query and a context that holds the new views, or None
    when nothing is lifted (the query runs as written).
    """
    if not isinstance(tree, exp.Select):
        return None
    views, lifted = dict(context.views), dict(context.lifted)

    def lift(body: exp.Expr, shown: str) -> str:
        name = f"{_LIFTED}{len(views)}"
        views[name] = body.sql(DIALECT)
        lifted[name] = shown
        return name

    def stateful(body: exp.Expr) -> bool:  # at any depth: a lifted body lifts its own
        return _aggregates_inside(body) or needs_operators(
            body.sql(DIALECT), replace(context, views=views)
        )

    renames: dict[str, str] = {}
    with_ = tree.args.get(WITH_ARG)
    if with_ is not None and stateful(tree):
        if with_.args.get("recursive"):
            raise SQLError(
                f"{label}: WITH RECURSIVE does not run over a stream (its answer would depend "
                "on the micro-batching); write the steps as CTEs without RECURSIVE, or as views"
            )
        for cte in with_.expressions:  # all, in order: views are macros
            renames[cte.alias_or_name.lower()] = lift(
                rename_relations(cte.this.copy(), renames), f"the CTE {cte.alias_or_name}"
            )
        tree.set(WITH_ARG, None)
        rename_relations(tree, renames)
    ranked = _ranking_apart(tree)
    if ranked is not None:
        tree = ranked
    from_ = tree.args.get(FROM_ARG)
    derived = from_.this if from_ is not None else None
    if (
        isinstance(derived, exp.Subquery)
        and not tree.args.get("joins")
        and stateful(tree)
    ):
        shown = "the aggregate" if ranked is not None else "its FROM subquery"
        table = exp.to_table(lift(derived.this, shown))
        if derived.alias:
            table.set("alias", exp.TableAlias(this=exp.to_identifier(derived.alias)))
        derived.replace(table)
    if len(views) == len(context.views):
        return None
    return tree.sql(DIALECT), replace(context, views=views, lifted=lifted)


def _live_qualify(shape: QueryShape, label: str) -> str | None:
    """An updating result's QUALIFY (a live top N), taken out of ``shape.tree``.

    The operator ranks every group of the current result after each batch and sends
    what entered, changed or left (``AggregateOperator._changes``). The QUALIFY can
    only name the result's own columns: it runs over the result.
    """
    tree = shape.tree
    node = tree.args.get("qualify")
    if node is None or not shape.aggregating or shape.window is not None:
        return None
    foreign = _foreign_to_result(node, tree)
    if foreign is not None:
        raise SQLError(
            f"{label}: the QUALIFY of an updating result ranks its rows, so it names their "
            f"columns (its select list's aliases), not {foreign}: e.g. SUM(volume) AS volume, "
            "then QUALIFY row_number() OVER (ORDER BY volume DESC) <= 10"
        )
    tree.set("qualify", None)
    shape.window_functions = any(True for _ in tree.find_all(exp.Window))
    return node.this.sql(DIALECT)


_RANKING_PARTS = ("qualify", "order", "limit")


def _ranking_apart(select: exp.Select) -> exp.Select | None:
    """A windowed aggregate that ranks or sorts its own rows, as a query over it.

    ``SELECT symbol, COUNT(*) AS n, TUMBLE(…) AS window FROM t GROUP BY symbol, window
    ORDER BY window, n DESC`` becomes ``SELECT * FROM (the aggregate) ORDER BY window,
    n DESC``, when ORDER BY and QUALIFY name only the aggregate's output columns. The
    ranking rules (check_ranking) then apply to it as to any query over windows.
    """
    if select.args.get("order") is None and select.args.get("qualify") is None:
        return None
    shape = analyse(select.sql(DIALECT))
    if shape.window is None or any(
        True for p in select.expressions for _ in p.find_all(exp.Window)
    ):
        return None
    for part in ("qualify", "order"):
        node = select.args.get(part)
        if node is not None and _foreign_to_result(node, select) is not None:
            return None
    inner = select.copy()
    outer = exp.select("*").from_(exp.Subquery(this=inner))
    for part in _RANKING_PARTS:
        outer.set(part, select.args.get(part))
        inner.set(part, None)
    return outer


def _foreign_to_result(node: exp.Expr, select: exp.Expr) -> str | None:
    """What in ``node`` (a QUALIFY or ORDER BY to run over ``select``'s rows) is not one
    of their columns: a name its select list lacks, or an aggregate (``sum(v) OVER (…)``
    is a window function over the rows, and fine). None when there is nothing."""
    outputs = {p.alias_or_name.lower() for p in select.expressions}
    for column in node.find_all(exp.Column):
        if (column.table or column.name).lower() not in outputs:
            return f"'{column.name}'"
    for aggregate in node.find_all(exp.AggFunc):
        if not (isinstance(aggregate.parent, exp.Window) and aggregate.parent.this is aggregate):
            return aggregate.sql(DIALECT)
    return None


def _stateless(
    sql: str, label: str, context: StreamContext, relation: str, schema: pa.Schema
) -> Built:
    views = _stateless_views(sql, context) if relation == context.table else []
    query = BatchQuery(
        sql,
        relation,
        schema,
        views,
        partitions=context.partitions if relation == context.table else 1,
        statement=label,
    )
    return Built([query], list(query.columns), list(query.types), _arrow_schema(query),
                 context.event_time_field, False)


def _stateless_views(sql: str, context: StreamContext) -> list[ViewSQL]:
    """The views ``sql`` reads, in dependency order (every one of them stateless)."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered or name not in context.views:
            return
        for inner in relations(parse(context.views[name])):
            visit(inner)
        ordered.append(name)

    for name in relations(parse(sql)):
        visit(name)
    return [ViewSQL(name, context.views[name]) for name in ordered]


def _aggregate(
    shape: QueryShape,
    label: str,
    context: StreamContext,
    relation: str,
    schema: pa.Schema,
    time: str | None,
    qualify: str | None = None,
) -> Built:
    window = shape.window
    if window is not None and window.time_column is not None:
        time = quote(window.time_column)
    # The rows the operator keeps: the columns the aggregate reads, and their time.
    source = shape.source or relation
    views: list[ViewSQL] = []
    if relation == context.table:  # the stream, or stateless views over it
        views = _stateless_views(f"SELECT * FROM {quote(source)}", context)
    if views:
        probe = BatchQuery(f"SELECT * FROM {quote(source)}", relation, schema, views,
                           statement=label)
        available = list(probe.columns)
        probe.close()
    else:  # the stream, or an operator's rows: their schema says it
        available = list(schema.names)
    if (
        time is not None
        and time == context.event_time_field
        and relation == context.table
        and time not in [c.lower() for c in available]
    ):
        raise SQLError(
            f"{label}: '{source}' has no column {time} (the table's event_time_field); keep "
            "it in the view's select list so windows can use it"
        )
    wanted = referenced_columns(shape.tree)
    columns = [c for c in available if c.lower() in wanted]
    pre = shape.tree.copy()
    assert isinstance(pre, exp.Select)
    projections: list[exp.Expr] = [
        exp.column(exp.to_identifier(c, quoted=True)) for c in columns
    ]
    time_mode = "processing"
    if time is not None:
        time_node: exp.Expr = exp.maybe_parse(time, dialect=DIALECT)
        projections.append(exp.alias_(time_node, TIME))
        time_mode = "event" if relation == context.table else "inherited"
    pre.set("expressions", projections or [exp.alias_(exp.true(), "__laminar_row")])
    for part in ("group", "having", "order", "limit", "distinct"):
        pre.set(part, None)
    pre_sql = pre.sql(DIALECT)
    try:
        pre_query = BatchQuery(pre_sql, relation, schema, views, partitions=1, statement=label)
    except SQLError as exc:
        raise _with_columns(exc, source, available) from exc
    if time is not None:
        kind = pre_query.types[-1]
        if not kind.startswith("TIMESTAMP"):
            pre_query.close()
            raise SQLError(
                f"{label}: the event time {time} is {kind}; windows need a TIMESTAMP column "
                "(declare it TIMESTAMP, or name another one in event_time_field)"
            )
    name = _name(context, "window" if window is not None else "aggregate")
    sql = aggregate_sql(shape, "__laminar_closed")
    spec = AggregateSpec(
        name=name,
        label=label,
        input_schema=_arrow_schema(pre_query),
        window=window,
        sql=sql,
        key_exprs=tuple(k.sql(DIALECT) for k in _key_expressions(shape)),
        time_mode=time_mode,  # type: ignore[arg-type]
        delay_us=context.watermark_delay_ms * 1000,
        idle_us=context.idle_timeout_ms * 1000,
        memory_limit_mb=context.memory_limit_mb,
        spill_dir=context.spill_dir,
        qualify=qualify,
    )
    try:
        operator = AggregateOperator(spec, context.clock)
    except SQLError as exc:
        pre_query.close()
        raise _with_columns(exc, source, available) from exc
    except Exception:
        pre_query.close()
        raise
    out_time: str | None = None
    if window is not None:
        if window.alias is not None and window.alias in operator.columns:
            out_time = f"{quote(window.alias)}.\"end\" - INTERVAL 1 MICROSECOND"
        elif "window_end" in operator.columns:
            out_time = "window_end - INTERVAL 1 MICROSECOND"
    keys = _visible_keys(shape) if operator.updating else None
    return Built([pre_query, operator], list(operator.columns), list(operator.types),
                 operator.schema, out_time, operator.updating, keys,
                 _window_names(window, operator.columns))


# DuckDB's words for an unknown column; its candidates are the operator's own columns
_UNKNOWN_COLUMN = re.compile(r'Referenced column "([^"]+)" not found in FROM clause!.*', re.S)


def _with_columns(exc: SQLError, source: str, available: Sequence[str]) -> SQLError:
    """``exc`` naming the columns of the aggregate's source, not the internal ones DuckDB
    offers as candidates (an aggregate binds over the rows its operator keeps)."""
    found = _UNKNOWN_COLUMN.search(exc.message)
    if found is None:
        return exc
    name = found.group(1)
    listed = ", ".join(c for c in available if not c.startswith("__laminar"))
    message = (
        exc.message[: found.start()]
        + f"column '{name}' is not a column of {source}{did_you_mean(name, available)} "
        f"(its columns: {listed})"
    )
    return SQLError(message, line=exc.line, column=exc.column)


def _window_names(window: WindowSpec | None, columns: Sequence[str]) -> WindowNames:
    """How a query over a window operator's rows may name their window.

    Windows close in the order of their ends, all windows with one end at once. The
    windows of TUMBLE and HOP have one length, so their starts order them as well, and
    the struct ``{start, end}`` too; SESSION windows vary in length: only the end
    orders them, and the start does not even keep a window's rows together."""
    if window is None:
        return WindowNames()
    present = {c.lower() for c in columns}
    fixed = window.kind != "session"
    partition: set[str] = set()
    order: set[str] = set()
    if window.alias is not None and window.alias in present:
        alias = window.alias
        partition.update({alias, f"{alias}.end"} | ({f"{alias}.start"} if fixed else set()))
        order.update({f"{alias}.end"} | ({alias, f"{alias}.start"} if fixed else set()))
    for bound in ("start", "end"):
        if f"window_{bound}" in present and (fixed or bound == "end"):
            partition.add(f"window_{bound}")
            order.add(f"window_{bound}")
    return WindowNames(frozenset(partition), frozenset(order))


def _visible_keys(shape: QueryShape) -> list[str] | None:
    """The output columns that hold the group keys, or None when one is not selected."""
    select = shape.tree
    assert isinstance(select, exp.Select)
    names = []
    for key in _key_expressions(shape):
        for projection in select.expressions:
            inner = projection.this if isinstance(projection, exp.Alias) else projection
            if inner == key:
                names.append(projection.alias_or_name)
                break
        else:
            return None
    return names


def _plain_projection(shape: QueryShape) -> bool:
    """A SELECT of columns (renamed or cast), ``op`` among them (or a bare ``*``), without
    WHERE: safe over a changelog."""
    tree = shape.tree
    return (
        isinstance(tree, exp.Select)
        and not shape.aggregating
        and tree.args.get("where") is None
        and any(
            (isinstance(e, exp.Column) and e.name.lower() == OP_COLUMN)
            or (isinstance(e, exp.Star) and not any(e.args.values()))
            for e in tree.expressions
        )
    )


def _key_expressions(shape: QueryShape) -> list[exp.Expr]:
    from laminar.sql.query import _key_expression

    select = shape.tree
    assert isinstance(select, exp.Select)
    return [_key_expression(select, k) for k in shape.group_keys]


def _distinct_as_group_by(shape: QueryShape) -> QueryShape:
    """SELECT DISTINCT a, b → SELECT a, b GROUP BY a, b: an updating result."""
    tree = shape.tree.copy()
    assert isinstance(tree, exp.Select)
    tree.set("distinct", None)
    tree.set("group", exp.Group(expressions=[
        exp.Literal.number(i + 1) for i in range(len(tree.expressions))
    ]))
    return analyse(tree.sql(DIALECT))


def _passthrough_time(time: str | None, columns: Sequence[str]) -> str | None:
    """The event time of a stateless query's rows: kept when its column is kept."""
    if time is None:
        return None
    head = time.split(".")[0].strip('"')
    head = head.split(" ")[0].strip('"')
    return time if head in columns else None


def _name(context: StreamContext, kind: str) -> str:
    n = sum(1 for name in context.names if name.startswith(kind)) + 1
    name = kind if n == 1 else f"{kind}{n}"
    context.names.append(name)
    return name


def _arrow_schema(query: BatchQuery) -> pa.Schema:
    return query.run([query.schema.empty_table()]).schema


def output_has_op(built: Built) -> bool:
    return built.updating and OP_COLUMN in built.columns
