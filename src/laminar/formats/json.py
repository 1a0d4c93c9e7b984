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
from operator import attrgetter
from typing import Any

import msgspec
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


class FieldDecoder:
    """Parses payloads straight into the table's fields: no dict per event, ~3x cheaper.

    msgspec decodes each payload into a struct holding only the fields that columns
    read (any JSON value, UNSET when absent). A batch in which any payload is not
    a JSON object, or not valid JSON, goes to the dict path instead, which finds
    and reports the bad payloads; values are the same either way (same parser).
    """

    def __init__(self, names: Sequence[str], need_absent: set[str]) -> None:
        self.names = list(dict.fromkeys(names))
        attrs = [f"f{i}" for i in range(len(self.names))]
        # Absent is NULL, like a JSON null, except where a column must tell them apart.
        defaults = [msgspec.UNSET if n in need_absent else None for n in self.names]
        row = msgspec.defstruct(
            "Row",
            [(attr, Any, default) for attr, default in zip(attrs, defaults, strict=True)],
            rename=dict(zip(attrs, self.names, strict=True)),
            gc=False,  # rows hold no reference cycles: skip the GC bookkeeping
        )
        self._decode = msgspec.json.Decoder(row).decode
        self._getters = dict(zip(self.names, map(attrgetter, attrs), strict=True))

    def fields(self, datas: list[str]) -> dict[str, list[Any]] | None:
        """Each field's values (absent: None, or UNSET where that matters), or None if a
        payload did not fit."""
        try:
            rows = list(map(self._decode, datas))
        except msgspec.DecodeError:
            return None
        return {name: list(map(get, rows)) for name, get in self._getters.items()}


def _renamable(name: str) -> bool:
    """msgspec refuses struct field names holding a quote, a backslash or a control
    character; such columns are legal SQL (`"a""b"`) and take the dict path."""
    return not any(ch in '"\\' or ch < " " for ch in name)


def field_decoder(slots: list[Slot]) -> FieldDecoder | None:
    """The struct fast path for a table's payload columns (None: no payload column,
    or a column name the struct path cannot hold)."""
    names = [s.column.name for s in slots if s.source in (FIELD, WHOLE)]
    if not all(map(_renamable, names)):
        return None
    need_absent = {
        s.column.name for s in slots if s.source == WHOLE or s.fallback == ENVELOPE
    }
    return FieldDecoder(names, need_absent) if names else None


def extract(
    events: Sequence[SSEEvent],
    datas: list[str],
    slots: list[Slot],
    fields: FieldDecoder | None = None,
) -> Extracted:
    """Raw per-column values for a batch of JSON payloads."""
    if fields is not None:
        found = fields.fields(datas)
        if found is not None:
            return _from_fields(found, datas, slots)
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


def _from_fields(found: dict[str, list[Any]], datas: list[str], slots: list[Slot]) -> Extracted:
    """Extracted values from the struct fast path (every payload was an object)."""
    unset = msgspec.UNSET
    values: dict[int, list | pa.Array] = {}
    for slot in slots:
        name = slot.column.name
        if slot.source == FIELD:
            column = found[name]
            if slot.fallback == ENVELOPE:  # absent: the SSE envelope fills in (MISSING)
                column = [MISSING if v is unset else v for v in column]
            values[slot.index] = column
        elif slot.source == WHOLE:
            values[slot.index] = _whole_values(found[name], datas, slot.spec)
    return Extracted(values, {})


def _whole_values(column: list[Any], datas: list[str], spec: c.TypeSpec) -> pa.Array:
    """A whole-payload column: the field of its name where present, else the payload text."""
    unset = msgspec.UNSET
    if column.count(unset) == len(column):
        return pa.array(datas, pa.string())
    as_text = spec.kind == c.TEXT
    out: list[str | None] = []
    for value, text in zip(column, datas, strict=True):
        if value is unset:
            out.append(text)
        elif value is None:
            out.append(None)
        elif as_text and isinstance(value, str):
            out.append(value)
        else:
            out.append(dumps(value))
    return pa.array(out, pa.string())


def _whole(objs: list[dict], datas: list[str], name: str, spec: c.TypeSpec) -> pa.Array:
    column = list(map(dict.get, objs, repeat(name), repeat(msgspec.UNSET)))
    return _whole_values(column, datas, spec)
