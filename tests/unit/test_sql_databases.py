"""Fresh DuckDB databases and the spare opened ahead (laminar.sql.databases)."""

from __future__ import annotations

from laminar.sql import databases


def test_a_database_opened_ahead_is_the_next_one_handed_out() -> None:
    while databases._spare:  # other tests may have left one
        databases._spare.pop().close()
    databases.open_spare_ahead()
    con = databases.open_database()  # waits for the one being opened
    try:
        assert not databases._spare and not databases._opening
        assert con.execute("SELECT current_setting('threads')").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchall() == [(0,)]
    finally:
        con.close()
    other = databases.open_database()  # none left: a new one
    other.close()


def test_borrowing_keeps_one_spare() -> None:
    with databases.borrow() as first, databases.borrow() as second:
        assert first is not second
    assert len(databases._spare) == 1
