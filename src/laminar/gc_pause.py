"""Start a ``laminar`` process without the cyclic garbage collector running.

Starting ``laminar run`` leaves ~95,000 objects to the collector, nearly all of
them living as long as the process (functions, classes, dicts of aiohttp, pyarrow
and Laminar), and it traverses them again and again while they are being created:
~25 ms of the start-up. The process entry points (the ``laminar`` script,
``python -m laminar``) therefore ``pause`` it; ``resume`` runs where a command's
long-running part begins (``run_async``, the SQL shell's prompt). It moves every
object alive at that point into the permanent generation (``gc.freeze``), so no
later collection traverses them either, and turns the collector back on.

Only the entry points pause it: ``laminar.cli.main`` called in another program
(tests, ``laminar.connect()`` users) never touches the collector.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Turn the collector off until ``resume`` (if it is on)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze what start-up made and turn the collector back on; no-op unless paused."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
