"""Point Laminar at an SSE URL and get its CREATE TABLE: ``laminar probe URL``.

``probe_stream(options, seconds)`` samples the stream (``sample``), reports
what a user needs to write the table (event types with counts, ids, retry,
rate, example payloads) and infers the schema (``infer``): a ready
``CREATE TABLE … WITH (…)`` (``ddl``) with the format, the
``event_type_filter`` of the types seen, and capture options for the SSE
event type and id. Secrets given for the connection appear in the DDL as
``${SSE_TOKEN}`` / ``${SSE_API_KEY}``, never as their values.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from laminar.errors import LaminarError
from laminar.probe.ddl import create_table, table_name
from laminar.probe.infer import InferredColumn, infer_columns
from laminar.probe.sample import Sample, sample_stream

__all__ = ["ProbeReport", "analyse", "probe_stream"]

EXAMPLES_PER_TYPE = 2
EXAMPLE_CHARS = 500
CONNECTION_KEYS_SHOWN = ("endpoint", "method", "body", "headers", "auth_type", "token",
                         "token_file", "api_key", "api_key_header")


@dataclass
class ProbeReport:
    endpoint: str
    seconds: float
    events: int
    rate: float
    event_types: dict[str, int]
    ids: dict[str, Any]
    retry: list[int]
    examples: dict[str, list[str]]
    format: str
    columns: list[InferredColumn]
    ddl: str
    ended: bool = False
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "seconds": round(self.seconds, 3),
            "events": self.events,
            "rate": round(self.rate, 2),
            "event_types": self.event_types,
            "ids": self.ids,
            "retry": self.retry,
            "examples": self.examples,
            "format": self.format,
            "columns": [{"name": c.name, "type": c.type, "nullable": c.nullable}
                        for c in self.columns],
            "ddl": self.ddl,
            "ended": self.ended,
            "notes": self.notes,
        }

    def text(self) -> str:
        """The report for a terminal, ending with the DDL."""
        out = [f"probed {self.endpoint} for {self.seconds:.1f} s: {self.events} events "
               f"({self.rate:.1f}/s){' — the server ended the stream' if self.ended else ''}"]
        out.append("event types: " + ", ".join(f"{t} ({n})" for t, n in self.event_types.items()))
        ids = self.ids
        out.append(f"ids: {ids['kind']}" + (f", first {ids['first']!r}, last {ids['last']!r}"
                                              if ids["kind"] != "none" else ""))
        if self.retry:
            out.append(f"retry: {', '.join(str(r) for r in self.retry)} ms")
        for event_type, payloads in self.examples.items():
            for payload in payloads:
                out.append(f"example {event_type}: {payload}")
        out.extend(f"note: {n}" for n in self.notes)
        out.append("")
        out.append(self.ddl)
        return "\n".join(out)


async def probe_stream(
    options: Mapping[str, Any],
    *,
    seconds: float = 5.0,
    table: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ProbeReport:
    """Sample the stream of connection ``options`` for ``seconds``; see the module docstring."""
    sample = await sample_stream(options, seconds, env)
    if not sample.events:
        raise LaminarError(
            f"probe: no events from {options.get('endpoint')} in {sample.seconds:.1f} s"
            + (" (the server ended the stream)" if sample.ended else
               "; try a longer --seconds, or check the URL with `laminar tail`")
        )
    return analyse(sample, options, table)


def analyse(sample: Sample, options: Mapping[str, Any], table: str | None = None) -> ProbeReport:
    """The report and DDL of a sample (pure: tests call it with made-up events)."""
    from laminar.connectors.sse.options import redact_url

    events = sample.events
    types = Counter(e.event for e in events)
    payloads: list[Any] = []
    objects = 0
    for e in events:
        try:
            value = json.loads(e.data)
        except ValueError:
            value = None
        payloads.append(value)
        objects += isinstance(value, dict)
    is_json = objects == len(events)
    notes: list[str] = []
    if not is_json and objects:
        notes.append(f"{len(events) - objects} of {len(events)} payloads are not JSON objects: "
                     "format 'text' keeps every one (or format 'json' with "
                     "continue_on_error = true skips them)")
    columns: list[InferredColumn] = infer_columns(payloads) if is_json else []
    if not is_json:
        columns = [InferredColumn("message", "TEXT", False, events[0].data)]
    taken = {c.name for c in columns}
    with_options: dict[str, Any] = {"connector": "sse_source"}
    for key in CONNECTION_KEYS_SHOWN:
        if options.get(key) not in (None, "", {}):
            with_options[key] = options[key]
    with_options["format"] = "json" if is_json else "text"
    named = [t for t in types if t != "message"]
    if named:
        with_options["event_type_filter"] = json.dumps(sorted(types), separators=(",", ":"))
    extra: list[tuple[str, str]] = []
    if len(types) > 1:
        if "event_type" not in taken:
            extra.append(("event_type", "TEXT"))
            with_options["capture_event_name"] = True
        else:
            notes.append("the payload has an 'event_type' field: the SSE event type is not "
                         "captured (rename the column to capture it)")
    ids = _ids(events)
    if ids["kind"] != "none" and "event_id" not in taken:
        extra.append(("event_id", "TEXT"))
        with_options["capture_event_id"] = True
    retry = sorted({e.retry for e in events if e.retry is not None})
    examples: dict[str, list[str]] = {}
    for e in events:
        kept = examples.setdefault(e.event, [])
        if len(kept) < EXAMPLES_PER_TYPE:
            kept.append(e.data if len(e.data) <= EXAMPLE_CHARS else e.data[:EXAMPLE_CHARS] + "…")
    endpoint = str(options.get("endpoint", ""))
    name = table or table_name(endpoint)
    comments = [
        f"laminar probe {redact_url(endpoint)}: {len(events)} events in {sample.seconds:.1f} s",
        "event types: " + ", ".join(f"{t} ({n})" for t, n in types.most_common()),
    ]
    ddl = create_table(name, [*columns, *extra], with_options, comments)
    return ProbeReport(
        endpoint=redact_url(endpoint),
        seconds=sample.seconds,
        events=len(events),
        rate=len(events) / sample.seconds,
        event_types=dict(types.most_common()),
        ids=ids,
        retry=retry,
        examples=examples,
        format=with_options["format"],
        columns=columns,
        ddl=ddl,
        ended=sample.ended,
        notes=notes,
    )


def _ids(events: list[Any]) -> dict[str, Any]:
    values = [e.id for e in events if e.id]
    if not values:
        return {"kind": "none", "first": None, "last": None, "count": 0}
    kind = "text"
    if all(v.isdigit() for v in values):
        numbers = [int(v) for v in values]
        increasing = all(b > a for a, b in itertools.pairwise(numbers))
        kind = "increasing integers" if increasing else "integers"
    return {"kind": kind, "first": values[0], "last": values[-1], "count": len(values)}
