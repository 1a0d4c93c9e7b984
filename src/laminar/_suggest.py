"""'did you mean …?' for misspelt names (options, tables, columns, keywords)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return " — did you mean 'x'?" for the closest candidate, or "" if none is close."""
    matches = difflib.get_close_matches(name.lower(), [c.lower() for c in candidates], n=1)
    if not matches:
        return ""
    by_lower = {c.lower(): c for c in candidates}
    return f" — did you mean '{by_lower.get(matches[0], matches[0])}'?"
