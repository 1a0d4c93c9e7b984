"""Partial aggregates: keep one row per (window, group) per batch instead of the raw rows.

A window operator normally keeps every row of an open window and runs the
user's aggregate over them when the window closes (exact for any aggregate).
When every aggregate of the query merges exactly from per-batch partials —
``COUNT(*)``, ``COUNT(col)``, ``MIN``/``MAX(col)`` of any type, ``SUM``/``AVG(col)``
of integers and DECIMALs — the operator instead appends, per batch, one row per
(window, group): ``GROUP BY`` the columns the query reads outside its aggregates,
with the partial states (a count, a sum, a minimum…) as extra columns. The final
query is the user's, each aggregate replaced by its merge (``SUM`` of counts,
``MIN`` of minimums, ``SUM(sums)::DOUBLE / SUM(counts)`` for ``AVG``) cast to the
type the original aggregate has, so emitted rows are the same values of the same
types. (``SUM(s)::DOUBLE / SUM(c)`` is how DuckDB's own AVG of integers and
DECIMALs divides its exact sum.) Floating-point SUM/AVG stay on the raw rows:
their last bits would depend on how the stream was cut into batches.

Anything else — DISTINCT, FILTER, ORDER BY inside an aggregate, any other or
unknown function (an unknown one may be an aggregate) — keeps the raw rows.

Partial rows merge into partial rows too (``merges``: a count of counts is their
sum): an updating result, whose groups never close, compacts its state with them,
so it holds about one row per group however long it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

DIALECT = "duckdb"
PARTIAL = "__laminar_p"  # prefix of the partial-state columns
_MERGEABLE = (exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max)
_EXACT_SUM_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
)


@dataclass(frozen=True)
class PartialPlan:
    """How to keep partials: the per-batch SELECT list and the rewritten final query."""

    group_columns: tuple[str, ...]  # raw columns kept as they are (quoted SQL names)
    partials: tuple[str, ...]  # "<aggregate> AS <partial column>" over the input rows
    merges: tuple[str, ...]  # "<merge> AS <partial column>" over partial rows, in order
    final: str  # the user's final query over partial rows

    def select(self) -> str:
        """The SELECT list of a partial row: the group columns, then the partials."""
        return ", ".join([*self.group_columns, *self.partials])

    def merged(self) -> str:
        """The SELECT list merging partial rows of one group into one."""
        return ", ".join([*self.group_columns, *self.merges])

    def group_by(self) -> str:
        """`` GROUP BY`` the group columns (nothing: one global group)."""
        return f" GROUP BY {', '.join(self.group_columns)}" if self.group_columns else ""


def plan(
    final: str,
    columns: dict[str, str],
    window_columns: tuple[str, ...],
    type_of: Callable[[str], str],
) -> PartialPlan | None:
    """The partial plan of ``final`` over raw rows of ``columns`` (name -> DuckDB type).

    ``window_columns`` are the state's window bounds (kept as group columns);
    ``type_of`` gives the DuckDB type of an aggregate over the raw rows. None when
    some aggregate cannot be merged exactly (the raw rows are kept).
    """
    try:
        return _plan(final, columns, window_columns, type_of)
    except sqlglot.errors.SqlglotError:  # e.g. a type sqlglot cannot spell back
        return None


def _plan(
    final: str,
    columns: dict[str, str],
    window_columns: tuple[str, ...],
    type_of: Callable[[str], str],
) -> PartialPlan | None:
    tree = sqlglot.parse_one(final, read=DIALECT)
    if not isinstance(tree, exp.Select) or tree.find(
        exp.Anonymous, exp.AnonymousAggFunc, exp.Window, exp.Filter, exp.Subquery
    ):
        return None
    by_lower = {name.lower(): name for name in columns}
    partials: list[tuple[str, str, str]] = []  # (aggregate, its merge, column)
    for index, node in enumerate(list(tree.find_all(exp.AggFunc))):
        merged = _partial(node, index, columns, by_lower, partials)
        if merged is None:
            return None
        # the merge keeps the original's type (SUM of counts would be a HUGEINT)
        kind = type_of(node.sql(DIALECT))
        node.replace(exp.maybe_parse(f"CAST(({merged}) AS {kind})", dialect=DIALECT))
    aliases = {e.alias.lower() for e in tree.expressions if e.alias}
    group: list[str] = []
    for column in tree.find_all(exp.Column):
        name = column.name
        if name.startswith(PARTIAL):
            continue
        real = by_lower.get(name.lower()) if not column.this.quoted else name
        if real is None and name.lower() in aliases:
            continue  # GROUP BY u: a projection, whose columns are looked at themselves
        if real is None or real not in columns:
            return None  # not a column of the rows
        if real not in group and real not in window_columns:
            group.append(real)
    return PartialPlan(
        tuple(_quote(c) for c in [*group, *window_columns]),
        tuple(f"{aggregate} AS {name}" for aggregate, _, name in partials),
        tuple(f"{merge}({name}) AS {name}" for _, merge, name in partials),
        tree.sql(DIALECT),
    )


def _partial(
    node: exp.AggFunc,
    index: int,
    columns: dict[str, str],
    by_lower: dict[str, str],
    partials: list[tuple[str, str, str]],
) -> str | None:
    """Record ``node``'s partial column(s); return its merge expression (None: no merge)."""
    if not isinstance(node, _MERGEABLE):
        return None
    extra = {k for k, v in node.args.items() if v and k not in ("this", "big_int")}
    arg = node.this
    if extra:
        return None
    name = f"{PARTIAL}{index}"
    if isinstance(node, exp.Count) and isinstance(arg, exp.Star):
        partials.append(("count(*)", "sum", name))
        return f"sum({name})"
    if not isinstance(arg, exp.Column) or arg.table:
        return None
    real = arg.name if arg.this.quoted else by_lower.get(arg.name.lower())
    if real is None or real not in columns:
        return None
    kind = columns[real]
    source = _quote(real)
    if isinstance(node, exp.Count):
        partials.append((f"count({source})", "sum", name))
        return f"sum({name})"
    if isinstance(node, exp.Min | exp.Max):
        fn = "min" if isinstance(node, exp.Min) else "max"
        partials.append((f"{fn}({source})", fn, name))
        return f"{fn}({name})"
    if not (kind in _EXACT_SUM_TYPES or kind.startswith("DECIMAL")):
        return None  # floating point: the sum's last bits depend on the batching
    if isinstance(node, exp.Sum):
        partials.append((f"sum({source})", "sum", name))
        return f"sum({name})"
    partials.append((f"sum({source})", "sum", f"{name}s"))
    partials.append((f"count({source})", "sum", f"{name}c"))
    return f"sum({name}s)::DOUBLE / sum({name}c)"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
