"""The sink contract: where a pipeline's rows go, and when they become visible.

A sink receives result batches in order — JSON-line lists (``kind = "json"``) or
Arrow tables (``kind = "arrow"``) — and takes part in the pipeline's
checkpoints with a two-phase commit (``laminar.runtime.commit``):

1. ``prepare()`` makes everything written so far durable and *staged* (not
   yet visible, where the sink can hide it) and returns a JSON-serializable
   transaction: what ``publish`` will make visible.
2. The pipeline commits its event id, every operator's state and that
   transaction in one state-store transaction.
3. ``publish(txn)`` makes the transaction visible. It is idempotent.

On start, ``recover(txn)`` gets the last committed transaction (None if
there is none): it publishes it again (idempotently: a crash may have come
between the commit and the publish) and deletes whatever was staged or in
progress and is not in it — those rows were never committed, and the source
resumes after the committed id, so they are sent again. A sink that can hide
rows until ``publish`` (the filesystem sink) is exactly-once; one that shows
rows as they are written (stdout, webhook) is at-least-once for the rows
written after the last checkpoint.

``tick()`` runs every tick while the pipeline is idle or busy (under the same
lock as the checkpoints): housekeeping that needs no checkpoint (stdout
flushes its buffer). ``close()`` ends writing and makes everything written
durable (staged); the shutdown checkpoint then prepares and publishes it.

A sink that failed (``failed``; any error from write, prepare or close) has
possibly lost rows it accepted: the pipeline commits nothing after that, and
the restart resends them.

Sinks are driven from one task; ``write`` may block (a slow or stalled
destination): the pipeline then stops pulling batches, the source stops
reading the socket, and memory stays bounded (back-pressure).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

# JSON lines joined into one text at a time: the windows a watermark closes can be a
# million rows, whose text must not all exist at once beside the rows themselves.
LINES_PER_WRITE = 16_384


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
        # The pipeline writing into this sink (set by run_pipeline before ``open``): a
        # sink that stages files tags them with it, so that two pipelines writing one
        # destination recover only their own.
        self.pipeline = ""
        # Checkpoints no more often than this (a sink whose every checkpoint costs a file,
        # such as Parquet, which cannot be resumed mid-file).
        self.min_checkpoint_interval_s = 0.0

    async def open(self) -> None:
        """Prepare the destination (directories, sessions)."""

    async def recover(self, txn: Any) -> None:
        """Publish the last committed ``txn`` again; drop what is staged and not in it."""

    async def write(self, rows: Any) -> None:
        """Hand one non-empty batch of rows to the destination."""
        raise NotImplementedError

    async def flush(self) -> None:
        """Push buffered rows out."""

    async def prepare(self) -> Any:
        """Make everything written durable and staged; the transaction to publish."""
        await self.flush()
        return None

    async def publish(self, txn: Any) -> None:
        """Make a committed transaction visible. Idempotent."""

    async def tick(self) -> None:
        """Periodic housekeeping that needs no checkpoint."""
        await self.flush()

    async def close(self) -> None:
        """Finish writing: after it, every row written is durable. Idempotent."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.table}>"


def json_lines(rows: list[str]) -> Iterator[str]:
    """``rows`` as newline-ended text, at most LINES_PER_WRITE lines per piece."""
    for start in range(0, len(rows), LINES_PER_WRITE):
        yield "\n".join(rows[start : start + LINES_PER_WRITE]) + "\n"
