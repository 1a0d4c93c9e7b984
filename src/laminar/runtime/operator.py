"""The contract of a pipeline operator.

An operator takes a batch of rows (Arrow) with the watermark of its input and
returns the rows it emits with its own watermark. ``process(None, wm)`` is a
tick: no rows arrived, but time moved (windows may close). ``finish()`` emits
everything still open when the source has ended for good. ``snapshot()`` /
``restore()`` carry the operator's state through a checkpoint, written in the
same transaction as the committed event id (laminar.runtime.commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa


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
