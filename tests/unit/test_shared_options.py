"""laminar.options: the value parsers every layer shares (connector, tables, sinks)."""

from __future__ import annotations

import pytest

from laminar.errors import ConfigError
from laminar.options import (
    optional,
    parse_bool,
    parse_bytes,
    parse_choice,
    parse_duration_ms,
    parse_float,
    parse_int,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("512", 512), ("4k", 4096), ("4KiB", 4096), (" 2 MiB ", 2 << 20), ("1g", 1 << 30), (64, 64)],
)
def test_bytes_take_binary_units(text: object, expected: int) -> None:
    assert parse_bytes("rollover_size", text, minimum=1, maximum=1 << 40) == expected


def test_errors_name_the_option_and_say_what_to_write() -> None:
    with pytest.raises(ConfigError, match=r"option rollover_size: expected a number of bytes"):
        parse_bytes("rollover_size", "12 parsecs", minimum=1, maximum=10)
    with pytest.raises(ConfigError, match=r"option rollover_size: must be between 1 and 10"):
        parse_bytes("rollover_size", "1k", minimum=1, maximum=10)
    with pytest.raises(ConfigError, match=r"option verify_tls: expected true or false"):
        parse_bool("verify_tls", "maybe")
    with pytest.raises(ConfigError, match=r"did you mean 'parquet'"):
        parse_choice("format", "parket", ("json", "parquet"))
    with pytest.raises(ConfigError, match=r"resolved in string options only"):
        parse_int("batch_size", "${N}")
    with pytest.raises(ConfigError, match=r"expected a number"):
        parse_float("reconnect_multiplier", "nan", minimum=1, maximum=2)
    with pytest.raises(ConfigError) as info:
        parse_int("max_retries", True)
    assert info.value.option == "max_retries"


def test_bools_durations_and_optional() -> None:
    assert [parse_bool("x", v) for v in ("YES", "off", 1, False)] == [True, False, True, False]
    assert parse_choice("method", " post ", ("GET", "POST")) == "POST"
    assert parse_duration_ms(0)("timeout_ms", "250") == 250
    with pytest.raises(ConfigError, match="between 10 and"):
        parse_duration_ms(10)("timeout_ms", 5)
    assert optional(parse_bool)("x", None) is None
    assert optional(parse_bool)("x", "true") is True
