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


def test_result_limits_from_env_use_the_shared_parsers() -> None:
    from laminar.sql.limits import ResultLimits

    limits = ResultLimits.from_env({
        "LAMINAR_SQL_MAX_ROWS": " 5 ", "LAMINAR_SQL_MAX_BYTES": "64MiB",
        "LAMINAR_SQL_TIMEOUT_S": "2.5",
    })  # fmt: skip
    assert (limits.max_rows, limits.max_bytes, limits.timeout_s) == (5, 64 << 20, 2.5)
    assert ResultLimits.from_env({"LAMINAR_SQL_MAX_ROWS": ""}) == ResultLimits()
    for name, raw, message in [
        ("LAMINAR_SQL_MAX_ROWS", "0", "must be between 1 and"),
        ("LAMINAR_SQL_MAX_ROWS", "ten", "expected a whole number"),
        ("LAMINAR_SQL_MAX_BYTES", "lots", "expected a number of bytes such as '64MiB'"),
        ("LAMINAR_SQL_TIMEOUT_S", "soon", "expected a number"),
        ("LAMINAR_SQL_TIMEOUT_S", "0", "must be between 0.001 and"),
    ]:
        with pytest.raises(ConfigError, match=f"option {name}: {message}") as raised:
            ResultLimits.from_env({name: raw})
        assert raised.value.option == name
