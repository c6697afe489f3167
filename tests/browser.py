"""Headless Chromium for browser tests: Debian's `chromium` driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium")


def screenshot_dir() -> Path:
    path = Path(os.environ.get("SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "inflow-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if not executable:
        pytest.skip("Debian's chromium is not installed (make browser, or apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API refuses to run inside a running asyncio loop; Django's async-unsafe
    # check would otherwise trip on the live server, so allow it for the test process only.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()
