"""JSON text <-> Python values, as fast as the installed libraries allow.

``loads_batch`` parses a list of payloads in one native loop (orjson when it is
installed, the standard library otherwise) and raises if any one fails;
``loads_one`` parses a single payload with the strictest rules we accept (RFC 8259:
no NaN/Infinity) and falls back to the standard library for what orjson refuses
but JSON allows (integers beyond 64 bits). ``dumps`` writes compact JSON text.
"""

from __future__ import annotations

import json as _std
from collections.abc import Callable
from typing import Any

try:  # pragma: no cover - exercised by whichever environment runs the tests
    import orjson as _orjson
except ImportError:  # pragma: no cover
    _orjson = None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_std_decoder = _std.JSONDecoder(parse_constant=_reject_constant)
_std_encoder = _std.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)

BATCH_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError)

if _orjson is not None:
    _fast_loads: Callable[[str], Any] = _orjson.loads

    def loads_batch(texts: list[str]) -> list[Any]:
        return list(map(_fast_loads, texts))

    def loads_one(text: str) -> Any:
        try:
            return _fast_loads(text)
        except _orjson.JSONDecodeError as exc:
            try:
                return _std_decoder.decode(text)
            except ValueError:
                raise ValueError(str(exc)) from None

    def dumps(value: Any) -> str:
        try:
            return _orjson.dumps(value).decode()
        except TypeError:  # integers beyond 64 bits
            return _std_encoder.encode(value)

else:  # pragma: no cover

    def loads_batch(texts: list[str]) -> list[Any]:
        return list(map(_std_decoder.decode, texts))

    def loads_one(text: str) -> Any:
        return _std_decoder.decode(text)

    def dumps(value: Any) -> str:
        return _std_encoder.encode(value)


def json_kind(value: Any) -> str:
    """'an object', 'an array', 'a string', … — for error messages."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def excerpt(text: str, limit: int = 60) -> str:
    """A short repr of a payload for messages."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
