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


# One Playwright driver and one Chromium for the whole test session. Playwright's sync API runs an
# event loop in this thread, so a second `sync_playwright()` while one is open fails: test modules that
# import the fixtures below all share this one instance, closed when the session ends.
_shared: dict = {}


def _launch_browser():
    if "browser" not in _shared:
        sync_api = pytest.importorskip("playwright.sync_api")
        # Django's async-unsafe check trips on ORM calls made while Playwright's loop runs in this thread.
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        _shared["playwright"] = sync_api.sync_playwright().start()
        _shared["browser"] = _shared["playwright"].chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
    return _shared["browser"]


def pytest_sessionfinish(session, exitstatus):
    if "browser" in _shared:
        _shared.pop("browser").close()
        _shared.pop("playwright").stop()


@pytest.fixture(scope="session")
def browser():
    if not chromium_path():
        pytest.skip("Debian's chromium is not installed (make browser, or apt-get install chromium)")
    return _launch_browser()


@pytest.fixture
def page(browser):
    """A fresh page. Every browser test also proves the Content-Security-Policy: a page whose script,
    style or form target the policy refused (Chromium logs each refusal) fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and refused.append(f"{page.url}: {message.text}")
        ),
    )
    yield page
    context.close()
    assert refused == [], "\n".join(refused)
