"""Python values from a payload -> one typed Arrow column, with per-row errors.

``convert(values, spec)`` returns ``(array, errors)``: an Arrow array of
``spec.arrow`` (``None`` -> NULL) and ``{row: reason}`` for values that cannot be
converted (their cell is NULL). Two paths, one meaning:

* the **fast path** converts the whole list in native code (``pa.array`` with a
  strict natural type, then a checked Arrow cast). It either succeeds for every
  row or raises;
* the **per-value path** runs when it raises: ``normalise`` checks and converts
  each value in Python, then the same Arrow cast finishes the column.

Each row's result depends on that row alone, and the per-value rules accept
everything the fast path accepts with the same result (a property test holds us
to it), so a batch gives the rows its events would give one at a time.

Conversion rules, by kind:

* TEXT: strings as they are; numbers, booleans, objects and arrays as their
  compact JSON text.
* BOOLEAN: true/false; the numbers 0 and 1; the strings "true"/"false"/"1"/"0"
  (any case).
* integers: integral numbers (``3``, ``3.0``), booleans as 1/0, strings of
  decimal digits with an optional sign; out of the type's range is an error.
* REAL/DOUBLE: numbers, booleans as 1/0, numeric strings.
* DECIMAL(p,s): numbers and numeric strings, rounded half-to-even to ``s``
  places (a JSON number is read as a double first); more than ``p-s`` integer
  digits is an error.
* TIMESTAMP: ISO-8601 text (``2026-11-28T09:00:00Z``, offsets, a space for T,
  fractions, a bare date), converted to UTC; text without an offset is UTC.
  Numbers (and numeric strings) are epoch time, the unit chosen by magnitude:
  ``|x| < 1e11`` seconds, ``< 1e14`` milliseconds, ``< 1e17`` microseconds,
  otherwise nanoseconds. Stored with microsecond precision.
* JSON: any value, as its compact JSON text.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

from laminar import arrow_compute as pc
from laminar.formats import columns as c
from laminar.formats.codec import dumps, json_kind

FAST_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError)

_INT_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_US = dt.timedelta(microseconds=1)
_INT_RANGES = {
    pa.int8(): (-(2**7), 2**7 - 1),
    pa.int16(): (-(2**15), 2**15 - 1),
    pa.int32(): (-(2**31), 2**31 - 1),
    pa.int64(): (-(2**63), 2**63 - 1),
}
_WIDE = Context(prec=100)  # quantize never runs out of digits for decimal128
_BOOL_TEXT = {"true": True, "false": False, "1": True, "0": False}


class ConversionError(ValueError):
    """A value that does not fit its column; the message is the reason."""


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else dumps(value)
    shown = text if len(text) <= 40 else text[:37] + "..."
    return repr(shown) if isinstance(value, str) else shown


def _cannot(value: Any, spec: c.TypeSpec, why: str = "") -> ConversionError:
    tail = f" ({why})" if why else ""
    return ConversionError(f"cannot convert {json_kind(value)} {_show(value)} to {spec.name}{tail}")


# --- per-value rules ---------------------------------------------------------


def _norm_text(value: Any, spec: c.TypeSpec) -> str:
    return value if isinstance(value, str) else dumps(value)


def _norm_json(value: Any, spec: c.TypeSpec) -> str:
    return dumps(value)


def _norm_bool(value: Any, spec: c.TypeSpec) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        found = _BOOL_TEXT.get(value.strip().lower())
        if found is not None:
            return found
    raise _cannot(value, spec)


def _norm_int(value: Any, spec: c.TypeSpec) -> int:
    if isinstance(value, bool):
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise _cannot(value, spec, "not a whole number")
        number = int(value)
    elif isinstance(value, str) and _INT_TEXT.fullmatch(value):
        number = int(value)
    else:
        raise _cannot(value, spec)
    low, high = _INT_RANGES[spec.arrow]
    if not low <= number <= high:
        raise _cannot(value, spec, "out of range")
    return number


def _norm_float(value: Any, spec: c.TypeSpec) -> float:
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise _cannot(value, spec)


def _norm_decimal(value: Any, spec: c.TypeSpec) -> Decimal:
    arrow: pa.Decimal128Type = spec.arrow
    if isinstance(value, bool | int):
        exact = Decimal(int(value))
    elif isinstance(value, float):
        exact = Decimal(value)  # exact binary value of the double, then rounded
    elif isinstance(value, str):
        try:
            exact = Decimal(value.strip())
        except InvalidOperation:
            raise _cannot(value, spec) from None
        if not exact.is_finite():
            raise _cannot(value, spec)
    else:
        raise _cannot(value, spec)
    if not exact.is_finite():
        raise _cannot(value, spec)
    limit = Decimal(10) ** (arrow.precision - arrow.scale)
    if abs(exact) >= limit:
        raise _cannot(value, spec, "too many digits")
    rounded = exact.quantize(Decimal(1).scaleb(-arrow.scale), ROUND_HALF_EVEN, _WIDE)
    if abs(rounded) >= limit:
        raise _cannot(value, spec, "too many digits")
    return rounded


def _epoch_us_from_number(number: int | float) -> int:
    magnitude = abs(number)
    if isinstance(number, int) and magnitude < 2**53:
        number = float(number)  # the same double arithmetic as the fast path
    if isinstance(number, int):
        if magnitude < 10**11:
            return number * 1_000_000
        if magnitude < 10**14:
            return number * 1_000
        if magnitude < 10**17:
            return number
        quotient, remainder = divmod(number, 1000)  # nanoseconds, half-to-even
        if remainder > 500 or (remainder == 500 and quotient % 2):
            quotient += 1
        return quotient
    if magnitude < 1e11:
        factor = 1e6
    elif magnitude < 1e14:
        factor = 1e3
    elif magnitude < 1e17:
        factor = 1.0
    else:
        factor = 1e-3
    return round(number * factor)


def _norm_timestamp(value: Any, spec: c.TypeSpec) -> int:
    """Microseconds since the epoch (UTC)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value != value or value in (float("inf"), float("-inf")):
            raise _cannot(value, spec)
        return _check_us(_epoch_us_from_number(value), value, spec)
    if isinstance(value, str):
        text = value.strip()
        if _INT_TEXT.fullmatch(text):
            return _check_us(_epoch_us_from_number(int(text)), value, spec)
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise _cannot(value, spec, "expected ISO-8601 text or epoch time") from None
            return _norm_timestamp(number, spec)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return (moment - _EPOCH) // _ONE_US
    raise _cannot(value, spec)


