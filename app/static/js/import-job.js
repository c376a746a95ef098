/* The progress page of a background import (imports/job.html): poll the job's JSON status every
   second, move the progress bar, and go on to the import when the job is done (a page opened again
   later from 我的导入, without ?follow=1, stays on the finished job). No inline script
   (Content-Security-Policy): the status URL comes from data-status-url. */
(function () {
  var box = document.getElementById("import-job");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var state = box.getAttribute("data-state");
  if (state === "done" || state === "failed") {
    // just submitted and already finished: go on to the import, as when it finishes while watched
    var result = box.getAttribute("data-result-url");
    if (state === "done" && result && box.getAttribute("data-follow") === "1") { window.location.assign(result); }
    return;
  }
  function el(name) { return box.querySelector("[data-job-" + name + "]"); }
  var failures = 0;
  function show(s) {
    el("state").textContent = s.state_label;
    el("phase").textContent = s.phase;
    el("count").textContent = s.total ? "（" + s.done + " / " + s.total + "）" : "";
    el("progress").value = s.percent;
    el("percent").textContent = s.percent + "%";
    var message = el("message");
    message.textContent = s.message || "";
    message.hidden = !s.message;
    if (s.state === "failed") { message.className = "alert alert-error"; }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) {
        failures = 0;
        show(s);
        if (s.state === "done" && s.result_url) { window.location.assign(s.result_url); return; }
        if (!s.finished) { window.setTimeout(poll, 1000); }
      })
      .catch(function () {
        failures += 1;
        el("phase").textContent = "暂时无法获取进度，正在重试…";
        window.setTimeout(poll, Math.min(10000, 1000 * failures));
      });
  }
  window.setTimeout(poll, 500);
})();
