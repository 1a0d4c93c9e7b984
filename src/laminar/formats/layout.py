"""Where each column's value comes from, decided once per table.

:func:`plan_columns` reads the columns and options and returns one
:class:`Slot` per column naming its *source*:

    FIELD      json: the payload's top-level field of the column's name
    WHOLE      json: that field if present, else the whole payload
               (JSON or TEXT columns named data, payload, event_data, raw)
    DATA       text: the event's data
    GROUP      custom: a capture group of parser_regex (``slot.group``)
    ENVELOPE   the SSE event type / last event id / retry (``slot.envelope``)
    ARRIVAL    the arrival time of the event
    ERROR_MESSAGE, ERROR_TIMESTAMP   capture_errors bookkeeping
    NULL       nothing fills it (text format, leftover columns)

``slot.fallback`` names what fills a payload-sourced slot when the payload
has no value for it ("envelope" or "arrival"). Misfits between options and
columns raise :class:`~laminar.errors.ConfigError` naming the option and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from laminar._suggest import did_you_mean
from laminar.errors import ConfigError
from laminar.formats import columns as c
from laminar.formats.options import FormatOptions

FIELD = "field"
WHOLE = "whole"
DATA = "data"
GROUP = "group"
ENVELOPE = "envelope"
ARRIVAL = "arrival"
ERROR_MESSAGE = "error_message"
ERROR_TIMESTAMP = "error_timestamp"
NULL = "null"

# column name -> (SSEEvent attribute, the capture_* option that forces it)
ENVELOPE_COLUMNS = {
    "event_name": ("event", "capture_event_name"),
    "event_type": ("event", "capture_event_name"),
    "event_id": ("id", "capture_event_id"),
    "retry_ms": ("retry", "capture_retry"),
}
WHOLE_PAYLOAD_NAMES = ("data", "payload", "event_data", "raw")
ARRIVAL_NAME = "timestamp"


@dataclass(frozen=True, slots=True)
class Slot:
    """One column and the source of its values."""

    index: int
    column: c.Column
    spec: c.TypeSpec
    source: str
    envelope: str | None = None  # SSEEvent attribute for ENVELOPE (or fallback)
    fallback: str | None = None  # "envelope" | "arrival" | None
    group: int | str | None = None  # custom: group number or name


def _fail(message: str, option: str | None) -> ConfigError:
    return ConfigError(message, option=option)


def plan_columns(
    table: str, columns: list[c.Column], options: FormatOptions
) -> tuple[list[Slot], re.Pattern[str] | None]:
    """Decide every column's source; returns the slots and the compiled regex (custom)."""
    if not columns:
        raise _fail(f"table '{table}' has no columns", None)
    specs = [col.spec for col in columns]
    seen: set[str] = set()
    for col in columns:
        if col.name in seen:
            raise _fail(f"table '{table}': column '{col.name}' is declared twice", None)
        seen.add(col.name)
    if options.parser_regex is not None and options.format != "custom":
        raise _fail(
            f"table '{table}': parser_regex is only used with format = 'custom' "
            f"(this table has format = '{options.format}')",
            "parser_regex",
        )

    roles: dict[int, tuple[str, str | None]] = {}  # index -> (source, envelope attr)
    _claim_errors(table, columns, specs, options, roles)
    _claim_envelope(table, columns, options, roles)
    arrival = _claim_arrival(table, columns, specs, options, roles)

    regex = None
    if options.format == "json":
        slots = _json_slots(columns, specs, roles, arrival)
    elif options.format == "text":
        slots = _text_slots(table, columns, specs, roles, arrival)
    else:
        regex, slots = _custom_slots(table, columns, specs, options, roles, arrival)
    return slots, regex


def _claim_errors(table, columns, specs, options, roles) -> None:
    if not options.capture_errors:
        return
    by_name = {col.name: i for i, col in enumerate(columns)}
    if "error_message" not in by_name:
        raise _fail(
            f"table '{table}': capture_errors = true needs an error_message TEXT column "
            "(add 'error_message TEXT, error_timestamp TIMESTAMP' to the table, "
            "or set capture_errors = false)",
            "capture_errors",
        )
    i = by_name["error_message"]
    if specs[i].kind not in (c.TEXT, c.JSON):
        raise _fail(f"table '{table}': error_message must be a TEXT column", "capture_errors")
    roles[i] = (ERROR_MESSAGE, None)
    if "error_timestamp" in by_name:
        j = by_name["error_timestamp"]
        if specs[j].kind != c.TIMESTAMP:
            raise _fail(
                f"table '{table}': error_timestamp must be a TIMESTAMP column", "capture_errors"
            )
        roles[j] = (ERROR_TIMESTAMP, None)


def _claim_envelope(table, columns, options, roles) -> None:
    for flag in ("capture_event_name", "capture_event_id", "capture_retry"):
        if not getattr(options, flag):
            continue
        names = [n for n, (_, f) in ENVELOPE_COLUMNS.items() if f == flag]
        hits = [i for i, col in enumerate(columns) if col.name in names]
        if not hits:
            raise _fail(
                f"table '{table}': {flag} = true but the table has no "
                f"{' or '.join(names)} column to receive it; add one (e.g. '{names[0]} "
                f"{'INTEGER' if flag == 'capture_retry' else 'TEXT'}') or drop the option",
                flag,
            )
        for i in hits:
            roles[i] = (ENVELOPE, ENVELOPE_COLUMNS[columns[i].name][0])


