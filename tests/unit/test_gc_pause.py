"""The entry points' pause of the garbage collector (laminar.gc_pause)."""

from __future__ import annotations

import gc
import subprocess
import sys

from laminar import gc_pause


def test_pause_then_resume_freezes_start_up_and_turns_the_collector_back_on() -> None:
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    gc_pause.resume()  # not paused: nothing happens
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    try:
        gc_pause.pause()
        assert not gc.isenabled()
        gc_pause.resume()
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen
        gc_pause.resume()  # once only
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()


def test_pausing_a_disabled_collector_leaves_it_off() -> None:
    gc.disable()
    try:
        gc_pause.pause()
        gc_pause.resume()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_streaming_command_runs_with_the_collector_on() -> None:
    # run_async is where every streaming command's long-running part starts
    script = """
import gc, sys
from laminar import gc_pause
from laminar.cli_commands import run_async
gc_pause.pause()
print(gc.isenabled())
async def main() -> int:
    print(gc.isenabled(), gc.get_freeze_count() > 0)
    return 0
sys.exit(run_async(main()))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert out == ["False", "True", "True"]
