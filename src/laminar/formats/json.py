"""format = 'json': each event's data is one JSON document; columns take its fields.

:func:`extract` parses the whole batch in one native loop and only when that
fails parses event by event to find the bad payloads. A payload must be an
object when the table has a plain field column (one with no fallback);
otherwise any JSON value is accepted. Whole-payload columns (see
:mod:`laminar.formats.layout`) take the field of their name when the object has
one and the payload text, exactly as received, when it does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from typing import Any

import pyarrow as pa

from laminar.formats import columns as c
from laminar.formats.codec import BATCH_ERRORS, dumps, excerpt, json_kind, loads_batch, loads_one
from laminar.formats.layout import ENVELOPE, FIELD, MISSING, WHOLE, Extracted, Slot
from laminar.sse.event import SSEEvent


def _parse(datas: list[str], errors: dict[int, str]) -> list[Any]:
    try:
        return loads_batch(datas)
    except BATCH_ERRORS:
        pass
    objs: list[Any] = []
    for row, text in enumerate(datas):
        try:
            objs.append(loads_one(text))
        except ValueError as exc:
            reason = "empty payload" if not text.strip() else f"invalid JSON ({exc})"
            errors[row] = f"{reason}: {excerpt(text)}"
            objs.append(None)
    return objs


def extract(events: Sequence[SSEEvent], datas: list[str], slots: list[Slot]) -> Extracted:
    """Raw per-column values for a batch of JSON payloads."""
    errors: dict[int, str] = {}
    objs = _parse(datas, errors)
    if set(map(type, objs)) - {dict}:
        needs_object = any(s.source == FIELD and s.fallback is None for s in slots)
        objs = list(objs)
        for row, obj in enumerate(objs):
            if type(obj) is dict:
                continue
            if needs_object and row not in errors:
                errors[row] = (
                    f"payload is {json_kind(obj)}, not a JSON object: {excerpt(datas[row])}"
                )
            objs[row] = {}
    values: dict[int, list | pa.Array] = {}
    for slot in slots:
        name = slot.column.name
        if slot.source == FIELD:
            if slot.fallback == ENVELOPE:
                values[slot.index] = list(map(dict.get, objs, repeat(name), repeat(MISSING)))
            else:
                values[slot.index] = list(map(dict.get, objs, repeat(name)))
        elif slot.source == WHOLE:
            values[slot.index] = _whole(objs, datas, name, slot.spec)
    return Extracted(values, errors)


def _whole(objs: list[dict], datas: list[str], name: str, spec: c.TypeSpec) -> pa.Array:
    if not any(map(dict.__contains__, objs, repeat(name))):
        return pa.array(datas, pa.string())
    as_text = spec.kind == c.TEXT
    out: list[str | None] = []
    for obj, text in zip(objs, datas, strict=True):
        if name not in obj:
            out.append(text)
            continue
        value = obj[name]
        if value is None:
            out.append(None)
        elif as_text and isinstance(value, str):
            out.append(value)
        else:
            out.append(dumps(value))
    return pa.array(out, pa.string())
