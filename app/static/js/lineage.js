// Cell lineage in a report preview: a click (or Enter) on a number fetches what it counts and the
// period's changes from /quality/explain/<report> and shows them in the panel below the table.
(function () {
  "use strict";
  var section = document.querySelector(".report-preview[data-explain-url]");
  if (!section) { return; }
  var panel = document.getElementById("lineage-panel");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function table(headers, rows) {
    var t = el("table", { "class": "list" });
    var head = el("tr");
    headers.forEach(function (h) { head.appendChild(el("th", { scope: "col" }, h)); });
    t.appendChild(el("thead")).appendChild(head);
    var body = t.appendChild(el("tbody"));
    rows.forEach(function (cells) {
      var tr = body.appendChild(el("tr"));
      cells.forEach(function (c) {
        var td = tr.appendChild(el("td"));
        if (c && c.href) { td.appendChild(el("a", { href: c.href }, c.text)); } else { td.textContent = c === null || c === undefined ? "" : String(c); }
      });
    });
    var wrap = el("div", { "class": "table-wrap" });
    wrap.appendChild(t);
    return wrap;
  }

  function shown(v) {
    if (v === null || v === undefined || v === "") { return "空"; }
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  }

  function fields(changes) {
    return Object.keys(changes || {}).map(function (k) {
      var v = changes[k];
      return Array.isArray(v) ? k + "：" + shown(v[0]) + " → " + shown(v[1]) : k;
    }).join("；");
  }

  function show(data) {
    panel.textContent = "";
    panel.appendChild(el("h3", {}, data.area.name + " · 第" + data.column + "栏 " + data.column_label + " = " + data.value));
    panel.appendChild(el("p", { "class": "note" }, "口径：" + data.indicator.definition));
    panel.appendChild(el("h4", {}, "计入的记录（" + data.records_total + "）"));
    panel.appendChild(table(["记录", "身份证号", "区划", "计入值"], data.records.map(function (r) {
      return [r.link ? { href: r.link, text: r.name } : r.name, r.id_number || "", r.area_code, r.value];
    })));
    if (data.records_total > data.records.length) {
      panel.appendChild(el("p", { "class": "note" }, "只显示前 " + data.records.length + " 条；命令行 ybt report explain 列出全部。"));
    }
    panel.appendChild(el("h4", {}, "报告期内的变动（" + data.period[0] + " 至 " + data.period[1] + "，" + data.changes_total + " 条" +
      (data.changes_total > data.changes.length ? "，显示最近 " + data.changes.length + " 条" : "") + "）"));
    var names = {};
    data.records.forEach(function (r) { names[r.entity + ":" + r.id] = r.name; });
    if (data.changes.length) {
      panel.appendChild(table(["生效日期", "操作", "记录", "修改人", "来源", "时间", "内容"], data.changes.map(function (c) {
        var owner = c.record ? names[c.record.entity + ":" + c.record.id] || (c.record.entity === "person" ? "人员 #" : "户 #") + c.record.id : c.entity + " #" + c.entity_id;
        var label = owner + (c.entity === "tag" ? " 的标签" : "");
        return [c.effective_date, c.action_label, c.link ? { href: c.link, text: label } : label, c.who, c.source_label, c.when, fields(c.fields)];
      })));
    } else {
      panel.appendChild(el("p", { "class": "muted" }, "报告期内没有使此数变化的修改。"));
    }
  }

  function explain(cell) {
    var row = cell.closest("tr[data-area]");
    if (!row) { return; }
    var params = new URLSearchParams({ area: row.getAttribute("data-area"), column: cell.getAttribute("data-col"),
      as_of: section.getAttribute("data-as-of") });
    var period = section.getAttribute("data-period");
    if (period) { params.set("period", period); }
    panel.hidden = false;
    panel.textContent = "正在查询…";
    fetch(section.getAttribute("data-explain-url") + "&" + params.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (resp) { return resp.json().then(function (body) { return { ok: resp.ok, body: body }; }); })
      .then(function (r) {
        if (!r.ok) {
          var issues = (r.body.error && r.body.error.issues) || [];
          panel.textContent = issues.map(function (i) { return i.message; }).join("；") || "查询失败";
          return;
        }
        show(r.body);
        panel.scrollIntoView({ behavior: "smooth", block: "start" });
      })
      .catch(function () { panel.textContent = "查询失败，请稍后再试"; });
  }

  // a link from the reconciliation page opens one cell: #explain-<area code>-<栏次>
  var wanted = /^#explain-(\w+)-(\d+)$/.exec(window.location.hash);
  if (wanted) {
    var target = section.querySelector('tr[data-area="' + wanted[1] + '"] td[data-col="' + wanted[2] + '"]');
    if (target) { target.focus(); explain(target); }
  }

  section.addEventListener("click", function (event) {
    var cell = event.target.closest("td.explainable");
    if (cell) { explain(cell); }
  });
  section.addEventListener("keydown", function (event) {
    var cell = event.target.closest("td.explainable");
    if (cell && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); explain(cell); }
  });
}());
