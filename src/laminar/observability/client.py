"""Talking to a running ``laminar run … --metrics-port PORT`` from another process.

``remote_sql(url, sql)`` posts read-only SQL to ``URL/sql`` and returns one
``(columns, types, rows)`` per statement; ``remote_status(url)`` fetches
``URL/status``. Both use the standard library (no event loop) and raise a
LaminarError that says what to check when the process cannot be reached or
refuses the statement.
"""

from __future__ import annotations

import json
import os
from typing import Any

from laminar.errors import LaminarError, SQLError
from laminar.observability.access import TOKEN_ENV

DEFAULT_PORT = 9477
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
_TIMEOUT_S = 30.0

RemoteResult = tuple[list[str], list[str], list[list[Any]]]


def remote_sql(url: str, sql: str) -> list[RemoteResult]:
    payload = _request(url, "/sql", sql.encode("utf-8"))
    results = payload["results"]
    return [(r.get("columns", []), r.get("types", []), r.get("rows", [])) for r in results]


def remote_status(url: str) -> dict[str, Any]:
    return _request(url, "/status")


def _request(url: str, path: str, body: bytes | None = None) -> Any:
    # Imported here: every `laminar` command reads DEFAULT_URL; urllib costs ~20 ms.
    import urllib.error
    import urllib.request

    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        base = "http://" + base
    request = urllib.request.Request(
        base + path,
        data=body,
        method="POST" if body is not None else "GET",
        headers=_headers(body is not None),
    )
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            raise LaminarError(
                f"{base} requires a token: set {TOKEN_ENV} to the --metrics-token of that "
                "laminar process" + (" (the one set was refused)" if os.environ.get(TOKEN_ENV)
                                     else "")
            ) from None
        try:
            found = json.loads(exc.read())
            message, line, column = found["error"], found.get("line"), found.get("column")
        except (ValueError, KeyError, TypeError, AttributeError, OSError):
            message, line, column = f"HTTP {exc.code} from {base}{path}", None, None
        raise SQLError(message, line=line, column=column) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise LaminarError(
            f"cannot reach a laminar process at {base}: {reason} — is `laminar run PIPELINE.sql "
            f"--metrics-port PORT` running, and is --connect http://127.0.0.1:PORT its port?"
        ) from None


def _headers(has_body: bool) -> dict[str, str]:
    headers = {"Content-Type": "text/plain; charset=utf-8"} if has_body else {}
    token = os.environ.get(TOKEN_ENV)
    if token:  # the monitoring port's --metrics-token
        headers["Authorization"] = f"Bearer {token}"
    return headers
