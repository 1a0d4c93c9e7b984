"""Take the documentation's screenshots: ``python -m tests.browser.take_screenshots docs``.

Starts the demo feed and a console, creates the stocks table from the probe and two
pipelines, lets about 40 s of history accumulate (so the chart has a shape), then saves
console.png (a pipeline) and console-probe.png (the inspect-source form).
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from playwright.async_api import async_playwright, expect

from laminar.console.app import start_console
from laminar.demo_server import start_demo_server
from laminar.sql.engine import Engine
from tests.browser.conftest import CHROMIUM

HISTORY_POINTS = 40  # seconds of metrics on the chart


async def main(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    runner, demo = await start_demo_server(rate=40.0)
    console = await start_console(Engine(), token="screenshot-token")
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            expect.set_options(timeout=120_000)
            await page.goto(console.login_url)
            await page.click("#nav-probe")
            await page.fill("#probe-url", f"{demo}/stocks")
            await page.fill("#probe-seconds", "2")
            await page.click("#probe-run")
            await expect(page.locator("#probe-ddl")).to_contain_text("CREATE TABLE")
            await page.screenshot(path=str(target / "console-probe.png"))
            await page.click("#probe-create")
            await expect(page.locator("#probe-status")).to_contain_text("CREATE TABLE")
            for name, sql in (
                ("per-symbol counts", "SELECT symbol, COUNT(*) AS trades FROM stocks "
                 "GROUP BY symbol"),
                ("big prices", "SELECT symbol, price, volume FROM stocks WHERE price > 100"),
            ):
                await page.click("#nav-editor")
                await page.click(".cm-content")
                await page.keyboard.press("Control+a")
                await page.keyboard.type(sql)
                await page.keyboard.press("Escape")
                await page.fill("#pipeline-name", name)
                await page.click("#create-pipeline")
                await expect(page.locator("#detail-state")).to_have_text("running")
            await expect(page.locator("#chart")).to_have_attribute(
                "data-points", re.compile(rf"^({HISTORY_POINTS}|[4-9]\d|\d{{3}})$")
            )
            await page.screenshot(path=str(target / "console.png"), full_page=True)
            await browser.close()
    finally:
        await console.close()
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")))
