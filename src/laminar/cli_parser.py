"""An argparse parser that answers a misspelt flag with a did-you-mean, as the SQL does."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from laminar._suggest import did_you_mean

_UNRECOGNIZED = "unrecognized arguments: "


class SuggestingParser(argparse.ArgumentParser):
    """``--stat-dir`` → "unrecognized arguments: --stat-dir — did you mean '--state-dir'?".

    Subparsers are built with the parent's class, so every subcommand suggests too; the
    top-level parser reports unknown flags, so it looks them up in the chosen subcommand.
    """

    _argv: list[str] = []

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._argv = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        if message.startswith(_UNRECOGNIZED):
            known = self._known_flags()
            args = message.removeprefix(_UNRECOGNIZED).split()
            # Every unknown argument stays in the message; flags get a hint where one fits.
            message = _UNRECOGNIZED + "; ".join(
                arg + (did_you_mean(arg.split("=")[0], known) if arg.startswith("--") else "")
                for arg in args
            )
        super().error(message)

    def _known_flags(self) -> list[str]:
        flags = [f for f in self._option_string_actions if f.startswith("--")]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for word in self._argv:
                    sub = action.choices.get(word)
                    if sub is not None:
                        flags += [f for f in sub._option_string_actions if f.startswith("--")]
                        break
        return flags


def number_argument(
    minimum: float, maximum: float = math.inf, unit: str = ""
) -> Callable[[str], float]:
    """An argparse ``type`` for a number from ``minimum`` to ``maximum`` (NaN refused)."""
    what = f"a number of {unit}" if unit else "a number"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not minimum <= value <= maximum:
            if maximum == math.inf:
                raise argparse.ArgumentTypeError(f"{text!r} must be >= {minimum:g}")
            raise argparse.ArgumentTypeError(
                f"{text!r}: choose from {minimum:g} to {maximum:g}{' ' + unit if unit else ''}"
            )
        return value

    return parse
