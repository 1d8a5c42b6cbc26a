// The ticket sidebar's association cards: "Add" opens the card's search (a record picker,
// records/picker.js); its "Create …" option opens the short form under it, filled with what
// was typed; "Cancel" closes it again. A [data-reveal] button shows or hides the element
// it controls (the Create ticket panel's new contact and company).
(function () {
  "use strict";

  function addArea(button) {
    return document.getElementById(button.getAttribute("aria-controls"));
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-card-toggle]");
    if (toggle) {
      var area = addArea(toggle);
      var opening = area.hidden;
      area.hidden = !opening;
      toggle.setAttribute("aria-expanded", opening ? "true" : "false");
      if (opening) {
        var input = area.querySelector("[data-picker-input]");
        if (input) input.focus();
      }
      return;
    }
    var reveal = event.target.closest && event.target.closest("[data-reveal]");
    if (reveal) {
      var target = document.getElementById(reveal.getAttribute("aria-controls"));
      target.hidden = !target.hidden;
      reveal.setAttribute("aria-expanded", target.hidden ? "false" : "true");
      if (!target.hidden) target.querySelector("input").focus();
      return;
    }
    var cancel = event.target.closest && event.target.closest("[data-card-cancel]");
    if (cancel) {
      var form = cancel.closest("form");
      form.hidden = true;
      var picker = form.parentNode.querySelector("[data-picker-input]");
      if (picker) picker.focus();
    }
  });

  // A picker's "Create “…”" option: open the form its host names, with the text put where it
  // fits (an address in the email field, a domain in the domain field, else the name).
  document.addEventListener("picker:create", function (event) {
    var host = event.target.closest("[data-create-target]");
    if (!host) return;
    var form = document.querySelector(host.dataset.createTarget);
    if (!form) return;
    form.hidden = false;
    var opener = document.querySelector('[aria-controls="' + form.id + '"][data-reveal]');
    if (opener) opener.setAttribute("aria-expanded", "true");
    var text = event.detail.text || "";
    var kind = text.indexOf("@") > 0 ? "email" : (/^[^\s]+\.[a-z]{2,}$/i.test(text) ? "domain" : "text");
    var target = form.querySelector('[data-fill="' + kind + '"]') || form.querySelector('[data-fill="text"]');
    if (target) target.value = text;
    var inputs = Array.prototype.slice.call(form.querySelectorAll("input:not([type=hidden])"));
    var empty = inputs.filter(function (input) { return !input.value; })[0];
    (empty || inputs[0]).focus();
  });
})();
