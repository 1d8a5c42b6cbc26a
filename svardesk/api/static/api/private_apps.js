// Settings → Private apps: copy the new token, and move focus to what a swap showed.
(function () {
  "use strict";
  // Loaded again by each boosted visit of the page; the listeners are document-wide.
  if (window.svardeskPrivateApps) return;
  window.svardeskPrivateApps = true;

  function copied(button) {
    var status = document.querySelector("[data-copy-status]");
    var text = button.dataset.copied || "Copied";
    button.textContent = text;
    if (status) status.textContent = text;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-from]");
    if (!button) return;
    var input = document.getElementById(button.dataset.copyFrom);
    if (!input) return;
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { copied(button); });
    } else if (document.execCommand("copy")) {
      copied(button);
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var region = document.getElementById("private-apps");
    if (!region || !region.contains(event.detail.elt) && event.detail.elt !== region) return;
    var first = region.querySelector("[data-autofocus], input:not([type=hidden]):not([readonly])");
    if (first) first.focus();
  });
})();
