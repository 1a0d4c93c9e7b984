"""The sink contract: where a pipeline's rows go, and when they count as delivered.

A sink receives result batches in order — JSON-line lists (``kind = "json"``) or
Arrow tables (``kind = "arrow"``) — and says when everything written so far is
durable (``flush`` returns True). The pipeline commits a batch's last event id
only after a ``flush`` that returned True, so a sink that buffers (a file not
yet rolled) simply answers False until its data is safe. ``close`` finishes
the sink (rolls the last file) so that everything written is durable.

Sinks are driven from one task; ``write`` may block (a slow or stalled
destination): the pipeline then stops pulling batches, the source stops
reading the socket, and memory stays bounded (back-pressure).
"""

from __future__ import annotations

from typing import Any, ClassVar


class Sink:
    """Base class; see the module docstring."""

    kind: ClassVar[str] = "json"
    connector: ClassVar[str] = ""

    def __init__(self, table: str) -> None:
        self.table = table
        self.rows_written = 0
        # Set when a write failed part-way: rows it had accepted may be gone, so the
        # pipeline commits nothing more (a restart replays them).
        self.failed = False

    async def open(self) -> None:
        """Prepare the destination (directories, sessions, leftover cleanup)."""

    async def write(self, rows: Any) -> None:
        """Hand one non-empty batch of rows to the destination."""
        raise NotImplementedError

    async def flush(self) -> bool:
        """Push buffered rows out; True when everything written so far is durable."""
        return True

    async def close(self) -> None:
        """Finish: after it, every row written is durable. Idempotent."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.table}>"
