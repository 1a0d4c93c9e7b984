"""JSON text <-> Python values, with msgspec (one library for every JSON path).

``loads_batch`` parses a list of payloads in one native loop and raises if any
one fails; ``loads_one`` parses a single payload with the rules we accept
(RFC 8259: no NaN/Infinity, no numbers beyond a double's range; integers of any
size stay exact). ``dumps`` writes compact JSON text. The struct fast path of
:mod:`laminar.formats.json` uses the same parser, so both paths agree.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.encode

# What a failed parse raises: msgspec's errors (DecodeError for malformed text,
# ValidationError for numbers out of range) are ValueErrors.
BATCH_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError)


def loads_batch(texts: list[str]) -> list[Any]:
    """Parse every payload; raises if any one fails (the caller then goes one by one)."""
    return list(map(_decode, texts))


def loads_one(text: str) -> Any:
    """Parse one payload (RFC 8259: no NaN/Infinity; integers of any size stay exact)."""
    try:
        return _decode(text)
    except msgspec.DecodeError as exc:
        raise ValueError(_explain(str(exc), text)) from None


# A \\uD800-\\uDFFF escape that is not half of a high+low pair. msgspec reports such
# text as "truncated", which sends users looking for a cut-off payload.
_LONE_SURROGATE = re.compile(
    r"(?<!\\)(?:\\\\)*\\u(?:[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<![dD][89abAB][0-9a-fA-F]{2})[dD][c-fC-F][0-9a-fA-F]{2})"
)


def _explain(message: str, text: str) -> str:
    if "truncated" in message or "surrogate" in message:
        lone = _LONE_SURROGATE.search(text)
        if lone:
            escape = lone.group(0).lstrip("\\")
            return (
                f"invalid escape \\{escape}: a lone UTF-16 surrogate is not a character "
                "(it must be a high+low pair such as \\ud83d\\ude00)"
            )
    return message


def dumps(value: Any) -> str:
    """Compact JSON text of a parsed value."""
    return _encode(value).decode()


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
