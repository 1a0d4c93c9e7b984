"""Fresh in-memory DuckDB databases, and the one spare kept for the next caller.

Opening a database costs 13-20 ms (DuckDB builds its catalog of built-in
functions). ``laminar.sql.plain`` needs one only to run ``json_serialize_sql``,
which changes nothing in it, so it ``borrow``s one and gives it back: the
database stays empty, and the next ``open_database`` (a per-batch query's)
takes it instead of opening another. ``laminar run`` thus opens one database for
its query, not one more for reading it; and it opens that one ahead
(``open_spare_ahead``), in a thread, while the rest of Laminar is imported:
DuckDB releases the GIL while it opens a database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

# One thread per database: partitions run in parallel as separate databases.
CONFIG: dict[str, str | bool | int | float | list[str]] = {"threads": 1}

_lock = threading.Lock()
_spare: list[duckdb.DuckDBPyConnection] = []
_opening: list[threading.Event] = []  # databases being opened ahead


def open_database() -> duckdb.DuckDBPyConnection:
    """An empty in-memory database of ``CONFIG``, the caller's to keep and close."""
    with _lock:
        if _spare:
            return _spare.pop()
        pending = _opening[0] if _opening else None
    if pending is not None:  # being opened ahead: sooner than opening another
        pending.wait()
        with _lock:
            if _spare:
                return _spare.pop()
    return duckdb.connect(":memory:", config=CONFIG)


def open_spare_ahead() -> None:
    """Open the spare database in a background thread (``open_database`` waits for it)."""
    pending = threading.Event()
    with _lock:
        _opening.append(pending)

    def run() -> None:
        con: duckdb.DuckDBPyConnection | None = None
        try:
            con = duckdb.connect(":memory:", config=CONFIG)
        except duckdb.Error:
            pass  # open_database opens one itself, and reports the error if it recurs
        finally:
            with _lock:
                if con is not None:
                    _spare.append(con)
                _opening.remove(pending)
            pending.set()

    # not a daemon: an interpreter exiting meanwhile waits for DuckDB instead of killing it
    threading.Thread(target=run, name="laminar-duckdb-open").start()


@contextmanager
def borrow() -> Iterator[duckdb.DuckDBPyConnection]:
    """A database for statements that change nothing in it (parsing); kept as the spare."""
    con = open_database()
    try:
        yield con
    finally:
        with _lock:
            if _spare:  # one spare is enough
                con.close()
            else:
                _spare.append(con)
