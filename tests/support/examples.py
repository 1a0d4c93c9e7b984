"""How many examples a property test runs: its usual count, ten times that in
``make test-long`` (which sets ``LAMINAR_TEST_LONG=1``).

Use it in place of a bare number, so the long run scales every property test:

    @settings(max_examples=examples(60), deadline=None)
"""

from __future__ import annotations

import os

LONG = os.environ.get("LAMINAR_TEST_LONG") == "1"  # the Makefile also lifts the timeout
LONG_FACTOR = 10


def examples(usual: int = 100) -> int:
    """``usual`` examples, or ``LONG_FACTOR`` times as many in the long run."""
    return usual * LONG_FACTOR if LONG else usual
