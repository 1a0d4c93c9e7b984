"""`make demo`: start the embedded demo feed and tail its stock prices for ~10 seconds.

Runs `laminar demo-server` in this process (port 0) and `laminar tail` as a child
process, exactly as a user would in two terminals, then exits 0. The SQL issue
turns this into a pipeline over the same feed.
"""

from __future__ import annotations

import asyncio
import os
import sys

from laminar.demo_server import start_demo_server

SECONDS = float(os.environ.get("LAMINAR_DEMO_SECONDS", "10"))  # tests shorten it
RATE = 20  # events per second of the demo feed
EVENTS = max(1, int(SECONDS * RATE))


async def main() -> int:
    runner, url = await start_demo_server(rate=RATE)
    try:
        endpoint = f"{url}/stocks"
        print(f"laminar demo-server is serving {url} (stocks, sensors, social, text, custom)")
        print(f"$ laminar tail {endpoint} --limit {EVENTS}\n", flush=True)
        tail = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "laminar", "tail", endpoint, "--limit", str(EVENTS)
        )
        try:
            status = await asyncio.wait_for(tail.wait(), SECONDS + 20)
        except TimeoutError:
            tail.terminate()
            await tail.wait()
            print("demo: laminar tail did not finish in time", file=sys.stderr)
            return 1
        if status == 0:
            print(f"\ndemo: {EVENTS} events in ~{SECONDS:g} s. Try it yourself:")
            print("  laminar demo-server            # in one terminal")
            print("  laminar tail /stocks           # in another (or /sensors, /social, …)")
        return status
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(130)
