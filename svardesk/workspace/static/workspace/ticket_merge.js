// The ticket header's "…" menu closes when one of its items is chosen or the user clicks
// elsewhere (a <details> stays open otherwise, above the dialog the item opened).
(function () {
  "use strict";
  if (window.svardeskTicketMenu) return;
  window.svardeskTicketMenu = true;
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.ticket-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target) || event.target.closest("[role=menuitem]")) menu.open = false;
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.ticket-menu[open]").forEach(function (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    });
  });
})();
