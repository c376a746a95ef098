// Long pickers (an area list has ~215 entries) get a search box: typing a name or a code hides the
// options that do not match and selects the first one that does. Without script the plain list stays.
(function () {
  var THRESHOLD = 20;

  function enhance(select) {
    if (select.multiple || select.options.length < THRESHOLD || select.dataset.searchable === "off") {
      return;
    }
    var box = document.createElement("input");
    box.type = "search";
    box.className = "select-search";
    box.placeholder = "输入名称或代码筛选（共 " + select.options.length + " 项）";
    box.setAttribute("aria-label", "筛选下拉选项");
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () {
      var query = box.value.trim().toLowerCase();
      var first = null;
      for (var i = 0; i < select.options.length; i++) {
        var option = select.options[i];
        var hit = !query || option.text.toLowerCase().indexOf(query) >= 0 || option.value.indexOf(query) === 0;
        option.hidden = !hit;
        if (hit && query && first === null) {
          first = option;
        }
      }
      if (first !== null) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  function run() {
    document.querySelectorAll("select").forEach(enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
