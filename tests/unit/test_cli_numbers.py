"""Numeric command-line arguments: one parser, one wording (laminar.cli_parser)."""

from __future__ import annotations

import argparse

import pytest

from laminar.cli import main
from laminar.cli_parser import number_argument


def test_number_argument_bounds_and_messages() -> None:
    seconds = number_argument(0.1, 300, "seconds")
    assert seconds("0.1") == 0.1 and seconds("300") == 300.0
    for text, message in [
        ("0.05", "'0.05': choose from 0.1 to 300 seconds"),
        ("301", "'301': choose from 0.1 to 300 seconds"),
        ("nan", "'nan': choose from 0.1 to 300 seconds"),
        ("soon", "'soon' is not a number of seconds"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            seconds(text)
    rate = number_argument(0)
    assert rate("0") == 0.0 and rate("1e6") == 1e6
    with pytest.raises(argparse.ArgumentTypeError, match="'-1' must be >= 0"):
        rate("-1")
    with pytest.raises(argparse.ArgumentTypeError, match=r"'x' is not a number$"):
        rate("x")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo-server", "--rate", "-1"], "argument --rate: '-1' must be >= 0"),
        (["probe", "/stocks", "--seconds", "0"], "argument --seconds: '0': choose from 0.1"),
    ],
)
def test_commands_refuse_out_of_range_numbers(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
