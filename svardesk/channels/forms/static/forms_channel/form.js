// The hosted form: move focus to what changed (the problem list or the thank-you), and when
// shown in a frame by embed.js, tell the embedding page how tall the form is.
(function () {
  "use strict";

  function postHeight() {
    if (window.parent === window) return;
    var height = document.documentElement.scrollHeight;
    // Only a height: nothing a visitor typed leaves the frame, whoever embeds it.
    window.parent.postMessage({ type: "svardesk-form:height", height: height }, "*");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var focus = document.getElementById("form-problem") || document.getElementById("form-thanks");
    if (focus) focus.focus();
    postHeight();
    if (window.ResizeObserver) new ResizeObserver(postHeight).observe(document.body);
    window.addEventListener("resize", postHeight);
    var form = document.querySelector("form.form-body");
    if (form) {
      form.addEventListener("submit", function () {
        var button = form.querySelector(".form-submit");
        // Not disabled: a disabled button would drop its value; marked busy instead.
        if (button) button.setAttribute("aria-busy", "true");
      });
    }
  });
})();
