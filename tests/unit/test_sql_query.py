"""Structural analysis of queries (laminar.sql.query): shapes, windows, rewrites."""

from __future__ import annotations

import pytest

from laminar.errors import SQLError
from laminar.sql.query import aggregate_sql, analyse, rename_qualified, watermark_delay_ms


def test_system_names_are_renamed_token_by_token() -> None:
    sql = "SELECT 'system.connector_status' AS s, x FROM system . connector_status -- system.x"
    assert rename_qualified(sql, "system", {"connector_status": "__rel"}) == (
        "SELECT 'system.connector_status' AS s, x FROM __rel -- system.x"
    )


def test_offset_as_a_name_is_not_an_offset_clause() -> None:
    assert not analyse('SELECT "offset", a AS "offset" FROM t WHERE "offset" > 3').has_offset
    assert analyse("SELECT a FROM t LIMIT 2 OFFSET 3").has_offset


def test_ordered_aggregates_are_not_an_order_by() -> None:
    shape = analyse("SELECT string_agg(a, ',' ORDER BY a) FROM t GROUP BY b")
    assert shape.aggregating and not shape.has_order
    assert analyse("SELECT a FROM t ORDER BY a").has_order


@pytest.mark.parametrize(
    ("sql", "kind", "size", "slide"),
    [
        ("SELECT COUNT(*), TUMBLE(INTERVAL '10' SECOND) AS window FROM t GROUP BY window",
         "tumble", 10_000_000, 10_000_000),
        ("SELECT COUNT(*), HOP(INTERVAL '10 SECONDS', INTERVAL '1 MINUTE') AS w FROM t "
         "GROUP BY w", "hop", 60_000_000, 10_000_000),
        ("SELECT COUNT(*), SESSION(INTERVAL '30' SECOND) AS window FROM t GROUP BY window",
         "session", 30_000_000, 0),
        ("SELECT window_start, COUNT(*) FROM t GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)",
         "tumble", 60_000_000, 60_000_000),
    ],
)
def test_window_spellings(sql: str, kind: str, size: int, slide: int) -> None:
    window = analyse(sql).window
    assert window is not None
    assert (window.kind, window.size_us, window.slide_us) == (kind, size, slide)


def test_window_mistakes_are_explained() -> None:
    with pytest.raises(SQLError, match="months"):
        analyse("SELECT COUNT(*), TUMBLE(INTERVAL '1' MONTH) AS w FROM t GROUP BY w")
    with pytest.raises(SQLError, match="slide"):
        analyse("SELECT COUNT(*), HOP(INTERVAL '1' MINUTE, INTERVAL '1' SECOND) AS w "
                "FROM t GROUP BY w")
    with pytest.raises(SQLError, match="TUMBLE takes 1 interval"):
        analyse("SELECT COUNT(*), TUMBLE(INTERVAL '1' MINUTE, INTERVAL '1' SECOND) AS w "
                "FROM t GROUP BY w")


def test_aggregate_rewrite_groups_by_the_window_bounds() -> None:
    sql = aggregate_sql(
        analyse("SELECT symbol, COUNT(*) AS n, TUMBLE(INTERVAL '1' SECOND) AS window FROM t "
                "WHERE price > 1 GROUP BY symbol, window"),
        "__laminar_closed",
    )
    assert "WHERE" not in sql.final and "FROM __laminar_closed" in sql.final
    assert sql.keys == ("__laminar_k0",)
    assert sql.order == ("__laminar_ws", "__laminar_k0")


def test_group_by_all_is_spelt_out() -> None:
    shape = analyse("SELECT symbol, upper(venue) AS v, COUNT(*) AS n, "
                    "TUMBLE(INTERVAL '1' SECOND) AS window FROM t GROUP BY ALL")
    assert shape.window is not None and shape.window.alias == "window"
    assert [k.sql() for k in shape.group_keys] == ["symbol", "UPPER(venue)"]
    # no projection without an aggregate: one group, as DuckDB's GROUP BY ALL has it
    shape = analyse("SELECT COUNT(*) AS n FROM t GROUP BY ALL")
    assert shape.aggregating and not shape.group_keys
    assert shape.tree.args.get("group") is None


def test_watermark_expressions() -> None:
    assert watermark_delay_ms("ts", "ts") == 0
    assert watermark_delay_ms("ts - INTERVAL '5' SECOND", "ts") == 5000
    with pytest.raises(SQLError, match="minus a fixed interval"):
        watermark_delay_ms("ts + INTERVAL '5' SECOND", "ts")
