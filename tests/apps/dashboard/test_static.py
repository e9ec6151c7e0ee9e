"""The vendored chart library: version and licences beside it, served by WhiteNoise with the page assets;
and the browser tests' rule that a missing browser skips locally but fails in CI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client, override_settings

from tests.browser import conftest as browser_conftest

VENDOR = Path(__file__).resolve().parents[3] / "static" / "vendor" / "echarts"


def test_echarts_is_vendored_with_version_and_licences() -> None:
    version_file = (VENDOR / "VERSION").read_text()
    version = re.search(r"Apache ECharts (\d+\.\d+\.\d+)", version_file).group(1)  # type: ignore[union-attr]
    bundle = (VENDOR / "echarts.min.js").read_text()
    assert f't.version="{version}"' in bundle
    assert "Apache License" in (VENDOR / "LICENSE").read_text()
    assert "Apache ECharts" in (VENDOR / "NOTICE").read_text()
    assert (VENDOR / "LICENSE-d3").exists()
    assert "sourceMappingURL" not in bundle  # the manifest storage would look for a map we do not ship


@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/vendor/echarts/echarts.min.js", "text/javascript"),
        ("/static/dashboard/charts.js", "text/javascript"),
        ("/static/dashboard/app.css", "text/css"),
    ],
)
def test_assets_are_served_by_whitenoise(path: str, content_type: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert response.streaming  # WhiteNoise's file response, not a Django view


def test_missing_browser_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        browser_conftest._unavailable("Chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        browser_conftest._unavailable("Chromium")