def _claim_arrival(table, columns, specs, options, roles) -> int | None:
    """The arrival-time column: forced with add_timestamp, else a fallback for 'timestamp'."""
    free = [i for i in range(len(columns)) if i not in roles and specs[i].kind == c.TIMESTAMP]
    named = [i for i in free if columns[i].name == ARRIVAL_NAME]
    if options.add_timestamp:
        if not free:
            raise _fail(
                f"table '{table}': add_timestamp = true needs a TIMESTAMP column to hold the "
                "arrival time (add 'timestamp TIMESTAMP')",
                "add_timestamp",
            )
        target = (named or free)[0]
        roles[target] = (ARRIVAL, None)
        return None
    return named[0] if named else None


def _json_slots(columns, specs, roles, arrival) -> list[Slot]:
    slots = []
    for i, col in enumerate(columns):
        source, attr = roles.get(i, (None, None))
        if source is not None:
            slots.append(Slot(i, col, specs[i], source, envelope=attr))
        elif col.name in ENVELOPE_COLUMNS:
            attr = ENVELOPE_COLUMNS[col.name][0]
            slots.append(Slot(i, col, specs[i], FIELD, envelope=attr, fallback=ENVELOPE))
        elif col.name in WHOLE_PAYLOAD_NAMES and specs[i].kind in (c.JSON, c.TEXT):
            slots.append(Slot(i, col, specs[i], WHOLE))
        else:
            fallback = ARRIVAL if i == arrival else None
            slots.append(Slot(i, col, specs[i], FIELD, fallback=fallback))
    return slots


def _text_slots(table, columns, specs, roles, arrival) -> list[Slot]:
    candidates = [
        i
        for i, col in enumerate(columns)
        if i not in roles and col.name not in ENVELOPE_COLUMNS and specs[i].kind == c.TEXT
    ]
    if not candidates:
        raise _fail(
            f"table '{table}': format = 'text' needs a TEXT column to receive the event data "
            "(e.g. 'message TEXT')",
            "format",
        )
    data = candidates[0]
    slots = []
    for i, col in enumerate(columns):
        source, attr = roles.get(i, (None, None))
        if source is not None:
            slots.append(Slot(i, col, specs[i], source, envelope=attr))
        elif i == data:
            slots.append(Slot(i, col, specs[i], DATA))
        elif col.name in ENVELOPE_COLUMNS:
            slots.append(Slot(i, col, specs[i], ENVELOPE, envelope=ENVELOPE_COLUMNS[col.name][0]))
        elif i == arrival:
            slots.append(Slot(i, col, specs[i], ARRIVAL))
        else:
            slots.append(Slot(i, col, specs[i], NULL))
    return slots


def _custom_slots(table, columns, specs, options, roles, arrival):
    if not options.parser_regex:
        raise _fail(
            f"table '{table}': format = 'custom' needs parser_regex, a regular expression whose "
            r"groups fill the columns in order, e.g. parser_regex = '^id:(\S+) value:(\S+)$'",
            "parser_regex",
        )
    try:
        regex = re.compile(options.parser_regex)
    except re.error as exc:
        raise _fail(
            f"table '{table}': parser_regex does not compile: {exc}", "parser_regex"
        ) from None
    targets = [i for i in range(len(columns)) if i not in roles]
    names = regex.groupindex
    groups: dict[int, int | str] = {}
    if names and len(names) == regex.groups:
        target_names = {columns[i].name: i for i in targets}
        for name in names:
            if name not in target_names:
                raise _fail(
                    f"table '{table}': parser_regex group '{name}' names no column"
                    f"{did_you_mean(name, target_names)}",
                    "parser_regex",
                )
            groups[target_names[name]] = name
    elif regex.groups != len(targets):
        listed = ", ".join(columns[i].name for i in targets) or "none"
        raise _fail(
            f"table '{table}': parser_regex has {regex.groups} group(s) but {len(targets)} "
            f"column(s) take groups ({listed}); write one (...) group per column, in order, "
            "or name groups after columns with (?P<column>...)",
            "parser_regex",
        )
    else:
        groups = {i: n + 1 for n, i in enumerate(targets)}
    slots = []
    for i, col in enumerate(columns):
        source, attr = roles.get(i, (None, None))
        if source is not None:
            slots.append(Slot(i, col, specs[i], source, envelope=attr))
            continue
        fallback = None
        envelope = None
        if col.name in ENVELOPE_COLUMNS:
            fallback, envelope = ENVELOPE, ENVELOPE_COLUMNS[col.name][0]
        elif i == arrival:
            fallback = ARRIVAL
        if i in groups:
            slots.append(
                Slot(i, col, specs[i], GROUP, envelope=envelope, fallback=fallback, group=groups[i])
            )
        elif fallback == ENVELOPE:
            slots.append(Slot(i, col, specs[i], ENVELOPE, envelope=envelope))
        elif fallback == ARRIVAL:
            slots.append(Slot(i, col, specs[i], ARRIVAL))
        else:
            slots.append(Slot(i, col, specs[i], NULL))
    return regex, slots


class _Missing:
    """Marks a value the payload did not give (so a fallback may fill it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


@dataclass(slots=True)
class Extracted:
    """What a format pulled out of a batch, before conversion.

    ``values`` maps a slot index to the raw Python values of its rows (``None``
    = NULL, ``MISSING`` = not given, for slots with a fallback) or to a finished
    Arrow array; ``errors`` maps a row to the reason its payload failed.
    """

    values: dict[int, list | pa.Array]
    errors: dict[int, str]
