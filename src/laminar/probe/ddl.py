"""The proposed ``CREATE TABLE … WITH (…)`` of a probed stream."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from laminar.probe.infer import InferredColumn
from laminar.secrets import DEFAULT_API_KEY_HEADER, has_references, is_secret_header, redact_url

_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")  # a name that needs no quoting (not SQL parsing)
# Connection options that are secrets: the DDL names an environment variable instead.
SECRET_PLACEHOLDERS = {"token": "${SSE_TOKEN}", "api_key": "${SSE_API_KEY}"}
RESERVED = {"select", "from", "where", "table", "order", "group", "by", "limit", "user", "type",
            "window", "values", "key", "primary", "default", "check", "as", "to", "end"}


def quote_name(name: str) -> str:
    if _PLAIN.fullmatch(name) and name not in RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        value = json.dumps(value, separators=(",", ":"))
    return "'" + value.replace("'", "''") + "'"


def table_name(url: str) -> str:
    """A table name from the URL's last path segment ('…/v2/stocks?x=1' -> 'stocks')."""
    path = url.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    last = path.rsplit("/", 1)[-1] if "/" in path.split("://", 1)[-1] else ""
    name = re.sub(r"[^a-z0-9_]+", "_", last.lower()).strip("_")
    if not name or name[0].isdigit():
        name = f"stream_{name}" if name else "stream"
    return name


def create_table(
    name: str,
    columns: Sequence[InferredColumn | tuple[str, str]],
    options: Mapping[str, Any],
    comments: Sequence[str] = (),
) -> str:
    """The statement text: one column and one option per line."""
    lines = [f"-- {c}" for c in comments]
    lines.append(f"CREATE TABLE {quote_name(name)} (")
    rendered = []
    for column in columns:
        col_name, col_type = (
            (column.name, column.type) if isinstance(column, InferredColumn) else column
        )
        rendered.append(f"    {quote_name(col_name)} {col_type}")
    lines.append(",\n".join(rendered))
    lines.append(") WITH (")
    shown = []
    for key, value in options.items():
        shown.append(f"    {key} = {literal(_without_secrets(key, value, options))}")
    lines.append(",\n".join(shown))
    lines.append(");")
    return "\n".join(lines)


def _placeholder(name: str) -> str:
    return "${SSE_" + re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_") + "}"


def _without_secrets(key: str, value: Any, options: Mapping[str, Any]) -> Any:
    """``value`` as the DDL may show it: credentials become ``${VAR}`` references (a value
    that already is one stays), so the statement can be printed, copied and saved."""
    if isinstance(value, str) and has_references(value):
        return value
    if key in SECRET_PLACEHOLDERS and value:
        return SECRET_PLACEHOLDERS[key]
    if key == "endpoint" and isinstance(value, str) and redact_url(value) != value:
        return "${SSE_ENDPOINT}"  # a password or a key in the URL
    if key == "headers" and isinstance(value, Mapping):
        api_key_header = options.get("api_key_header") or DEFAULT_API_KEY_HEADER
        return {
            name: _placeholder(f"header_{name}")
            if is_secret_header(name, api_key_header) and not has_references(str(v))
            else v
            for name, v in value.items()
        }
    return value
