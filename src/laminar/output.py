"""Rows to people and programs: JSON lines for pipes, a readable live table for terminals.

JSON lines: one object per row, keys = column names, JSON columns as JSON
values, TIMESTAMP as ISO-8601 text (continuous queries get them from DuckDB
already rendered; finished results are rendered here the same way).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TextIO

_CELL = 28  # widest cell of the live table before it is cut


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        text = value.isoformat()
        return text + "Z" if value.tzinfo is None else text
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)  # a JSON number, as DuckDB's to_json writes DECIMAL
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


def row_json(columns: Sequence[str], row: Sequence[Any], types: Sequence[str] = ()) -> str:
    obj = {}
    for index, (name, value) in enumerate(zip(columns, row, strict=True)):
        if index < len(types) and types[index] == "JSON" and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        elif isinstance(value, float) and not math.isfinite(value):
            value = None  # JSON has no NaN or Infinity: null, as the stream rows have it
        obj[name] = value
    # Compact, as DuckDB writes the rows of continuous queries: one format on stdout.
    return json.dumps(obj, default=json_default, ensure_ascii=False, separators=(",", ":"))


def _cell(value: Any) -> str:
    if value is None:
        text = "NULL"
    elif isinstance(value, bool):
        text = "true" if value else "false"  # as SQL and JSON spell them
    elif isinstance(value, datetime):
        text = value.isoformat(sep=" ", timespec="milliseconds")
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= _CELL else text[: _CELL - 1] + "…"


class LiveTable:
    """Prints rows as they arrive under a header, columns padded as they grow."""

    def __init__(self, out: TextIO, columns: Sequence[str], title: str | None = None) -> None:
        self.out = out
        self.columns = list(columns)
        self.widths = [min(max(len(c), 6), _CELL) for c in self.columns]
        self.title = title
        self._header_done = False

    def _line(self, cells: Sequence[str]) -> str:
        return " │ ".join(c.ljust(w) for c, w in zip(cells, self.widths, strict=True)).rstrip()

    def write_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        lines = []
        table = [[_cell(v) for v in row] for row in rows]
        widths = self.widths
        for cells in table:
            widths = [max(w, len(c)) for w, c in zip(widths, cells, strict=True)]
        # Rows already printed cannot move: a wider value widens its column from here on,
        # under a new header, so the columns below stay aligned.
        if not self._header_done or widths != self.widths:
            self.widths = widths
            if self.title and not self._header_done:
                lines.append(f"── {self.title} ──")
            self._header_done = True
            lines.append(self._line(self.columns))
            lines.append("─┼─".join("─" * w for w in self.widths))
        lines.extend(self._line(cells) for cells in table)
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()


class UpdatingTable:
    """An updating result (rows + ``op``) on a terminal: one line per group, updated in place.

    ``c`` adds the group's line, ``u`` rewrites it, ``d`` removes it; after each batch
    the table is redrawn over the previous drawing (ANSI: cursor up, clear below).
    """

    def __init__(
        self, out: TextIO, columns: Sequence[str], keys: Sequence[str], title: str | None = None
    ) -> None:
        self.out = out
        self.columns = [c for c in columns[:-1]]  # the last one is op
        self.key_index = [self.columns.index(k) for k in keys]
        self.title = title
        self.groups: dict[tuple[Any, ...], list[str]] = {}
        self._drawn = 0  # lines of the previous drawing

    def write_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        for row in rows:
            *values, op = row
            key = tuple(_hashable(values[i]) for i in self.key_index)
            if op == "d":
                self.groups.pop(key, None)
            else:
                self.groups[key] = [_cell(v) for v in values]
        widths = [min(max(len(c), 6), _CELL) for c in self.columns]
        for cells in self.groups.values():
            widths = [max(w, len(c)) for w, c in zip(widths, cells, strict=True)]

        def line(cells: Sequence[str]) -> str:
            return " │ ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

        lines = [f"── {self.title} ──"] if self.title else []
        lines.append(line(self.columns))
        lines.append("─┼─".join("─" * w for w in widths))
        lines.extend(line(cells) for cells in self.groups.values())
        lines.append(f"({len(self.groups)} group{'s' if len(self.groups) != 1 else ''})")
        erase = f"\x1b[{self._drawn}F\x1b[J" if self._drawn else ""
        self.out.write(erase + "\n".join(lines) + "\n")
        self.out.flush()
        self._drawn = len(lines)


def _hashable(value: Any) -> Any:
    return json.dumps(value, default=json_default, sort_keys=True) if isinstance(
        value, (dict, list)
    ) else value


def print_rows(
    out: TextIO,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    types: Sequence[str] = (),
    *,
    pretty: bool,
) -> None:
    """A finished result: a table on a terminal, JSON lines otherwise."""
    if pretty:
        if not columns:
            return
        LiveTable(out, columns).write_rows(rows)
        out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")
    else:
        for row in rows:
            out.write(row_json(columns, row, types) + "\n")
    out.flush()
