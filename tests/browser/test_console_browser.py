"""The console in a real headless Chromium: log in, probe, create, watch, pause, err, stop.

Every wait polls an observable condition in the page (Playwright's expect), never a
sleep: the test holds on a loaded 2-core machine.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from laminar.console.app import start_console
from laminar.demo_server import start_demo_server
from laminar.sql.engine import Engine

WAIT_MS = 30_000


async def test_console_end_to_end(browser: Any, screenshots: Path) -> None:
    runner, demo = await start_demo_server(rate=40.0)
    console = await start_console(Engine(), token="browser-test-token")
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # console errors (CSP violations among them); a refused request (the broken query's
    # 400) is part of the test, not an error of the page
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500
            else None)
    expect.set_options(timeout=WAIT_MS)
    try:
        # log in: the token becomes an HttpOnly cookie and leaves the URL
        await page.goto(console.login_url)
        await expect(page.locator("body")).to_have_attribute("data-ready", "true")
        assert "token" not in page.url
        (cookie,) = await context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

        # inspect the demo feed, create the proposed table
        await page.click("#nav-probe")
        await page.fill("#probe-url", f"{demo}/stocks")
        await page.fill("#probe-seconds", "1")
        await page.click("#probe-run")
        await expect(page.locator("#probe-ddl")).to_contain_text("CREATE TABLE stocks")
        await expect(page.locator("#probe-types")).to_contain_text("price")
        await page.screenshot(path=str(screenshots / "console-probe.png"))
        await page.click("#probe-create")
        await expect(page.locator("#probe-status")).to_contain_text("CREATE TABLE stocks")

        # write a pipeline in the editor and create it
        await page.click("#nav-editor")
        await page.click(".cm-content")
        await page.keyboard.press("Control+a")
        await page.keyboard.type("SELECT symbol, price, volume FROM stocks WHERE price > 100")
        await page.keyboard.press("Escape")  # close the completion popup
        await page.fill("#pipeline-name", "prices")
        await page.click("#create-pipeline")

        # rows arrive, the chart draws, the list shows it running
        await expect(page.locator("#detail-state")).to_have_text("running")
        await expect(page.locator("#output tbody tr").first).to_be_visible()
        await expect(page.locator("#output thead")).to_contain_text("symbol")
        chart = page.locator("#chart")
        await expect(chart).to_have_attribute("data-points", re.compile(r"^([2-9]|\d\d+)$"))
        await expect(page.locator("#chart canvas")).to_be_visible()
        # source -> the proposed event_type_filter -> SQL -> sink, each with its rate
        await expect(page.locator("#graph .graph-node")).to_have_count(4)
        await expect(page.locator("#graph")).to_contain_text("event_type_filter")
        await expect(page.locator("#pipelines tbody")).to_contain_text("prices")
        await page.screenshot(path=str(screenshots / "console.png"), full_page=True)

        # pause the tail: rows keep flowing in the pipeline, not into the table
        await page.click("#pause")
        await expect(page.locator("#tail-state")).to_have_text("paused")
        paused_text = await page.locator("#tail-count").inner_text()
        paused_at = int(paused_text.split()[0])
        pipeline = next(iter(console.manager.pipelines.values()))
        assert pipeline.query is not None
        target = pipeline.query.stats.rows_out + 20
        rows_out = page.locator("#pipelines tbody tr").first.locator("td").nth(6)
        await expect(rows_out).to_have_text(re.compile(r"\d+"))
        await _expect_number_at_least(rows_out, target)
        assert await page.locator("#tail-count").inner_text() == paused_text
        # resume: it catches up from the last batch it saw
        await page.click("#pause")
        await expect(page.locator("#tail-state")).to_have_text("live")
        await _expect_number_at_least(page.locator("#tail-count"), paused_at + 20)

        # a broken query is marked in place, and refused with line and column
        await page.click("#nav-editor")
        await page.click(".cm-content")
        await page.keyboard.press("Control+a")
        await page.keyboard.type("SELECT symbol,\n  nosuch FROM stocks")
        await page.keyboard.press("Escape")
        await expect(page.locator(".cm-lintRange-error").first).to_be_visible()
        await page.click("#create-pipeline")
        await expect(page.locator("#editor-error")).to_contain_text("nosuch")
        await expect(page.locator("#editor-error")).to_contain_text("line 2, column 3")
        await page.screenshot(path=str(screenshots / "console-error.png"))

        # the catalog browser and the logs tab
        await page.click("#nav-catalog")
        await expect(page.locator("#catalog-tables")).to_contain_text("stocks")
        await page.click("#nav-logs")
        await expect(page.locator("#logs")).to_contain_text("connected")

        # stop the pipeline
        await page.click("#nav-pipelines")
        await page.click("#stop")
        await expect(page.locator("#detail-state")).to_have_text("stopped")
        await expect(page.locator("#pipelines tbody")).to_contain_text("stopped")
        assert not errors, errors
    finally:
        await context.close()
        await console.close()
        await runner.cleanup()


async def _expect_number_at_least(locator: Any, minimum: int) -> None:
    """Poll until the locator's leading number reaches ``minimum``."""
    digits = len(str(minimum))
    # any number with more digits, or as many digits and not smaller
    bigger = rf"^(\d{{{digits + 1},}}|{_at_least_pattern(minimum)})\b"
    await expect(locator).to_have_text(re.compile(bigger))


def _at_least_pattern(minimum: int) -> str:
    """A regex matching decimal numbers with as many digits as ``minimum`` and >= it."""
    text = str(minimum)
    options = [text]
    for i, ch in enumerate(text):
        if ch != "9":
            rest = len(text) - i - 1
            options.append(f"{text[:i]}[{int(ch) + 1}-9]\\d{{{rest}}}")
    return "(" + "|".join(options) + ")"
