"""A real browser for tests that look at pages: Debian's ``chromium`` driven by Playwright for
Python. Nothing is downloaded (never ``playwright install``): the browser is the system's,
found on the PATH. Without it (or without Playwright) the tests that ask for a page skip and
say why, except under CI (``CI=true``), where a missing browser fails them.

tests/conftest.py loads it as a plugin: a test asks for ``browser`` or ``page``. Each
test gets a fresh page (its own cookies), whose console errors and uncaught exceptions fail
the test at its end.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM_ARGS = [
    "--no-sandbox",  # the suite may run as root (containers, CI)
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Where screenshots go: build/ is git-ignored.
SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"
INSTALL = "apt-get install -y chromium (see .ci/run)"


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable(reason: str) -> None:
    """Skip, or fail under CI, where a browser test that does not run is a silent gap."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


# Module-scoped, not session: Playwright's synchronous API keeps an event loop running in the
# thread while it is started, and the asynchronous tests of other modules need that thread.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed: pip install -e '.[test]'")
    path = chromium_path()
    if path is None:
        unavailable(f"no chromium on the PATH for the browser tests: {INSTALL}")
    assert path is not None
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Console:
    """What the page said on its console (errors) or threw: the test fails on any."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def message(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text} ({message.location})")

    def exception(self, error: Any) -> None:
        self.errors.append(f"uncaught: {error}")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    console = Console()
    opened.on("console", console.message)
    opened.on("pageerror", console.exception)
    yield opened
    context.close()
    assert not console.errors, "\n".join(console.errors)


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as build/screenshots/<name>.png (the docs copy them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
