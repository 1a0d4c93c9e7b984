"""The operators at the head of a source's pipeline: type filter, de-duplication, partitions."""

from __future__ import annotations

import pyarrow as pa
import pytest

from laminar.runtime.operators.dedup import Deduplicate
from laminar.runtime.operators.filter_types import EventTypeFilter
from laminar.runtime.operators.partition import Partitioner
from laminar.runtime.operators.source_stage import EventBatch, sse_field
from laminar.runtime.partition import partition_of
from laminar.sse.event import SSEEvent


def batch(*specs: tuple[str, str], start_ms: int = 0) -> EventBatch:
    events = [SSEEvent(kind, f"d{i}", id) for i, (kind, id) in enumerate(specs)]
    return EventBatch(events, [start_ms + i for i in range(len(events))])


def test_event_type_filter_keeps_the_listed_types_and_counts_the_rest() -> None:
    op = EventTypeFilter(["tick"])
    kept, dropped = op.process(batch(("tick", "1"), ("news", "2"), ("tick", "3")))
    assert [e.id for e in kept.events] == ["1", "3"] and kept.arrival_ms == [0, 2]
    assert dropped == 1
    assert op.snapshot() == b""


def test_sse_field_keys_only_when_no_column_has_the_name() -> None:
    assert sse_field("event_id", ["symbol"]) == "id"
    assert sse_field("event_type", ["symbol"]) == "event"
    assert sse_field("event_id", ["event_id"]) is None  # a column wins
    assert sse_field(None, ["symbol"]) is None


def test_dedup_by_event_id_and_its_state_as_of_a_batch_mark() -> None:
    op = Deduplicate(60_000, field="id", column=None)
    kept, dropped = op.process_events(batch(("m", "a"), ("m", "b"), ("m", "a")))
    assert [e.id for e in kept.events] == ["a", "b"] and dropped == 1
    first = op.mark
    op.process_events(batch(("m", "c"), start_ms=10))
    as_of_first = Deduplicate(60_000, field="id", column=None)
    as_of_first.restore(op.snapshot(upto=first))  # "c" came after: not remembered
    kept, _ = as_of_first.process_events(batch(("m", "a"), ("m", "c"), start_ms=20))
    assert [e.id for e in kept.events] == ["c"]
    assert op.process_rows(pa.table({"x": [1]}), [0]) == (pa.table({"x": [1]}), 0)


def test_dedup_by_column_works_on_rows() -> None:
    op = Deduplicate(60_000, field=None, column="k")
    table = pa.table({"k": ["a", "b", "a", None], "v": [1, 2, 3, 4]})
    kept, dropped = op.process_rows(table, [0, 1, 2, 3])
    assert kept.column("v").to_pylist() == [1, 2, 4] and dropped == 1  # None is always kept
    kept, dropped = op.process_rows(pa.table({"k": ["b"], "v": [5]}), [4, 5])  # fewer rows
    assert kept.num_rows == 0 and dropped == 1
    with pytest.raises(ValueError, match="not both"):
        Deduplicate(1, field="id", column="k")


def test_partitions_keep_each_keys_order() -> None:
    events = batch(*(("m", str(i % 3)) for i in range(9)))
    parts = Partitioner(2, field="id", column=None).split_events(events)
    assert sum(len(p.events) for p in parts) == 9
    for index, part in enumerate(parts):
        assert all(partition_of(e.id, 2) == index for e in part.events)
        assert part.arrival_ms == sorted(part.arrival_ms)
    table = pa.table({"k": [1, 2, 3, 1], "v": [10, 20, 30, 40]})
    split = Partitioner(3, field=None, column="k").split_rows(table)
    assert sorted(v for t in split for v in t.column("v").to_pylist()) == [10, 20, 30, 40]
    assert Partitioner(1, field=None, column="k").split_rows(table) == [table]
    assert not Partitioner(1, field="id", column=None).splits_events


def test_replay_check_passes_every_event_and_counts_replays_on_a_new_connection() -> None:
    from laminar.runtime.operators.replay import ReplayCheck

    warnings: list[str] = []
    op = ReplayCheck(warnings.append)
    first = batch(("m", "1"), ("m", "2"), ("m", "3"))
    assert op.process(first, connection=1) is first  # nothing dropped, nothing copied
    again = batch(("m", "2"), ("m", "3"), ("m", "4"))  # a reconnect resends 2 and 3
    assert [e.id for e in op.process(again, connection=2).events] == ["2", "3", "4"]
    assert op.replayed == 2 and warnings
    same = batch(("m", "5"))
    op.process(same, connection=2)  # the same connection: no new inspection
    assert op.replayed == 2 and op.snapshot() == b""
