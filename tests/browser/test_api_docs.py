"""The API docs page works offline: /api/v1/docs/ renders Swagger UI with the API's operations while every request
to a host other than the live server is blocked (Swagger UI comes from drf-spectacular-sidecar, not a CDN)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.slow

LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def test_api_docs_render_with_the_internet_blocked(
    browser: Any, live_server: Any, transactional_db: None
) -> None:
    context = browser.new_context(base_url=live_server.url)
    blocked: list[str] = []
    served: list[str] = []

    def only_local(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname not in LOCAL_HOSTS:
            blocked.append(url)
            route.abort("internetdisconnected")
        else:
            served.append(url)
            route.continue_()

    context.route("**/*", only_local)
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        response = page.goto("/api/v1/docs/")
        assert response is not None and response.status == 200
        try:
            page.wait_for_selector(".swagger-ui .opblock")
        except Exception:
            assert not blocked, f"the docs page did not render; it asked the internet for {blocked}"
            raise
        operations = page.locator(".swagger-ui .opblock").count()
        paths = page.locator(".swagger-ui .opblock-summary-path").all_inner_texts()
        title = page.locator(".swagger-ui .info .title").inner_text()
        screenshot(page, "api-docs-desktop", full_page=False)
    finally:
        context.close()
    assert blocked == [], f"the docs page asked the internet for {blocked}"
    assert not errors, errors
    assert "VPP for datacenter flexibility API" in title
    assert operations >= 50, operations  # every endpoint's operation is drawn, not an empty shell
    assert {"/api/v1/sites/", "/api/v1/market/events/{id}/awards/", "/api/v1/timeseries/{id}/data/"} <= {
        p.replace("\u200b", "") for p in paths
    }
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in url for url in served), served
