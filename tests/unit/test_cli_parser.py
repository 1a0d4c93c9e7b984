"""A misspelt command-line flag gets a did-you-mean, like a misspelt SQL option."""

from __future__ import annotations

import pytest

from laminar.cli import main


def test_misspelt_subcommand_flag_suggests_the_right_one(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--stat-dir", "x", "pipeline.sql"])
    assert exited.value.code == 2
    assert "--stat-dir — did you mean '--state-dir'?" in capsys.readouterr().err


def test_other_unknown_arguments_are_still_listed_beside_a_hint(
    capsys: pytest.CaptureFixture,
) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--stat-dir", "x", "--zzzzzz", "pipeline.sql"])
    err = capsys.readouterr().err
    assert "--stat-dir — did you mean '--state-dir'?" in err and "--zzzzzz" in err


def test_unknown_flag_with_no_close_match_is_reported_plainly(
    capsys: pytest.CaptureFixture,
) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--zzzzzz", "pipeline.sql"])
    err = capsys.readouterr().err
    assert "unrecognized arguments: --zzzzzz" in err and "did you mean" not in err
