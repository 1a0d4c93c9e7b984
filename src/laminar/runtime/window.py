"""What the window operators are given: a window's kind and sizes, and the SQL they run.

The SQL layer fills these in (``laminar.sql.query``); the runtime's operators
only read them, so the runtime never imports the SQL layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Hidden columns of the window operator's state and of its final query.
WINDOW_START = "__laminar_ws"
WINDOW_END = "__laminar_we"
TIME = "__laminar_time"
KEY_PREFIX = "__laminar_k"

WindowKind = Literal["tumble", "hop", "session"]


@dataclass(frozen=True)
class WindowSpec:
    """A window of a GROUP BY: sizes in microseconds."""

    kind: WindowKind
    size_us: int  # tumble/hop: the window's length; session: the gap that closes it
    slide_us: int  # hop: the distance between starts; tumble: = size; session: 0
    time_column: str | None  # Flink spelling: the time attribute named in the call
    alias: str | None  # Arroyo spelling: the select alias of the window column ("window")

    def describe(self) -> str:
        if self.kind == "hop":
            return f"HOP({describe_interval(self.slide_us)}, {describe_interval(self.size_us)})"
        return f"{self.kind.upper()}({describe_interval(self.size_us)})"


@dataclass(frozen=True)
class AggregateSQL:
    """The SQL a stateful operator runs (see ``aggregate_sql``)."""

    final: str  # over __laminar_closed: result rows + hidden key/window columns
    keys: tuple[str, ...]  # hidden key columns of ``final``, in GROUP BY order
    order: tuple[str, ...]  # hidden columns to sort each emission by
    hidden: tuple[str, ...]  # every hidden column of ``final`` (dropped from the output)


def describe_interval(us: int) -> str:
    """A length in microseconds as SQL: ``INTERVAL '10' SECOND``."""
    return f"INTERVAL '{us / 1_000_000:g}' SECOND"


__all__ = [
    "KEY_PREFIX",
    "TIME",
    "WINDOW_END",
    "WINDOW_START",
    "AggregateSQL",
    "WindowKind",
    "WindowSpec",
    "describe_interval",
]
