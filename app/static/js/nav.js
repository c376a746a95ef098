// Navigation drop-downs (<details class="nav-group">): one open at a time, closed by a click elsewhere
// or Escape. Without this script they still open and close by their own summary.
(function () {
  "use strict";
  const groups = () => document.querySelectorAll("details.nav-group");
  document.addEventListener("toggle", (event) => {
    const opened = event.target;
    if (!(opened instanceof HTMLDetailsElement) || !opened.classList.contains("nav-group") || !opened.open) return;
    groups().forEach((g) => { if (g !== opened) g.open = false; });
  }, true);
  document.addEventListener("click", (event) => {
    groups().forEach((g) => { if (g.open && !g.contains(event.target)) g.open = false; });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") groups().forEach((g) => { g.open = false; });
  });
})();
