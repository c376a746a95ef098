/* 一表通 report designer: the draft is the projection's YAML mapping; the server writes the text,
   checks it and previews it. No inline script: data comes from the data-designer attribute. */
(function () {
  "use strict";
  const root = document.getElementById("designer");
  if (!root) return;
  const data = JSON.parse(root.dataset.designer);
  const csrf = root.dataset.csrf;
  let draft = data.draft;
  let target = null; // path (list of indices) of the group new columns go into; null = top level
  let dictionary = [];
  let timer = null;
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "text") node.textContent = v;
      else if (k === "className") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    });
    (children || []).forEach((c) => node.appendChild(c));
    return node;
  }

  function options(select, entries, selected) {
    select.textContent = "";
    entries.forEach(([value, label]) => {
      const o = el("option", { value: value, text: label });
      if (String(value) === String(selected)) o.selected = true;
      select.appendChild(o);
    });
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    let json = {};
    try { json = await response.json(); } catch (e) { json = {}; }
    if (json.error && json.error.issues) json.issues = json.error.issues;
    return json;
  }

  // -- the simple fields ---------------------------------------------------------------------
  function getPath(obj, path) {
    return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
  }
  function setPath(obj, path, value) {
    const keys = path.split(".");
    let o = obj;
    keys.slice(0, -1).forEach((k) => { if (typeof o[k] !== "object" || o[k] === null) o[k] = {}; o = o[k]; });
    o[keys[keys.length - 1]] = value;
  }

  function fillFields() {
    options($("d-department"), Object.entries(data.departments).map(([k, v]) => [k, v + "（" + k + "）"]), draft.department);
    if (data.ownDepartment) $("d-department").disabled = true;
    options($("d-frequency"), Object.entries(data.frequencies), draft.frequency);
    options($("d-kind"), Object.entries(data.kinds), draft.kind);
    options($("d-level"), Object.entries(data.levels).filter(([k]) => k !== "county"), getPath(draft, "rows.level") || "village");
    options($("n-department"), Object.entries(data.departments).map(([k, v]) => [k, v]), data.ownDepartment || draft.department);
    options($("n-tags"), data.tagTypes.map((t) => [t.code, t.name + "（" + (t.subject === "person" ? "人" : "户") + "）"]), "");
    options($("n-flow"), [["", "（存量，不是变动）"]].concat(Object.entries(data.flowEvents).map(([k, e]) => [k, e.label])), "");
    options($("n-flow-tag"), [["", ""]].concat(data.tagTypes.map((t) => [t.code, t.name])), "");
    options($("n-flow-period"), Object.entries(data.flowPeriods), "report_period");
    options($("d-derived-op"), Object.entries(data.derivedOps), "share");
    options($("d-compare-kind"), Object.entries(data.comparisons), "last_year");
    options($("d-area"), data.areas.map((a) => [a.code, a.name]), data.areas.length ? data.areas[0].code : "");
    $("d-as-of").value = data.today;
    root.querySelectorAll("[data-field]").forEach((input) => {
      const value = getPath(draft, input.dataset.field);
      if (input.type === "checkbox") input.checked = value === undefined ? input.dataset.field === "rows.subtotals" : !!value;
      else if (input.dataset.lines) input.value = (value || []).join("\n");
      else if (value !== undefined && value !== null) input.value = value;
      else if (input.tagName !== "SELECT") input.value = "";
      input.addEventListener("change", () => { readField(input); changed(); });
    });
  }

  function readField(input) {
    let value;
    if (input.type === "checkbox") value = input.checked;
    else if (input.type === "number") value = input.value === "" ? "" : Number(input.value);
    else if (input.dataset.lines) value = input.value.split("\n").map((s) => s.trim()).filter(Boolean);
    else value = input.value;
    setPath(draft, input.dataset.field, value);
  }

  // -- the header tree -----------------------------------------------------------------------
  function nodeAt(path) {
    let list = draft.columns, node = null;
    path.forEach((i) => { node = list[i]; list = node.children; });
    return node;
  }
  function listAt(path) {
    if (!path) return draft.columns;
    const node = nodeAt(path);
    if (!node || !node.children) return draft.columns;
    return node.children;
  }
  function addColumn(column) {
    if (!Array.isArray(draft.columns)) draft.columns = [];
    listAt(target).push(column);
    renderTree();
    changed();
  }
  function leafText(node) {
    if (node.indicator) return node.indicator + (node.compare ? " · " + (data.comparisons[node.compare] || node.compare) : "");
    if (node.derived) {
      const op = Object.keys(node.derived)[0];
      return (data.derivedOps[op] || op) + "：" + node.derived[op].join("，");
    }
    if (node.blank) return "手填空白列";
    if (node.field) return "字段 " + node.field;
    if (node.new_indicator) return "需新建指标：" + (node.new_indicator.name || node.label || "");
    return "";
  }
  function renderTree() {
    const tree = $("d-tree");
    tree.textContent = "";
    function render(list, path, into) {
      list.forEach((node, i) => {
        const here = path.concat([i]);
        const label = el("input", { value: node.label || "", "aria-label": "列名", className: "tree-label" });
        label.addEventListener("change", () => { node.label = label.value; changed(); });
        const remove = el("button", { type: "button", className: "button button-small", text: "删除",
          onclick: () => { list.splice(i, 1); target = null; renderTree(); changed(); } });
        const item = el("li", { className: node.children ? "tree-group" : "tree-leaf", "data-path": here.join(".") }, [label]);
        if (node.children) {
          const isTarget = target && target.join(".") === here.join(".");
          item.appendChild(el("button", { type: "button", className: "button button-small" + (isTarget ? " is-target" : ""),
            text: isTarget ? "✓ 添加位置" : "设为添加位置",
            onclick: () => { target = here; renderTree(); } }));
          item.appendChild(remove);
          const children = el("ul", {});
          render(node.children, here, children);
          item.appendChild(children);
        } else {
          item.appendChild(el("span", { className: "tree-what code", text: leafText(node) }));
          item.appendChild(remove);
        }
        into.appendChild(item);
      });
    }
    render(draft.columns || [], [], tree);
    const node = target ? nodeAt(target) : null;
    $("d-target-text").textContent = "添加位置：" + (node ? node.label : "最外层");
    refreshIndicatorSelects();
  }
  function usedIndicators() {
    const out = [];
    (function walk(list) {
      (list || []).forEach((n) => { if (n.indicator && !out.includes(n.indicator)) out.push(n.indicator); walk(n.children); });
    })(draft.columns);
    return out;
  }
  function refreshIndicatorSelects() {
    const used = usedIndicators().map((c) => {
      const d = dictionary.find((x) => x.code === c);
      return [c, d ? d.name + "（" + c + "）" : c];
    });
    ["d-derived-a", "d-derived-b", "d-compare-indicator"].forEach((id) => {
      const keep = $(id).value;
      options($(id), used, keep || (used.length ? used[0][0] : ""));
    });
  }

  // -- the dictionary ------------------------------------------------------------------------
  async function search() {
    const q = $("d-dict-q").value;
    const response = await fetch(data.urls.indicators + "?q=" + encodeURIComponent(q), { credentials: "same-origin" });
    const json = await response.json();
    (json.indicators || []).forEach((d) => { if (!dictionary.find((x) => x.code === d.code)) dictionary.push(d); });
    renderDictionary(json.indicators || [], json.total || 0);
  }
  function renderDictionary(rows, total) {
    const list = $("d-dict");
    list.textContent = "";
    rows.forEach((d) => {
      list.appendChild(el("li", { "data-code": d.code }, [
        el("div", {}, [el("strong", { text: d.name }), el("span", { className: "code", text: " " + d.code })]),
        el("div", { className: "muted", text: d.definition }),
        el("div", { className: "muted", text: "单位：" + d.unit + " · 部门：" + (data.departments[d.department] || d.department) }),
        el("button", { type: "button", className: "button button-small", text: "加入表头",
          onclick: () => addColumn({ label: d.name, indicator: d.code }) }),
      ]));
    });
    if (total > rows.length) list.appendChild(el("li", { className: "muted", text: "另有 " + (total - rows.length) + " 个，请输入更多关键词" }));
    if (!rows.length) list.appendChild(el("li", { className: "muted", text: "没有符合的指标；可在下方新建。" }));
  }

  // -- a new indicator -----------------------------------------------------------------------
  function newIndicator() {
    const where = {};
    const subject = $("n-subject").value;
    if (subject === "persons" && $("n-alive").checked) where.alive = true;
    const age = {};
    if ($("n-age-min").value !== "") age.gte = Number($("n-age-min").value);
    if ($("n-age-max").value !== "") age.lte = Number($("n-age-max").value);
    if (Object.keys(age).length) where.age = age;
    const tags = Array.from($("n-tags").selectedOptions).map((o) => o.value);
    if (tags.length) where.tags = $("n-any").checked && tags.length > 1 ? [{ any_of: tags }] : tags;
    const compute = { aggregate: "count", subject: subject };
    if (Object.keys(where).length) compute.where = where;
    if ($("n-flow").value) {
      compute.flow = $("n-flow-tag").value ? { event: $("n-flow").value, tag: $("n-flow-tag").value } : { event: $("n-flow").value };
      compute.period = $("n-flow-period").value;
    }
    return { code: $("n-code").value.trim(), name: $("n-name").value.trim(), definition: $("n-definition").value.trim(),
             unit: $("n-unit").value.trim(), department: $("n-department").value, compute: compute };
  }
  async function sendIndicator(action) {
    const json = await post(data.urls.indicator, { indicator: newIndicator(), action: action });
    const box = $("n-result");
    box.textContent = "";
    if (json.indicator) {
      dictionary.push(json.indicator);
      box.appendChild(el("div", { className: "alert alert-success", text: "已发布指标 " + json.indicator.code + " " + json.indicator.name + "（第" + json.indicator.version + "版），已加入表头" }));
      addColumn({ label: json.indicator.name, indicator: json.indicator.code });
      return;
    }
    box.appendChild(issueList(json.issues || []));
    if (!(json.issues || []).some((i) => i.severity === "error")) box.appendChild(el("div", { className: "alert alert-success", text: "校验通过，可以发布" }));
  }

  // -- preview, text, publish ----------------------------------------------------------------
  function issueList(issues) {
    if (!issues.length) return el("div", {});
    const errors = issues.filter((i) => i.severity === "error");
    const ul = el("ul", { className: "issues report-issues" });
    issues.forEach((i) => ul.appendChild(el("li", {}, [
      el("span", { className: "issue-where", text: (i.severity === "warning" ? "警告 " : "") + (i.where || "") + " " }),
      el("span", { className: "issue-message", text: i.message }),
      el("span", { className: "issue-hint", text: i.hint ? " " + i.hint : "" }),
    ])));
    return el("div", { className: "alert " + (errors.length ? "alert-error" : "alert-warning") }, [
      el("strong", { text: errors.length ? "发现 " + errors.length + " 个问题" : "请注意" }), ul]);
  }
  function changed() {
    clearTimeout(timer);
    if ($("d-publish")) $("d-publish").disabled = true;
    timer = setTimeout(preview, 400);
  }
  async function preview(text) {
    clearTimeout(timer);
    const body = { area: $("d-area").value, as_of: $("d-as-of").value, period: $("d-period").value };
    if (typeof text === "string") body.text = text; else body.draft = draft;
    root.classList.add("is-busy");
    const json = await post(data.urls.preview, body);
    root.classList.remove("is-busy");
    if (json.draft && typeof text === "string") { draft = json.draft; target = null; fillFields(); renderTree(); }
    if (typeof json.yaml === "string") $("d-yaml").value = json.yaml;
    $("d-issues").textContent = "";
    $("d-issues").appendChild(issueList(json.issues || []));
    $("d-preview-box").innerHTML = json.html || "";  // rendered by the server's template (escaped)
    if ($("d-publish")) $("d-publish").disabled = !json.canPublish;
    root.dataset.previewed = String(Date.now());
  }
  async function publish() {
    const json = await post(data.urls.publish, { draft: draft, note: $("d-note").value });
    const box = $("d-publish-result");
    box.textContent = "";
    if (json.url) {
      box.appendChild(el("div", { className: "alert alert-success" }, [
        el("span", { text: "已发布 " + json.ref + "。" }), el("a", { href: json.url, text: "打开报表页" })]));
      return;
    }
    box.appendChild(issueList(json.issues || []));
  }

  // -- wiring --------------------------------------------------------------------------------
  $("d-add-group").addEventListener("click", () => {
    const label = $("d-group-label").value.trim() || "分组";
    const group = { label: label, children: [] };
    const list = listAt(target);
    list.push(group);
    target = (target || []).concat([list.length - 1]);
    $("d-group-label").value = "";
    renderTree();
    // an empty group is not yet valid: no preview until it has a column
  });
  $("d-target-root").addEventListener("click", () => { target = null; renderTree(); });
  $("d-add-derived").addEventListener("click", () => {
    const op = $("d-derived-op").value, a = $("d-derived-a").value, b = $("d-derived-b").value;
    const derived = {}; derived[op] = [a, b];
    addColumn({ label: $("d-derived-label").value.trim() || data.derivedOps[op], derived: derived,
                decimals: Number($("d-derived-decimals").value || 0) });
  });
  $("d-add-compare").addEventListener("click", () => {
    addColumn({ label: $("d-compare-label").value.trim() || data.comparisons[$("d-compare-kind").value],
                indicator: $("d-compare-indicator").value, compare: $("d-compare-kind").value });
  });
  $("d-add-blank").addEventListener("click", () => addColumn({ label: $("d-blank-label").value.trim() || "备注", blank: true }));
  $("d-dict-q").addEventListener("input", () => { clearTimeout(search.timer); search.timer = setTimeout(search, 250); });
  $("n-check").addEventListener("click", () => sendIndicator("check"));
  $("n-publish").addEventListener("click", () => sendIndicator("publish"));
  $("d-preview").addEventListener("click", () => preview());
  $("d-apply-text").addEventListener("click", () => preview($("d-yaml").value));
  ["d-area", "d-as-of", "d-period"].forEach((id) => $(id).addEventListener("change", changed));
  if ($("d-publish")) $("d-publish").addEventListener("click", publish);

  fillFields();
  renderTree();
  $("d-yaml").value = data.yaml;
  search();
  root.dataset.ready = "1";
})();
