"""The table options that shape how payloads become rows.

:class:`FormatOptions` is a plain value: its defaults are the product
document's. It checks only itself (a known ``format``); whether it fits a
table's columns is :func:`laminar.formats.build_row_decoder`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass

from laminar._suggest import did_you_mean
from laminar.errors import ConfigError

FORMATS = ("json", "text", "custom")


@dataclass(frozen=True, slots=True)
class FormatOptions:
    """``format`` and the capture_* / add_timestamp / error options of a table."""

    format: str = "json"
    parser_regex: str | None = None
    capture_event_name: bool = False
    capture_event_id: bool = False
    capture_retry: bool = False
    add_timestamp: bool = False
    capture_errors: bool = False
    continue_on_error: bool = True

    def __post_init__(self) -> None:
        fmt = (self.format or "").strip().lower()
        if fmt not in FORMATS:
            raise ConfigError(
                f"unknown format '{self.format}'{did_you_mean(str(self.format), FORMATS)}; "
                f"use one of: {', '.join(FORMATS)}",
                option="format",
            )
        object.__setattr__(self, "format", fmt)
