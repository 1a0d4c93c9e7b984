"""Running pipelines together: one asyncio.TaskGroup, structured, each ending cleanly.

``run_together(jobs)`` runs every pipeline (source -> operators -> sink, driven by
``laminar.runtime.commit.run_pipeline``) as a task of one TaskGroup, until all end.
The first failure cancels the others once (each still flushes its sink and takes
its last checkpoint under its own shutdown deadline) and is raised as itself, not
wrapped in an ExceptionGroup. A cancellation from outside (SIGINT/SIGTERM) cancels
every pipeline once: TaskGroup never cancels a task that is already shutting down
again, so a second signal cannot cut a flush short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

Job = tuple[str, Callable[[], Coroutine[Any, Any, Any]]]


async def run_together(jobs: Sequence[Job]) -> None:
    """Run ``(name, start)`` jobs concurrently until all end (see the module docstring)."""
    try:
        async with asyncio.TaskGroup() as group:
            for name, start in jobs:
                group.create_task(start(), name=name)
    except BaseExceptionGroup as failures:
        raise _first(failures) from None


def _first(group: BaseExceptionGroup) -> BaseException:
    """The failure to report: the first that is not a cancellation, depth first."""
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return _first(error)
        if not isinstance(error, asyncio.CancelledError):
            return error
    return group.exceptions[0]
