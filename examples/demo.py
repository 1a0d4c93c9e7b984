"""`make demo`: the embedded demo feed through a live SQL pipeline.

Starts `laminar demo-server` in this process (port 0) and runs
`laminar run examples/demo.sql` as a child process — the product document's
"Live Stock Prices" table with its `price_alerts` view, and beside it a windowed
view (trades per symbol every 2 seconds) — exactly as a user would in two
terminals. Alerts appear as they arrive, windows as they close; each query ends
after its LIMIT and the demo exits 0.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from laminar.demo_server import start_demo_server

PIPELINE = Path(__file__).with_name("demo.sql")
RATE = float(os.environ.get("LAMINAR_DEMO_RATE", "20"))  # events per second; tests raise it


async def main() -> int:
    runner, url = await start_demo_server(rate=RATE)
    try:
        print(f"laminar demo-server is serving {url} (stocks, sensors, social, events, …)")
        shown = os.path.relpath(PIPELINE)
        print(f"$ LAMINAR_DEMO={url} laminar run {shown} --state-dir none\n", flush=True)
        run = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "laminar",
            "run",
            str(PIPELINE),
            "--state-dir",
            "none",  # a demo keeps no state (and never contends for ./.laminar)
            env={**os.environ, "LAMINAR_DEMO": url},
        )
        try:
            status = await asyncio.wait_for(run.wait(), 120)
        except TimeoutError:
            run.terminate()
            await run.wait()
            print("demo: laminar run did not finish in time", file=sys.stderr)
            return 1
        if status == 0:
            print("\ndemo: done. Try it yourself:")
            print("  laminar demo-server                                        # terminal 1")
            print("  LAMINAR_DEMO=http://127.0.0.1:8765 laminar sql             # terminal 2")
            print("  laminar tail /stocks                                       # raw events")
        return status
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(130)
