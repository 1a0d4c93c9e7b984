"""The contracts of pipeline operators.

Two kinds of operators chain in a pipeline (laminar.runtime.pipeline):

* ``Operator``: rows in, rows out, inside a query's stages (the window / group
  operator). ``process(rows, watermark)`` takes a batch of rows (Arrow) with the
  watermark of its input and returns the rows it emits with its own watermark;
  ``process(None, wm)`` is a tick: no rows arrived, but time moved (windows may
  close). ``finish()`` emits everything still open when the source has ended for good.
* ``QueryStage``: the per-batch query (one DuckDB query, or a chain of them and
  of ``Operator``s) as the pipeline sees it: a micro-batch's partitions in, the
  output rows out in the shape the sink takes (Arrow tables or JSON texts, see
  ``Rows``); ``process(None, wm)`` is a tick, ``flush()`` the end of the stream.

Both carry their state through a checkpoint with ``snapshot()`` / ``restore()``:
one entry per operator name, written in the same SQLite transaction as the
committed event id (laminar.runtime.commit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import pyarrow as pa

from laminar.runtime.stats import PipelineStats

T = TypeVar("T")


@dataclass
class Emission:
    """What an operator produced for one input batch or tick."""

    rows: pa.Table
    watermark: int | None  # µs since the epoch; None: no time yet


class Operator(Protocol):
    name: str  # unique within its pipeline: the key of its checkpointed state
    schema: pa.Schema  # of the rows it emits

    def process(self, rows: pa.Table | None, watermark: int | None) -> Emission: ...

    def finish(self) -> pa.Table: ...

    def snapshot(self) -> bytes: ...

    def restore(self, state: bytes) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Rows(Generic[T]):
    """A shape of output rows: how many a value holds, and its first ``n``."""

    kind: str  # "arrow" | "json": what a sink declares it takes (Sink.kind)
    size: Callable[[T], int]
    head: Callable[[T, int], T]


ARROW_ROWS: Rows[pa.Table] = Rows("arrow", lambda t: t.num_rows, lambda t, n: t.slice(0, n))
JSON_ROWS: Rows[list[str]] = Rows("json", len, lambda rows, n: rows[:n])


class QueryStage(Protocol[T]):
    """The per-batch query of a pipeline; see the module docstring.

    ``process`` and ``flush`` run in a worker thread; the rest on the event loop.
    """

    name: str
    rows: Rows[T]
    stateful: bool  # holds state across batches: ticks, and snapshots at barriers only

    def process(self, partitions: Sequence[pa.Table] | None, watermark: int | None) -> T: ...

    def flush(self) -> T: ...

    def count(self, rows: pa.Table) -> int:
        """The output rows of ``rows`` alone (a prefix of a batch: LIMIT's search)."""
        ...

    def note_state(self, stats: PipelineStats) -> None:
        """Report what its state holds (late rows, watermark, size) in ``stats``."""
        ...

    def snapshot(self) -> dict[str, bytes]: ...

    def misfit(self, states: Mapping[str, bytes]) -> str | None:
        """Why saved ``states`` cannot be restored (the query changed), or None."""
        ...

    def restore(self, states: Mapping[str, bytes]) -> None: ...

    def close(self) -> None: ...
