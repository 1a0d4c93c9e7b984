"""format = 'custom': parser_regex is searched in each payload; its groups fill columns.

Groups fill the columns that take groups, in order (or by name, when every
group is named ``(?P<column>...)``). The regex is *searched* (``re.search``):
anchor it with ``^...$`` to require the whole payload to match. A payload that
does not match is a parse error; a group that did not take part is NULL (or
its column's fallback). A group feeding a JSON column must hold valid JSON
text, which is kept as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pyarrow as pa

from laminar.formats import columns as c
from laminar.formats.codec import excerpt, loads_one
from laminar.formats.layout import ENVELOPE, GROUP, MISSING, Extracted, Slot
from laminar.sse.event import SSEEvent


def extract(
    events: Sequence[SSEEvent], datas: list[str], slots: list[Slot], regex: re.Pattern[str]
) -> Extracted:
    """Raw per-column group texts for a batch of payloads."""
    group_slots = [s for s in slots if s.source == GROUP]
    # (slot, its regex group): a GROUP slot always names one (laminar.formats.layout)
    groups = [(s, s.group) for s in group_slots if s.group is not None]
    columns: dict[int, list] = {s.index: [] for s in group_slots}
    errors: dict[int, str] = {}
    search = regex.search
    for row, text in enumerate(datas):
        match = search(text)
        if match is None:
            errors[row] = f"payload does not match parser_regex: {excerpt(text)}"
            for slot in group_slots:
                columns[slot.index].append(None)
            continue
        for slot, group in groups:
            value = match.group(group)
            if value is None and slot.fallback == ENVELOPE:
                value = MISSING
            columns[slot.index].append(value)
    values: dict[int, list | pa.Array] = {}
    for slot in group_slots:
        if slot.spec.kind == c.JSON:
            values[slot.index] = _json_texts(slot, columns[slot.index], errors)
        else:
            values[slot.index] = columns[slot.index]
    return Extracted(values, errors)


def _json_texts(slot: Slot, texts: list, errors: dict[int, str]) -> pa.Array:
    out: list[str | None] = []
    for row, text in enumerate(texts):
        if text is None or text is MISSING:
            out.append(None)
            continue
        try:
            loads_one(text)
        except ValueError:
            errors.setdefault(
                row, f"column '{slot.column.name}': group is not valid JSON: {excerpt(text)}"
            )
            out.append(None)
            continue
        out.append(text)
    return pa.array(out, pa.string())
