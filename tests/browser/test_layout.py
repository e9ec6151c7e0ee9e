"""Layout in a real browser at 1400 px: chart labels never overlap (ECharts' own layout, read from its scene
graph: every text it draws, with its box on the canvas), and no table hides columns behind sideways scrolling.
Screenshots of each page at that width go to test-artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from apps.accounts.models import Organisation
from tests.apps.dashboard.activity_data import Activity, settled_event, trending_load
from tests.conftest import World

from .conftest import PHONE, screenshot

pytestmark = pytest.mark.slow

WIDE = {"width": 1400, "height": 900}

#: The boxes of every text ECharts drew in a chart (canvas renderer: read from zrender's display list, which
#: leaves out the labels ECharts hid), and the pairs of texts whose (possibly rotated) boxes overlap.
TEXT_OVERLAPS = """(element) => {
  const chart = echarts.getInstanceByDom(element);
  chart.getZr().flush();
  const boxes = [];
  for (const el of chart.getZr().storage.getDisplayList(true)) {
    if (el.type !== 'tspan' || el.invisible || !el.style || !el.style.text) continue;
    const r = el.getBoundingRect();
    const m = el.transform || [1, 0, 0, 1, 0, 0];
    // the text's box shrunk by half a pixel on each side, as drawn (rotated labels stay oriented boxes)
    const local = [[r.x + .5, r.y + .5], [r.x + r.width - .5, r.y + .5], [r.x + r.width - .5, r.y + r.height - .5],
                   [r.x + .5, r.y + r.height - .5]];
    boxes.push({text: String(el.style.text),
                corners: local.map(([x, y]) => [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]])});
  }
  const separated = (a, b) => {  // separating-axis test of two convex quadrilaterals
    for (const poly of [a, b]) {
      for (let i = 0; i < 4; i++) {
        const [x1, y1] = poly[i], [x2, y2] = poly[(i + 1) % 4];
        const nx = y2 - y1, ny = x1 - x2;
        const pa = a.map(([x, y]) => nx * x + ny * y), pb = b.map(([x, y]) => nx * x + ny * y);
        if (Math.max(...pa) <= Math.min(...pb) || Math.max(...pb) <= Math.min(...pa)) return true;
      }
    }
    return false;
  };
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      if (!separated(boxes[i].corners, boxes[j].corners)) overlaps.push([boxes[i].text, boxes[j].text]);
    }
  }
  return {texts: boxes.length, overlaps: overlaps};
}"""

#: Tables whose content is wider than their box (columns reachable only by scrolling sideways).
SCROLLING_TABLES = """() => [...document.querySelectorAll('.table-wrap')]
  .filter((w) => w.scrollWidth > w.clientWidth + 1)
  .map((w) => (w.querySelector('table') || w).id || w.innerText.slice(0, 40))"""


def _overlaps(page: Any, chart_id: str) -> dict:
    selector = f'[data-chart="{chart_id}"]'
    page.wait_for_selector(f'{selector}[data-rendered="chart"] canvas')
    page.wait_for_timeout(700)  # the entry animation moves labels into place
    return page.eval_on_selector(selector, TEXT_OVERLAPS)


@pytest.fixture
def activity(demo) -> Activity:  # type: ignore[no-untyped-def]
    world = World(
        aggregator=Organisation.objects.get(kind="aggregator"),
        owner_a=demo.sites["sj1"].owner,
        owner_b=demo.sites["ash1"].owner,
        operator=Organisation.objects.get(kind="market_operator"),
        users={},
    )
    made = settled_event(world)
    trending_load(made.site_a)
    return made


def test_pages_at_1400_px_have_no_overlapping_labels_or_scrolling_tables(activity, open_page) -> None:  # type: ignore[no-untyped-def]
    pages = {
        "overview": ("/overview/", ["chart-zones", "chart-status"]),
        "events": ("/events/", ["chart-events"]),
        "event": (
            f"/events/{activity.event.pk}/",
            ["chart-intervals", "chart-baseline", "chart-contribution"],
        ),
        "revenue": ("/revenue/", ["chart-revenue-month-USD", "chart-revenue-site-USD"]),
        "forecasts": ("/forecasts/", ["chart-accuracy", "chart-accuracy-daily"]),
        "site": (f"/sites/{activity.site_a.pk}/?period=7d", ["chart-load", "chart-grid"]),
    }
    page = open_page("staff", WIDE)
    for name, (url, chart_ids) in pages.items():
        page.goto(url)
        for chart_id in chart_ids:
            found = _overlaps(page, chart_id)
            assert found["texts"] >= 3, (name, chart_id, found)  # axis labels were drawn and read
            assert found["overlaps"] == [], (name, chart_id, found["overlaps"][:5])
        assert page.evaluate(SCROLLING_TABLES) == [], name
        screenshot(page, f"{name}-1400")
    assert page.js_errors == []


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1400px", "phone"])
def test_many_categories_never_overlap(demo, open_page, viewport: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    """Thirty events in the event list's chart (its largest), and 96 quarter-hours of a long event."""
    page = open_page("staff", viewport)
    specs = {
        "events": {
            "kind": "bar",
            "unit": "kWh",
            "categories": [f"#{100 + i} 09-{1 + i // 4:02d} {17 + i % 4}:00" for i in range(30)],
            "series": [
                {"name": "Awarded", "values": [4000.0 + 10 * i for i in range(30)]},
                {"name": "Delivered", "values": [3800.0 + 10 * i for i in range(30)]},
            ],
        },
        "intervals": {
            "kind": "bar",
            "unit": "kW",
            "stacked": True,
            "categories": [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 15, 30, 45)],
            "series": [{"name": f"DC {k}", "values": [100.0 * k] * 96} for k in range(1, 4)],
        },
    }
    for name, spec in specs.items():
        page.evaluate(
            """([id, spec]) => {
              const el = document.createElement('div');
              el.className = 'chart';
              el.dataset.chart = id;
              document.querySelector('main').prepend(el);
              VppCharts.render(el, spec);
            }""",
            [f"synthetic-{name}", spec],
        )
        found = _overlaps(page, f"synthetic-{name}")
        assert found["texts"] >= 5, (name, found)
        assert found["overlaps"] == [], (name, found["overlaps"][:5])
    # the check itself: with every label forced (the old setting), the same chart's labels do collide
    page.evaluate(
        """() => echarts.getInstanceByDom(document.querySelector('[data-chart="synthetic-intervals"]'))
             .setOption({xAxis: {axisLabel: {interval: 0, hideOverlap: false, rotate: 0}}})"""
    )
    assert _overlaps(page, "synthetic-intervals")["overlaps"], "the overlap check found nothing to report"
    assert page.js_errors == []
