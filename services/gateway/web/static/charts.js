/* chainclub charts: Apache ECharts (static/vendor/echarts-5.6.0) drawn from data the page
 * carries — no inline script (the pages' Content-Security-Policy allows only this site's files).
 *
 * An element <div data-chart="line|bar" data-chart-data="ID" data-chart-key="KEY"> is drawn from
 * the JSON block <script type="application/json" id="ID">, entry KEY:
 *   {"labels": [...], "series": [{"name": "...", "values": [fen, ...]}, ...]}
 * and the block's "locale" (a BCP 47 tag) formats the numbers. Values are money in fen, or
 * plain counts when the entry says "unit": "count". data-chart="pie" draws one series as a
 * ring of shares (each label a slice).
 * Charts are drawn when the page loads and again after every htmx swap; each chart's numbers
 * are also in a table on the page (the chart is a picture of that table). */
(function () {
  "use strict";

  var COLORS = ["#c2410c", "#1d4ed8", "#15803d", "#7c3aed", "#b45309"];
  var drawn = [];

  function yuan(locale, fen, compact) {
    var options = compact
      ? { notation: "compact", maximumFractionDigits: 1 }
      : { minimumFractionDigits: 2, maximumFractionDigits: 2 };
    var text = new Intl.NumberFormat(locale, options).format(fen / 100);
    return (fen < 0 ? "-¥" : "¥") + text.replace("-", "");
  }

  function reduced() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  function count(locale, n) {
    return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(n);
  }

  function pie(data, locale) {
    var s = data.series[0];
    return {
      animation: !reduced(),
      color: data.colors || COLORS,
      tooltip: {
        trigger: "item",
        formatter: function (p) { return p.name + ": " + count(locale, p.value) + " (" + p.percent + "%)"; }
      },
      legend: { bottom: 0, type: "scroll" },
      series: [{
        name: s.name,
        type: "pie",
        radius: ["38%", "66%"],
        center: ["50%", "45%"],
        avoidLabelOverlap: true,
        label: { formatter: function (p) { return p.name + "\n" + count(locale, p.value); } },
        data: data.labels.map(function (label, i) { return { name: label, value: s.values[i] }; })
      }]
    };
  }

  function option(kind, data, locale) {
    if (kind === "pie") return pie(data, locale);
    var bars = kind === "bar";
    var counts = data.unit === "count";
    var fmt = function (v, compact) { return counts ? count(locale, v) : yuan(locale, v, compact); };
    var valueAxis = {
      type: "value",
      minInterval: counts ? 1 : 0,
      axisLabel: { formatter: function (v) { return fmt(v, true); } },
      splitLine: { lineStyle: { color: "#e5e7eb" } }
    };
    var categoryAxis = {
      type: "category",
      data: data.labels,
      inverse: bars, /* a ranking reads from the top */
      axisTick: { alignWithLabel: true },
      axisLabel: bars ? { width: 110, overflow: "truncate" } : { hideOverlap: true }
    };
    return {
      animation: !reduced(),
      color: COLORS,
      grid: { left: 8, right: 24, top: data.series.length > 1 ? 36 : 12, bottom: 8, containLabel: true },
      legend: data.series.length > 1 ? { top: 0 } : undefined,
      tooltip: {
        trigger: "axis",
        axisPointer: { type: bars ? "shadow" : "line" },
        valueFormatter: function (v) { return fmt(v, false); }
      },
      xAxis: bars ? valueAxis : categoryAxis,
      yAxis: bars ? categoryAxis : valueAxis,
      series: data.series.map(function (s) {
        return bars
          ? { name: s.name, type: "bar", data: s.values, barMaxWidth: 22 }
          : { name: s.name, type: "line", data: s.values, showSymbol: false, areaStyle: { opacity: 0.06 } };
      })
    };
  }

  function draw(root) {
    if (!window.echarts) return;
    drawn = drawn.filter(function (chart) { return !chart.isDisposed() && document.body.contains(chart.getDom()); });
    var boxes = (root || document).querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(boxes, function (box) {
      var block = document.getElementById(box.getAttribute("data-chart-data"));
      if (!block) return;
      var all;
      try { all = JSON.parse(block.textContent); } catch (e) { return; }
      var data = all[box.getAttribute("data-chart-key")];
      if (!data || !data.labels || !data.labels.length) return;
      var old = window.echarts.getInstanceByDom(box);
      if (old) old.dispose();
      var chart = window.echarts.init(box, null, { renderer: "svg", locale: all.locale === "zh-CN" ? "ZH" : "EN" });
      box.removeAttribute("data-chart-drawn");
      /* Marked once the first drawing (and its animation) has finished: a screenshot or a
       * test waits for it. */
      chart.on("finished", function () { box.setAttribute("data-chart-drawn", "true"); });
      chart.setOption(option(box.getAttribute("data-chart"), data, all.locale || "zh-CN"));
      drawn.push(chart);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function () { draw(document); });
  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      drawn.forEach(function (chart) { if (!chart.isDisposed()) chart.resize(); });
    }, 150);
  });
})();
