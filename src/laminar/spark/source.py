"""The "laminar_sse" Spark data source: a DataSourceStreamReader over per-endpoint WALs.

Driver side (pyspark's long-lived source worker): the first ``initialOffset`` or
``latestOffset`` opens each endpoint's WAL (fencing any older writer) and starts
``Ingest``. An offset is ``{endpoint key: {"seq": n, "id": last SSE id}}``.
``partitions`` gives one partition per endpoint with new events; ``read`` runs on
executors and decodes its WAL slice into Arrow record batches through Laminar's
formats layer; ``commit`` deletes what Spark has committed.

If an endpoint's WAL does not hold Spark's start offset (it was lost), it is
started anew there and ingest resumes from the server after the committed id.
Nothing is opened in ``__init__``: pyspark also builds readers only to plan and
to pickle ``read`` to executors.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition
from pyspark.sql.types import StructType

from laminar import arrow_compute as pc
from laminar.formats import build_row_decoder
from laminar.runtime.operators.filter_types import EventTypeFilter
from laminar.runtime.operators.source_stage import EventBatch
from laminar.spark.ingest import Ingest
from laminar.spark.options import SourceSpec, parse_spark_options
from laminar.spark.types import arrow_target_schema, columns_from_spark, spark_schema
from laminar.spark.wal import Position, WalError, WalWriter, read_range

try:  # pyspark >= 4.2: admission control and Trigger.AvailableNow
    from pyspark.sql.streaming.datasource import (
        ReadAllAvailable,
        ReadLimit,
        ReadMaxRows,
        SupportsTriggerAvailableNow,
    )
except ImportError:  # pragma: no cover - pyspark 4.0 / 4.1
    ReadAllAvailable = ReadLimit = ReadMaxRows = None  # type: ignore[assignment,misc]
    SupportsTriggerAvailableNow = object  # type: ignore[assignment,misc]

FORMAT_NAME = "laminar_sse"


class WalSlice(InputPartition):
    """Events [start, end) of one endpoint's WAL."""

    def __init__(self, key: str, wal_dir: str, display: str, start: int, end: int) -> None:
        super().__init__((key, start, end))
        self.key, self.wal_dir, self.display = key, wal_dir, display
        self.start, self.end = start, end


class LaminarSSEDataSource(DataSource):
    """``spark.readStream.format("laminar_sse")``: see laminar.spark."""

    @classmethod
    def name(cls) -> str:
        return FORMAT_NAME

    def schema(self) -> StructType:
        spec = parse_spark_options(dict(self.options), None)
        return spark_schema(spec)

    def streamReader(self, schema: StructType) -> DataSourceStreamReader:
        spec = parse_spark_options(dict(self.options), columns_from_spark(schema))
        return LaminarStreamReader(spec, schema)


class LaminarStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """One table's stream: see the module docstring."""

    def __init__(self, spec: SourceSpec, schema: StructType) -> None:
        self.spec = spec
        self.schema_json = schema.json()
        self._writers: list[WalWriter] | None = None
        self._opened_at: list[Position] = []
        self._ingest: Ingest | None = None
        self._available_now = False
        self._target: dict[str, Position] | None = None  # Trigger.AvailableNow's end
        self._frontier: dict[str, Position] | None = None  # the last offset handed out

    def __getstate__(self) -> dict[str, Any]:
        # read() travels to executors: the driver's writers, threads and connection
        # options (credentials) stay behind.
        endpoints = tuple(dataclasses.replace(e, connection=None) for e in self.spec.endpoints)
        spec = dataclasses.replace(self.spec, endpoints=endpoints)
        return {"spec": spec, "schema_json": self.schema_json}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._writers, self._ingest, self._target, self._frontier = None, None, None, None
        self._available_now, self._opened_at = False, []

    # -- driver side ---------------------------------------------------------------------------

    def _open(self, start: dict | None = None) -> list[WalWriter]:
        if self._writers is None:
            writers = [WalWriter(e.wal_dir) for e in self.spec.endpoints]
            if start is not None:
                for endpoint, wal in zip(self.spec.endpoints, writers, strict=True):
                    position = _position(start, endpoint.key)
                    if position is not None and not wal.holds(position):
                        wal.reset(position)  # WAL lost: resume from the server after its id
            self._writers = writers
            self._opened_at = [w.end for w in writers]
            self._ingest = Ingest(self.spec.endpoints, writers)
            self._ingest.start()
        return self._writers

    def initialOffset(self) -> dict:
        self._open()
        # Where the WAL stood before this run's ingest began (pyspark < 4.2 asks for
        # latestOffset first, and the start must not be past it).
        ends = list(self._opened_at)
        self._frontier = {e.key: p for e, p in zip(self.spec.endpoints, ends, strict=True)}
        return self._offset(ends)

    def latestOffset(self, start: dict | None = None, limit: Any = None) -> dict:
        writers = self._open(start)
        assert self._ingest is not None
        self._ingest.check()
        ends = [w.sync() for w in writers]
        if self._available_now and self._target is None:
            self._target = {e.key: p for e, p in zip(self.spec.endpoints, ends, strict=True)}
        if self._target is not None:
            ends = [self._target[e.key] for e in self.spec.endpoints]
        # pyspark < 4.2 gives no start: the last offset handed out, else the WAL's start
        base = start if start is not None else self._frontier_dict() or self._offset(
            [w.start for w in writers]
        )
        max_rows = self._max_rows(limit)
        if max_rows is not None:
            share = max(1, max_rows // len(writers))
            limited = []
            for endpoint, wal, end in zip(self.spec.endpoints, writers, ends, strict=True):
                begin = _position(base, endpoint.key)
                if begin is None:
                    limited.append(end)
                    continue
                cut = wal.position_at_most(begin.seq, share)
                limited.append(cut if cut.seq < end.seq else end)
            ends = limited
        offset = self._offset(ends)
        self._frontier = {e.key: p for e, p in zip(self.spec.endpoints, ends, strict=True)}
        return offset

    def _frontier_dict(self) -> dict | None:
        if self._frontier is None:
            return None
        return {k: p.as_dict() for k, p in self._frontier.items()}

    def _max_rows(self, limit: Any) -> int | None:
        if ReadMaxRows is not None and isinstance(limit, ReadMaxRows):
            return int(limit.max_rows)
        if limit is None or (ReadAllAvailable is not None and isinstance(limit, ReadAllAvailable)):
            # pyspark < 4.2 passes no limit: apply the option ourselves
            return self.spec.max_events_per_trigger if limit is None else None
        return None

    def getDefaultReadLimit(self) -> Any:
        if ReadMaxRows is None:  # pragma: no cover
            return None
        if self.spec.max_events_per_trigger is not None:
            return ReadMaxRows(self.spec.max_events_per_trigger)
        return ReadAllAvailable()

    def reportLatestOffset(self) -> dict | None:
        if self._writers is None:
            return None
        return self._offset([w.end for w in self._writers])

    def prepareForTriggerAvailableNow(self) -> None:
        # The target is what the WAL holds at the first latestOffset, which also brings
        # Spark's start offset (to open the WAL at it when it was lost).
        self._available_now = True

    def _offset(self, positions: Sequence[Position]) -> dict:
        return {e.key: p.as_dict() for e, p in zip(self.spec.endpoints, positions, strict=True)}

    def partitions(self, start: dict, end: dict) -> Sequence[InputPartition]:
        # A batch planned before a crash is re-run after a restart: when the WAL was lost
        # meanwhile, wait for the server to replay its events after the committed id.
        writers = self._open(start)
        parts: list[InputPartition] = []
        for endpoint, wal in zip(self.spec.endpoints, writers, strict=True):
            begin = _position(start, endpoint.key) or Position(0, "")
            stop = _position(end, endpoint.key) or begin
            if stop.seq < begin.seq or not wal.holds(begin):
                raise WalError(
                    f"the write-ahead log {endpoint.wal_dir} does not hold Spark's offset "
                    f"{begin.seq}: it was lost before a restart, and pyspark < 4.2 does not give "
                    "a source its checkpoint's offset before it is too late; restore wal_path, "
                    "or use pyspark >= 4.2, which resumes from the server after the committed "
                    "Last-Event-ID"
                )
            self._await(wal, stop.seq)
            if stop.seq > begin.seq:
                parts.append(
                    WalSlice(endpoint.key, endpoint.wal_dir, endpoint.display, begin.seq, stop.seq)
                )
        return parts

    def _await(self, wal: WalWriter, seq: int, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while wal.sync().seq < seq:
            assert self._ingest is not None
            self._ingest.check()
            if time.monotonic() > deadline:
                raise WalError(
                    f"WAL {wal.directory}: Spark's batch needs events up to {seq - 1}, the log "
                    f"holds {wal.end.seq} and the server has not replayed the rest in "
                    f"{timeout_s:.0f} s"
                )
            time.sleep(0.05)

    def commit(self, end: dict) -> None:
        if self._writers is None:
            return  # the logs are not open yet: nothing of them to forget
        for endpoint, wal in zip(self.spec.endpoints, self._writers, strict=True):
            position = _position(end, endpoint.key)
            if position is not None:
                wal.commit(position)

    def stop(self) -> None:
        if self._ingest is not None:
            self._ingest.stop()
        for wal in self._writers or []:
            wal.close()
        self._writers, self._ingest = None, None

    # -- executor side -------------------------------------------------------------------------

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        assert isinstance(partition, WalSlice)
        schema = StructType.fromJson(json.loads(self.schema_json))
        yield from decode_slice(self.spec, schema, partition)


def decode_slice(
    spec: SourceSpec, schema: StructType, part: WalSlice
) -> Iterator[pa.RecordBatch]:
    """A WAL slice as record batches of exactly Spark's Arrow schema."""
    target = arrow_target_schema(schema)
    decoder = build_row_decoder(spec.table, list(spec.columns), spec.options.format)
    allowed = spec.options.event_type_filter
    only = EventTypeFilter(allowed) if allowed else None  # laminar run's own filter
    for events, arrival in read_range(part.wal_dir, part.start, part.end):
        batch = EventBatch(events, arrival)
        if only is not None:
            batch, _ = only.process(batch)
            if not batch.events:
                continue
        table = decoder.decode(batch.events, batch.arrival_ms).table
        if table.num_rows == 0:
            continue
        if spec.capture_endpoint:
            table = table.append_column(
                "endpoint", pa.array([part.display] * table.num_rows, pa.string())
            )
        yield _conform(table, target)


def _conform(table: pa.Table, target: pa.Schema) -> pa.RecordBatch:
    arrays = []
    for field in target:
        column = table.column(field.name)
        if not column.type.equals(field.type):
            column = pc.cast(column, field.type)
        arrays.append(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
    return pa.RecordBatch.from_arrays(arrays, schema=target)


def _position(offset: dict | None, key: str) -> Position | None:
    if not offset or key not in offset:
        return None
    return Position.from_dict(offset[key])


__all__ = ["FORMAT_NAME", "LaminarSSEDataSource", "LaminarStreamReader", "WalSlice"]
