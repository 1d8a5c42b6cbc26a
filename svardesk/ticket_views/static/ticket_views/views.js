// Ticket lists: quick filters submit on change, "select all", the bulk bar's selection
// count, confirmations. Document-level listeners, installed once however often htmx swaps.
(function () {
  "use strict";
  if (window.svardeskViews) return;
  window.svardeskViews = true;

  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = target.closest && target.closest("form[data-autosubmit]");
    if (form && target.matches("select")) {
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
      return;
    }
    if (target.matches && target.matches("[data-select-all]")) {
      var table = target.closest("table");
      table.querySelectorAll("input[name=ticket]").forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches && (target.matches("[data-select-all]") || target.matches("input[name=ticket]"))) {
      updateBulkBar();
    }
  });

  function updateBulkBar() {
    var bar = document.getElementById("bulk-form");
    if (!bar) return;
    var selected = document.querySelectorAll("input[name=ticket]:checked").length;
    bar.classList.toggle("has-selection", selected > 0);
    var label = bar.querySelector("[data-bulk-count]");
    if (label) {
      if (!label.dataset.empty) label.dataset.empty = label.textContent;
      label.textContent = selected > 0 ? selected + " \u2713" : label.dataset.empty;
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // Open popovers close on Escape and when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.advanced-filters[open], details.column-chooser[open]").forEach(function (details) {
      if (!details.contains(event.target) && !details.querySelector(".chip")) details.open = false;
    });
  });
})();
