"""Headless Chromium (Debian's package) driven by Playwright, against a real console.

The browser is /usr/bin/chromium (or $LAMINAR_CHROMIUM); Playwright's own browser
downloads are never used. Without a browser the tests skip with a message, unless
LAMINAR_BROWSER_TESTS=required (CI sets it), where a missing browser fails them.
Screenshots go to $LAMINAR_SCREENSHOTS, else the test's tmp directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

CHROMIUM = os.environ.get("LAMINAR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _unavailable() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set LAMINAR_CHROMIUM)"
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("LAMINAR_BROWSER_TESTS") == "required":
            pytest.fail(f"browser tests are required here, but {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    return CHROMIUM


@pytest_asyncio.fixture
async def browser(chromium_path: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=chromium_path, headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("LAMINAR_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target
