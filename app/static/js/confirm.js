// Irreversible actions ask first: a form (or its submit button) with data-confirm="…" shows that
// question and is sent only when the user agrees. Loaded on every page from base.html (no inline script).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
