"""Caps on a one-shot result that is served over HTTP: rows, bytes and seconds.

The monitoring port's ``POST /sql`` and the console run SELECTs over system
tables on behalf of whoever can reach the port; without caps,
``SELECT * FROM range(10000000)`` takes the process to gigabytes and stalls
``/healthz``. A server sets ``ResultLimits`` for the statements it runs with
``limited(...)``; ``Engine._one_shot`` reads them (a ContextVar, so
``asyncio.to_thread`` carries them into the worker thread) and
``fetch_capped`` enforces them:

* rows: more than ``max_rows`` rows is an error (add a LIMIT);
* bytes: the rows' rendered size (about their JSON size) past ``max_bytes``;
* time: past ``timeout_s`` the query is interrupted (DuckDB ``interrupt``).

Each cap raises ``ResultLimitError`` naming the cap, its environment variable
and the fix. Local use (``laminar sql``, the Python API) has no caps.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from laminar.errors import SQLError
from laminar.options import parse_bytes, parse_float, parse_int

ROWS_ENV = "LAMINAR_SQL_MAX_ROWS"
BYTES_ENV = "LAMINAR_SQL_MAX_BYTES"
TIMEOUT_ENV = "LAMINAR_SQL_TIMEOUT_S"
_DAY_S = 86_400.0  # a longer timeout is a typo, not a wish
_FETCH = 1024  # rows per fetchmany: the byte count is checked this often


class ResultLimitError(SQLError):
    """A one-shot result passed one of its caps."""


@dataclass(frozen=True)
class ResultLimits:
    max_rows: int = 10_000
    max_bytes: int = 16 * 1024 * 1024
    timeout_s: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ResultLimits:
        """The defaults, overridden by LAMINAR_SQL_MAX_ROWS / _MAX_BYTES / _TIMEOUT_S.

        Parsed as options are (``laminar.options``): an error names the variable;
        _MAX_BYTES takes units ('64MiB') as byte-count options do.
        """
        default = cls()
        rows, size, seconds = (_given(env, n) for n in (ROWS_ENV, BYTES_ENV, TIMEOUT_ENV))
        return cls(
            max_rows=default.max_rows if rows is None else parse_int(ROWS_ENV, rows, minimum=1),
            max_bytes=default.max_bytes if size is None else parse_bytes(
                BYTES_ENV, size, minimum=1, maximum=2**53, example="'64MiB'"
            ),
            timeout_s=default.timeout_s if seconds is None else parse_float(
                TIMEOUT_ENV, seconds, minimum=0.001, maximum=_DAY_S
            ),
        )


def _given(env: Mapping[str, str], name: str) -> str | None:
    """``env[name]``, None when unset or blank (the default then applies)."""
    raw = env.get(name)
    return raw if raw is not None and raw.strip() else None


_current: contextvars.ContextVar[ResultLimits | None] = contextvars.ContextVar(
    "laminar_result_limits", default=None
)


@contextlib.contextmanager
def limited(limits: ResultLimits | None) -> Iterator[None]:
    """Statements run inside (and in threads started inside) obey ``limits``."""
    token = _current.set(limits)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> ResultLimits | None:
    return _current.get()


@contextlib.contextmanager
def deadline(con: Any, limits: ResultLimits | None) -> Iterator[None]:
    """Interrupt ``con``'s query when ``limits.timeout_s`` passes; raise ResultLimitError."""
    if limits is None:
        yield
        return
    fired = threading.Event()

    def interrupt() -> None:
        fired.set()
        con.interrupt()

    timer = threading.Timer(limits.timeout_s, interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    except Exception as exc:
        if fired.is_set():
            raise _too_slow(limits) from exc
        raise
    finally:
        timer.cancel()
    if fired.is_set():
        raise _too_slow(limits)


def _too_slow(limits: ResultLimits) -> ResultLimitError:
    return ResultLimitError(
        f"the query ran for more than {limits.timeout_s:g} s, this server's limit "
        f"({TIMEOUT_ENV}); narrow it (a WHERE on timestamp, a LIMIT) or raise the limit"
    )


def fetch_capped(cursor: Any, limits: ResultLimits | None) -> list[tuple[Any, ...]]:
    """Every row of ``cursor``, or ResultLimitError past a row or byte cap."""
    if limits is None:
        return cursor.fetchall()
    rows: list[tuple[Any, ...]] = []
    size = 0
    while True:
        chunk = cursor.fetchmany(_FETCH)
        if not chunk:
            return rows
        rows.extend(chunk)
        if len(rows) > limits.max_rows:
            raise ResultLimitError(
                f"the result has more than {limits.max_rows} rows, this server's limit "
                f"({ROWS_ENV}); add a LIMIT or aggregate (COUNT, GROUP BY)"
            )
        size += sum(_rendered_size(row) for row in chunk)
        if size > limits.max_bytes:
            raise ResultLimitError(
                f"the result is larger than {limits.max_bytes} bytes, this server's limit "
                f"({BYTES_ENV}); select fewer columns or rows"
            )


def _rendered_size(row: tuple[Any, ...]) -> int:
    # About the JSON size of the row: the cap is on what the response would carry.
    return sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in row) + 4 * len(row)
