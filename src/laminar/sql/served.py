"""Statements run on behalf of an HTTP client, one way for every endpoint that does it.

The monitoring port's ``POST /sql`` and the console's ``POST /api/v1/sql`` differ
in what they accept (read-only system tables there, DDL too in the console: each
checks its statements before any runs) and share the rest here, so their caps
and their errors cannot drift apart:

* a SELECT runs in a worker thread under ``ResultLimits`` (``laminar.sql.limits``:
  rows, bytes, seconds), so a large scan never stalls the event loop;
* other statements run on the loop (the state store's transactions stay on one thread);
* a result is ``{"columns", "types", "rows"}``, or ``{"message"}`` for DDL;
* an error is ``located(exc)``: ``{"error", "line", "column"}`` (answered with 400).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from laminar.errors import LaminarError, SQLError
from laminar.sql import ast
from laminar.sql.limits import ResultLimits, limited

if TYPE_CHECKING:
    from laminar.sql.engine import Engine

_WHERE = re.compile(r"^line (\d+), column (\d+): ")  # our own messages' prefix, not SQL


async def run_served(
    engine: Engine, statements: Iterable[ast.Statement], limits: ResultLimits
) -> list[dict[str, Any]]:
    """Run already-checked ``statements`` in order; one JSON-ready result each."""
    from laminar.sql.engine import Rows

    results: list[dict[str, Any]] = []
    for stmt in statements:
        if isinstance(stmt, ast.Select):  # off the loop, capped (to_thread carries the cap)
            with limited(limits):
                result = await asyncio.to_thread(engine.run_statement, stmt)
        else:
            result = engine.run_statement(stmt)
        if isinstance(result, Rows):
            results.append({"columns": list(result.columns), "types": list(result.types),
                            "rows": [list(r) for r in result.rows]})
        else:
            results.append({"message": getattr(result, "text", "")})
    return results


def located(exc: LaminarError) -> dict[str, Any]:
    """{"error", "line", "column"} of a Laminar error (line and column null when unknown)."""
    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    text = str(exc)
    if isinstance(exc, SQLError) and line is not None:
        text = exc.message + (f"\n{exc.excerpt}" if exc.excerpt else "")
    else:
        found = _WHERE.match(text)
        if found:
            line, column = int(found.group(1)), int(found.group(2))
            text = text[found.end():]
    return {"error": text, "line": line, "column": column}
