// Charts from neutral specs ({type, title, categories, series, percent}) with the vendored ECharts.
// An element .chart gets its spec from data-chart-src (a JSON URL, optionally data-chart-key) or from
// the <script type="application/json"> whose id is in data-chart-json. No inline scripts (CSP).
(function () {
  "use strict";
  if (!window.echarts) { return; }
  var charts = [];

  function option(spec) {
    var stacked = spec.type === "stacked";
    var narrow = window.innerWidth < 600;
    return {
      title: { text: spec.title || "", left: "center", textStyle: { fontSize: narrow ? 13 : 15 } },
      tooltip: { trigger: "axis", valueFormatter: spec.percent ? function (v) { return v + "%"; } : undefined },
      legend: { type: "scroll", bottom: 0 },
      grid: { left: 8, right: 16, top: 40, bottom: 56, containLabel: true },
      xAxis: { type: "category", data: spec.categories, axisLabel: { hideOverlap: true, rotate: narrow && spec.categories.length > 6 ? 45 : 0 } },
      yAxis: { type: "value", max: spec.percent ? 100 : null, minInterval: 1,
               axisLabel: { formatter: spec.percent ? "{value}%" : "{value}" } },
      series: spec.series.map(function (s) {
        return { name: s.name, type: spec.type === "line" ? "line" : "bar", data: s.data, stack: stacked ? "all" : undefined,
                 smooth: spec.type === "line", showSymbol: spec.categories.length <= 12 };
      })
    };
  }

  function draw(el, spec) {
    if (!spec || !spec.series || !spec.series.length || !spec.categories.length) {
      el.classList.add("chart-empty");
      el.textContent = el.getAttribute("data-empty") || "暂无数据";
      return;
    }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(spec));
    charts.push(chart);
  }

  document.querySelectorAll(".chart").forEach(function (el) {
    var embedded = el.getAttribute("data-chart-json");
    if (embedded) {
      var source = document.getElementById(embedded);
      draw(el, source ? JSON.parse(source.textContent) : null);
      return;
    }
    var src = el.getAttribute("data-chart-src");
    if (!src) { return; }
    fetch(src, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) {
        var key = el.getAttribute("data-chart-key");
        draw(el, data && key ? data[key] : data);
      })
      .catch(function () { el.textContent = "图表加载失败"; });
  });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
}());
