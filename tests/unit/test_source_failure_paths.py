"""The head of a source's pipeline (SourceHead.process: decode, dedup, partitions) on its
failure paths, batch by batch (no network: the batches are
built here, as the micro-batcher hands them over).

* An oversized event is routed like a bad payload whichever partition or batch holds it.
  The network reader counts it before it reaches a batch, and partitions keyed by an
  SSE field are decoded one by one.
* ``continue_on_error = false`` with partitions and a column-keyed de-duplication: the
  state committed with the cut batch holds no key of an event after the cut.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from laminar.api import _rows
from laminar.runtime.batching import Batch
from laminar.sql.engine import Engine
from laminar.sse.event import OversizedEvent, SSEEvent


def head_of(table_sql: str) -> Any:
    """The head operators of ``SELECT * FROM t``, over its source."""
    engine = Engine(env={})
    engine.execute(table_sql)
    [query] = engine.execute("SELECT * FROM t")
    source = query.source
    # What the running EventSource reports: connections, and oversized events read so far.
    source.event_source = SimpleNamespace(stats=SimpleNamespace(connections=1, events_oversized=0))
    return query.head


def batch(*events: SSEEvent) -> Batch[SSEEvent]:
    now = 1_700_000_000_000
    return Batch(list(events), [now] * len(events), [(now, len(events))])


def tick(kind: str, ident: str, n: int) -> SSEEvent:
    return SSEEvent(kind, json.dumps({"n": n}), ident)


def big(kind: str, ident: str) -> OversizedEvent:
    return OversizedEvent(kind, "", ident, size=70_000, limit=65_536)


TABLE = (
    "CREATE TABLE t (n INTEGER, error_message TEXT) WITH (endpoint = 'http://127.0.0.1:1/x', "
    "capture_errors = true{extra})"
)


def error_rows(result: Any) -> list[str]:
    return [
        row["error_message"]
        for part in result.partitions
        for row in _rows(part)
        if row["error_message"]
    ]


def test_an_oversized_event_in_a_later_partition_is_routed() -> None:
    head = head_of(TABLE.format(extra=", parallelism = 4, partition_by = 'event_type'"))
    head.decoder.event_source.stats.events_oversized = 1
    # The event types put the oversized event in another partition than the first one.
    result = head.process(batch(tick("a", "1", 1), tick("b", "2", 2), big("c", "3")))
    [message] = error_rows(result)
    assert "max_event_size" in message


def test_an_oversized_event_counted_before_its_batch_arrives_is_routed() -> None:
    head = head_of(TABLE.format(extra=""))
    # The reader has counted it, but the batch decoded now was read before it.
    head.decoder.event_source.stats.events_oversized = 1
    assert error_rows(head.process(batch(tick("m", "1", 1)))) == []
    [message] = error_rows(head.process(batch(tick("m", "2", 2), big("m", "3"))))
    assert "max_event_size" in message


def test_a_cut_batch_commits_no_dedup_key_from_past_the_cut() -> None:
    head = head_of(
        "CREATE TABLE t (n INTEGER) WITH (endpoint = 'http://127.0.0.1:1/x', "
        "continue_on_error = false, deduplicate_by = 'n', parallelism = 4, "
        "partition_by = 'event_type')"
    )
    first = head.process(batch(tick("a", "1", 1)))
    # Event 3 is bad; events 4 and 5 (after the cut) land in partitions decoded before and
    # after it. None of their keys may be in the state committed with the cut batch.
    bad = SSEEvent("b", "not json", "3")
    cut = head.process(batch(tick("a", "2", 2), bad, tick("c", "4", 4), tick("d", "5", 5)))
    assert cut.stop is not None and cut.last_event_id == "2"
    kept = json.loads(head.snapshot(cut.dedup_mark)["dedup"])
    keys = {key for _tag, key, _ms in kept}
    assert {4, 5}.isdisjoint(keys)
    assert first.dedup_mark <= cut.dedup_mark
