"""Option values: raw WITH-clause values in, typed values out, or a ConfigError.

Shared by every layer that takes options (the SSE connector, table options,
sinks), so none reaches into another's module for them. Each parser takes the
option's name first: its error names the option and says what to write.
``${VAR}`` references and secret redaction are not handled here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from laminar._suggest import did_you_mean
from laminar.errors import ConfigError

Parser = Callable[[str, object], Any]  # (option name, raw value) -> typed value

# A byte count: digits, then an optional binary unit (k = KiB, m = MiB, g = GiB).
SIZE_PATTERN = re.compile(r"^\s*(\d+)\s*(kib|mib|gib|k|m|g)?\s*$", re.IGNORECASE)
SIZE_UNITS: dict[str | None, int] = {
    None: 1,
    "k": 1 << 10,
    "kib": 1 << 10,
    "m": 1 << 20,
    "mib": 1 << 20,
    "g": 1 << 30,
    "gib": 1 << 30,
}
TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})
_INT_TEXT = re.compile(r"\s*[+-]?\d+\s*")


def option_error(option: str, message: str) -> ConfigError:
    """The error for a bad value of ``option``: "option NAME: message"."""
    return ConfigError(f"option {option}: {message}", option=option)


def shown(value: object) -> str:
    """``value`` as an error message quotes it (long values cut)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def option_text(value: object) -> str:
    """An option's value as WITH-clause text: booleans as true/false, the rest as str."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_int(option: str, value: object, *, minimum: int = 0, maximum: int = 2**53) -> int:
    """A whole number (an int, an integral float or digits) within [minimum, maximum]."""
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and _INT_TEXT.fullmatch(value)
    ):
        number = int(value)
    if number is None:
        hint = ""
        if isinstance(value, str) and "${" in value:
            hint = " (${VAR} references are resolved in string options only)"
        raise option_error(option, f"expected a whole number, got {shown(value)}{hint}")
    if not minimum <= number <= maximum:
        raise option_error(option, f"must be between {minimum} and {maximum}, got {number}")
    return number


def parse_float(option: str, value: object, *, minimum: float, maximum: float) -> float:
    """A finite number within [minimum, maximum]."""
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise option_error(option, f"expected a number, got {shown(value)}")
    if not minimum <= number <= maximum:
        raise option_error(
            option, f"must be between {minimum:g} and {maximum:g}, got {number:g}"
        )
    return number


def parse_bool(option: str, value: object) -> bool:
    """true/false, yes/no, on/off, 1/0 (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
    raise option_error(option, f"expected true or false, got {shown(value)}")


def parse_choice(option: str, value: object, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (any case), returned as spelt in ``choices``."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        for choice in choices:
            if choice.lower() == lowered:
                return choice
    suggestion = did_you_mean(str(value), choices) if isinstance(value, str) else ""
    raise option_error(
        option, f"expected one of {', '.join(choices)}, got {shown(value)}{suggestion}"
    )


def parse_bytes(
    option: str, value: object, *, minimum: int, maximum: int, example: str = "1048576 or '1MiB'"
) -> int:
    """A byte count: a number, or text such as '512k' or '64MiB' (binary units)."""
    if isinstance(value, str):
        match = SIZE_PATTERN.match(value)
        if not match:
            raise option_error(
                option, f"expected a number of bytes such as {example}, got {shown(value)}"
            )
        unit = match.group(2).lower() if match.group(2) else None
        value = int(match.group(1)) * SIZE_UNITS[unit]
    return parse_int(option, value, minimum=minimum, maximum=maximum)


def parse_duration_ms(minimum: int, maximum: int = 2**31) -> Parser:
    """A parser of a duration in whole milliseconds within [minimum, maximum]."""
    return lambda option, value: parse_int(option, value, minimum=minimum, maximum=maximum)


def optional(parse: Parser) -> Parser:
    """``parse``, except that None stays None (an option without a default)."""
    return lambda option, value: None if value is None else parse(option, value)


@dataclass(frozen=True)
class OptionSpec:
    """One option: how to parse it, its default, and whether its value is secret."""

    parse: Parser
    default: Any
    secret: bool = False
    doc: str = ""


__all__ = [
    "FALSE_WORDS",
    "SIZE_PATTERN",
    "SIZE_UNITS",
    "TRUE_WORDS",
    "OptionSpec",
    "Parser",
    "option_error",
    "option_text",
    "optional",
    "parse_bool",
    "parse_bytes",
    "parse_choice",
    "parse_duration_ms",
    "parse_float",
    "parse_int",
    "shown",
]
