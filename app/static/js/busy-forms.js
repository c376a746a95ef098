/* A synchronous upload: show that the server is working and prevent a second submit.
   (Moved out of imports/_parts.html: the Content-Security-Policy allows no inline scripts.) */
(function () {
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      var note = form.querySelector(".busy");
      if (note) { note.hidden = false; }
    });
  });
})();
