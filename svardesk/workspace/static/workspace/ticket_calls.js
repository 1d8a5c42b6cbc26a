// Log a call: once the call is logged the dialog closes (the response empties #panel) and
// the focus, which was inside it, goes back to the ticket's "…" menu button instead of the
// page's start, so a keyboard user continues where they were.
(function () {
  "use strict";
  if (window.svardeskTicketCalls) return;
  window.svardeskTicketCalls = true;
  document.addEventListener("htmx:afterSettle", function (event) {
    var config = event.detail.requestConfig;
    if (!config || config.verb !== "post" || !/\/calls\/new\/$/.test(config.path || "")) return;
    var panel = document.getElementById("panel");
    if (!panel || panel.innerHTML.trim()) return;  // errors: the dialog stays open
    var menu = document.querySelector("#ticket-detail details.ticket-menu summary");
    if (menu) menu.focus();
  });
})();
