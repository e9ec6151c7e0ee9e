/*
 * Renders Apache ECharts charts from JSON specs that the server embeds with Django's json_script.
 *
 *   <div class="chart" data-chart="chart-zones"></div>
 *   <script id="chart-zones" type="application/json">{"kind": "bar", ...}</script>
 *
 * Specs are built (and time series resampled) server-side by apps/dashboard/charts.py; see its docstring
 * for the shapes: "bar", "donut" and "timeseries" (lines with optional p10–p90 or min–max bands, a year
 * of 15-minute data arrives as 365 daily buckets). A spec with "empty" shows that sentence instead of a chart.
 * Times are epoch milliseconds and are shown in UTC.
 *
 * window.VppCharts.render(element, spec) renders one chart; renderAll(root) renders every [data-chart].
 */
(function () {
  "use strict";

  var PALETTE = ["#0e7c66", "#4c8dd6", "#e0a030", "#8e6bbf", "#d9534f", "#3fb6a8", "#7a8894", "#c96f9e"];
  var INK = "#18232e";
  var MUTED = "#5b6b7a";
  var GRID = "#e6ebf0";
  var FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function formatter(unit) {
    var nf = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });
    return function (value) {
      if (value === null || value === undefined || Number.isNaN(value)) return "—";
      return nf.format(value) + (unit ? " " + unit : "");
    };
  }

  function base(spec) {
    return {
      color: PALETTE,
      useUTC: true,
      animation: !reducedMotion,
      textStyle: { fontFamily: FONT, color: INK },
      grid: { left: 8, right: 28, top: 36, bottom: 8, containLabel: true },
      tooltip: { confine: true, valueFormatter: formatter(spec.unit) }
    };
  }

  var NARROW_PX = 480;

  function legend(count) {
    return { show: count > 1, type: "scroll", top: 0, right: 0, left: 40, align: "left", icon: "roundRect", itemWidth: 12,
      itemHeight: 8, textStyle: { color: MUTED }, pageIconSize: 10 };
  }

  function barOption(spec, narrow) {
    var option = base(spec);
    // Horizontal bars keep every name (one per bar, one per line). Vertical bars turn their labels on a phone
    // when there are many, and ECharts drops those that would still overlap (interval "auto" + hideOverlap), so
    // labels never collide however many events or intervals a chart shows.
    var many = spec.categories.length > (narrow ? 3 : 12);
    var rotate = narrow && !spec.horizontal && many;
    var category = { type: "category", data: spec.categories, axisTick: { show: false },
      axisLine: { lineStyle: { color: GRID } },
      axisLabel: { color: MUTED, interval: spec.horizontal ? 0 : "auto", hideOverlap: !spec.horizontal,
        rotate: rotate ? 35 : 0, fontSize: narrow ? 10 : 12 } };
    var value = { type: "value", name: spec.unit, nameTextStyle: { color: MUTED },
      splitLine: { lineStyle: { color: GRID } }, axisLabel: { color: MUTED, hideOverlap: true, fontSize: narrow ? 10 : 12 } };
    if (spec.horizontal) {
      category.inverse = true;
      value.name = "";
      value.minInterval = 1;
    }
    option.xAxis = spec.horizontal ? value : category;
    option.yAxis = spec.horizontal ? category : value;
    option.legend = legend(spec.series.length);
    if (option.legend.show) option.grid.top = 52;
    option.tooltip.trigger = "axis";
    option.tooltip.axisPointer = { type: "shadow" };
    option.series = spec.series.map(function (s) {
      var data = spec.colors ? s.values.map(function (v, i) { return { value: v, itemStyle: { color: spec.colors[i] } }; }) : s.values;
      return { type: "bar", name: s.name, data: data, barMaxWidth: 36, stack: spec.stacked ? "total" : undefined,
        itemStyle: { borderRadius: spec.horizontal ? [0, 4, 4, 0] : [4, 4, 0, 0] },
        label: spec.horizontal && !spec.stacked ? { show: true, position: "right", color: MUTED } : undefined };
    });
    return option;
  }

  function donutOption(spec, narrow) {
    var option = base(spec);
    var fmt = formatter(spec.unit);
    var values = {};
    spec.slices.forEach(function (s) { values[s.name] = s.value; });
    option.legend = { type: "scroll", bottom: 0, left: "center", textStyle: { color: MUTED },
      formatter: function (name) { return name + " " + fmt(values[name]); } };
    option.tooltip.trigger = "item";
    option.series = [{
      type: "pie", radius: ["45%", "72%"], center: ["50%", "45%"], avoidLabelOverlap: true,
      itemStyle: { borderColor: "#fff", borderWidth: 2 },
      label: { show: !narrow, formatter: function (p) { return p.name + ": " + fmt(p.value); }, color: INK },
      data: spec.slices.map(function (s) {
        return s.name === "Not declared" ? { name: s.name, value: s.value, itemStyle: { color: "#d5dce3" } } : s;
      })
    }];
    return option;
  }

  function pairs(t, values) {
    var out = new Array(t.length);
    for (var i = 0; i < t.length; i++) out[i] = [t[i], values[i]];
    return out;
  }

  function timeseriesOption(spec) {
    var option = base(spec);
    var t = spec.t;
    var series = [];
    var names = [];
    var axisOf = function (s) { return spec.unit2 && s.axis === 1 ? 1 : 0; };
    var fmt2 = formatter(spec.unit2);
    spec.series.forEach(function (s, index) {
      var color = PALETTE[index % PALETTE.length];
      var yAxisIndex = axisOf(s);
      if (s.lower && s.upper) {
        var width = new Array(t.length);
        for (var i = 0; i < t.length; i++) {
          width[i] = s.lower[i] === null || s.upper[i] === null ? null : s.upper[i] - s.lower[i];
        }
        var stack = "band-" + index;
        series.push({ type: "line", name: s.name + " band", data: pairs(t, s.lower), stack: stack, symbol: "none",
          yAxisIndex: yAxisIndex, lineStyle: { opacity: 0 }, tooltip: { show: false }, silent: true,
          legendHoverLink: false });
        series.push({ type: "line", name: s.name + " band", data: pairs(t, width), stack: stack, symbol: "none",
          yAxisIndex: yAxisIndex, lineStyle: { opacity: 0 }, areaStyle: { color: color, opacity: 0.22 },
          tooltip: { show: false }, silent: true });
      }
      names.push(s.name);
      // step lines often coincide (requested = bid = awarded): earlier ones are drawn wider so each stays visible
      var stepped = s.style === "step";
      var steps = spec.series.filter(function (x) { return x.style === "step"; }).length;
      var width = stepped && steps > 1 ? Math.min(1.6 + 1.2 * (steps - 1 - spec.series.slice(0, index).filter(function (x) { return x.style === "step"; }).length), 5) : 1.6;
      series.push({
        type: "line", name: s.name, data: pairs(t, s.values), showSymbol: t.length < 40, symbol: "circle", symbolSize: 4,
        yAxisIndex: yAxisIndex, tooltip: yAxisIndex ? { valueFormatter: fmt2 } : undefined,
        sampling: "lttb", connectNulls: false, step: stepped ? "end" : false,
        lineStyle: { width: width, color: color, type: s.style === "dashed" ? "dashed" : "solid" },
        itemStyle: { color: color }
      });
    });
    option.legend = legend(names.length);
    option.legend.data = names;
    if (option.legend.show) option.grid.top = 52;
    option.tooltip.trigger = "axis";
    option.xAxis = { type: "time", axisLine: { lineStyle: { color: GRID } }, axisLabel: { color: MUTED, hideOverlap: true } };
    if (spec.range) {
      option.xAxis.min = spec.range[0];
      option.xAxis.max = spec.range[1];
    }
    option.yAxis = [{ type: "value", name: spec.unit, nameTextStyle: { color: MUTED }, scale: true,
      splitLine: { lineStyle: { color: GRID } }, axisLabel: { color: MUTED } }];
    if (spec.unit2) {
      option.yAxis.push({ type: "value", name: spec.unit2, nameTextStyle: { color: MUTED }, scale: true,
        position: "right", splitLine: { show: false }, axisLabel: { color: MUTED } });
    }
    if (spec.markArea) {
      series.push({ type: "line", name: "", data: [], silent: true, tooltip: { show: false },
        markArea: { silent: true, itemStyle: { color: "rgba(224, 160, 48, 0.12)" },
          data: spec.markArea.map(function (a) { return [{ xAxis: a[0], name: a[2] || "" }, { xAxis: a[1] }]; }),
          label: { color: MUTED, fontSize: 10 } } });
    }
    option.animation = option.animation && t.length * spec.series.length < 2000;
    if (t.length > 200) {
      option.dataZoom = [{ type: "inside", throttle: 50 }, { type: "slider", height: 18, bottom: 4 }];
      option.grid.bottom = 36;
    }
    option.series = series;
    return option;
  }

  var BUILDERS = { bar: barOption, donut: donutOption, timeseries: timeseriesOption };

  function isNarrow(element) {
    return element.clientWidth > 0 && element.clientWidth < NARROW_PX;
  }

  function render(element, spec) {
    if (spec.empty) {
      element.dataset.rendered = "empty";
      return null;
    }
    var build = BUILDERS[spec.kind];
    if (!build || !window.echarts) {
      element.textContent = "This chart cannot be shown.";
      element.dataset.rendered = "error";
      return null;
    }
    var chart = window.echarts.getInstanceByDom(element) || window.echarts.init(element, null, { renderer: "canvas" });
    var narrow = isNarrow(element);
    chart.setOption(build(spec, narrow), true);
    if (window.ResizeObserver && !element._vppObserved) {
      element._vppObserved = true;
      new ResizeObserver(function () {
        if (isNarrow(element) !== narrow) {
          narrow = isNarrow(element);
          chart.setOption(build(spec, narrow), true);
        }
        chart.resize();
      }).observe(element);
    }
    element.dataset.rendered = "chart";
    return chart;
  }

  function renderAll(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(function (element) {
      var source = document.getElementById(element.dataset.chart);
      if (!source) return;
      try {
        render(element, JSON.parse(source.textContent));
      } catch (error) {
        element.dataset.rendered = "error";
        if (window.console) console.error("chart " + element.dataset.chart + ":", error);
      }
    });
  }

  window.VppCharts = { render: render, renderAll: renderAll, options: BUILDERS };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { renderAll(document); });
  } else {
    renderAll(document);
  }
})();