_MIN_US = (dt.datetime(1, 1, 1, tzinfo=dt.UTC) - _EPOCH) // _ONE_US
_MAX_US = (dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC) - _EPOCH) // _ONE_US


def _check_us(us: int, value: Any, spec: c.TypeSpec) -> int:
    if not _MIN_US <= us <= _MAX_US:
        raise _cannot(value, spec, "outside years 1..9999")
    return us


_NORMALISE = {
    c.TEXT: _norm_text,
    c.JSON: _norm_json,
    c.BOOL: _norm_bool,
    c.INT: _norm_int,
    c.FLOAT: _norm_float,
    c.DECIMAL: _norm_decimal,
    c.TIMESTAMP: _norm_timestamp,
}

# what normalise() returns, as an Arrow type, before the final cast
_NATURAL = {
    c.TEXT: lambda spec: pa.string(),
    c.JSON: lambda spec: pa.string(),
    c.BOOL: lambda spec: pa.bool_(),
    c.INT: lambda spec: spec.arrow,
    c.FLOAT: lambda spec: pa.float64(),
    c.DECIMAL: lambda spec: spec.arrow,
    c.TIMESTAMP: lambda spec: pa.int64(),
}


def normalise(value: Any, spec: c.TypeSpec) -> Any:
    """Convert one non-null value for ``spec``, or raise :class:`ConversionError`."""
    return _NORMALISE[spec.kind](value, spec)


# --- fast paths --------------------------------------------------------------


def _fast_text(values: list[Any], spec: c.TypeSpec) -> pa.Array:
    return pa.array(values, pa.string())


def _fast_bool(values: list[Any], spec: c.TypeSpec) -> pa.Array:
    return pa.array(values, pa.bool_())


def _fast_number(values: list[Any], spec: c.TypeSpec) -> pa.Array:
    # float64 refuses integers it cannot hold exactly; the checked cast refuses
    # fractions (for integers) and overflow. Booleans come through as 1/0.
    numbers = pa.array(values, pa.float64())
    return numbers if spec.arrow == pa.float64() else pc.cast(numbers, spec.arrow)


def _fast_timestamp(values: list[Any], spec: c.TypeSpec) -> pa.Array:
    try:
        text = pa.array(values, pa.string())
    except FAST_ERRORS:
        if any(value is True or value is False for value in values):
            raise TypeError("a boolean is not a timestamp") from None
        return _fast_epoch(pa.array(values, pa.float64()), spec)
    try:  # every value carries an offset ("Z", "+02:00")
        parsed = pc.cast(text, pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:  # every value is naive: UTC by definition
        parsed = pc.cast(text, pa.timestamp("us"))
    return parsed if parsed.type == spec.arrow else pc.cast(parsed, spec.arrow)


def _fast_epoch(numbers: pa.Array, spec: c.TypeSpec) -> pa.Array:
    magnitude = pc.abs(numbers)
    factor = pc.if_else(
        pc.less(magnitude, 1e11),
        1e6,
        pc.if_else(pc.less(magnitude, 1e14), 1e3, pc.if_else(pc.less(magnitude, 1e17), 1.0, 1e-3)),
    )
    # nanosecond epochs exceed 2**53 and never reach here (float64 refused them)
    micros = pc.cast(
        pc.round(pc.multiply(numbers, factor), round_mode="half_to_even"), pa.int64()
    )
    bounds = pc.min_max(micros)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low is not None and (low < _MIN_US or high > _MAX_US):
        raise ValueError("epoch out of range")
    return pc.cast(micros, spec.arrow)


_FAST = {
    c.TEXT: _fast_text,
    c.BOOL: _fast_bool,
    c.INT: _fast_number,
    c.FLOAT: _fast_number,
    c.DECIMAL: _fast_number,
    c.TIMESTAMP: _fast_timestamp,
}


def _finish(natural: pa.Array, spec: c.TypeSpec) -> pa.Array:
    return natural if natural.type == spec.arrow else pc.cast(natural, spec.arrow)


def convert(
    values: list[Any], spec: c.TypeSpec, *, fast: bool = True
) -> tuple[pa.Array, dict[int, str]]:
    """Convert ``values`` (``None`` = NULL) to an array of ``spec.arrow`` plus row errors."""
    if fast:
        fast_path = _FAST.get(spec.kind)
        if fast_path is not None:
            try:
                return fast_path(values, spec), {}
            except FAST_ERRORS:
                pass
    norm = _NORMALISE[spec.kind]
    out: list[Any] = [None] * len(values)
    errors: dict[int, str] = {}
    for row, value in enumerate(values):
        if value is None:
            continue
        try:
            out[row] = norm(value, spec)
        except ConversionError as exc:
            errors[row] = str(exc)
    return _finish(pa.array(out, _NATURAL[spec.kind](spec)), spec), errors
