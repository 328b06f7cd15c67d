"""Real headless Chromium (Debian's) driven by Playwright against pytest-django's live server."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import reference_data_reload

# Playwright's sync API runs an event loop in this thread; Django would then refuse the ORM
# calls the fixtures make. The live server runs in its own thread and is not affected.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is missing at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def reference_data(transactional_db) -> None:
    reference_data_reload()


def _new_page(browser, live_server, *, locale: str, viewport: dict[str, int]):
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    """A desktop page that asks for English, so assertions read the source strings."""
    context, page = _new_page(
        browser, live_server, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server) -> Iterator[object]:
    context, page = _new_page(
        browser, live_server, locale="en-GB", viewport={"width": 390, "height": 844}
    )
    yield page
    context.close()


@pytest.fixture
def bokmal_page(browser, live_server) -> Iterator[object]:
    """A page whose browser asks for Norwegian bokmål, as most visitors' do."""
    context, page = _new_page(
        browser, live_server, locale="nb-NO", viewport={"width": 1280, "height": 900}
    )
    yield page
    context.close()
