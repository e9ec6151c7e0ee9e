"""Browser tests: Playwright (the Python package) driving Debian's Chromium headless against a live server.

Chromium comes from apt (``/usr/bin/chromium``; override with ``VPP_CHROMIUM``), never from ``playwright
install``. Without it or without the ``playwright`` package the tests skip locally with the reason, and fail
in CI (``CI`` set), so they never silently stop running there. Screenshots of the main pages go to
``test-artifacts/screenshots/`` (git-ignored) at desktop and phone width.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.cache import cache

from apps.assets.demo_portfolio import SeedResult, demo_portfolio_seed

CHROMIUM = os.environ.get("VPP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "pw-browser-1"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(f"browser tests need {reason}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium for one test module.

    Playwright's sync API keeps an asyncio loop running in this thread while it is started, which trips
    Django's async-safety guard on the test's own (synchronous) ORM calls and database flushes; the guard is
    lifted only while the browser runs, and the browser stops with the module so later tests are unaffected.
    (It also runs the test in another ``contextvars`` context, where Django's asgiref-local connections are
    fresh objects; they reach the same test database.)
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the 'playwright' Python package (pip install playwright)")
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield instance
            instance.close()


@pytest.fixture
def demo(browser: Any, transactional_db: None) -> SeedResult:
    """The demo portfolio (staff, owner_a, owner_b, operator and six sites), committed for the live server.

    Transactional tests end with a flush that also empties the market zones of the data migration, so they are
    re-seeded here with the migration's own (idempotent) function, and the cache is cleared so that no read model
    an earlier test cached shows up. (``serialized_rollback`` would do the same
    but breaks after any other transactional test has flushed: the content types re-created by that flush
    clash with the serialized ones.)
    """
    seed_zones = importlib.import_module("apps.core.migrations.0002_seed_market_zones").seed
    seed_zones(django_apps, None)
    # read models cached per 15-minute slot by earlier tests (the overview's flexibility, in Redis when
    # REDIS_URL is set) describe another test's portfolio: this one starts without them
    cache.clear()
    return demo_portfolio_seed(password=PASSWORD)


@pytest.fixture
def open_page(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """``open_page(username, viewport=DESKTOP)`` → a logged-in Playwright page on the live server."""
    contexts: list[Any] = []

    def make(username: str | None, viewport: dict[str, int] = DESKTOP) -> Any:
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.js_errors = errors
        if username:
            page.goto("/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            assert "/login/" not in page.url, f"{username} could not log in"
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot (the whole page by default) as a test artefact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
