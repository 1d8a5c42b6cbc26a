/* Settings → Webhooks: after an action redraws a webhook (on/off, test event, new secret,
   Retry now), focus moves to the notice saying what happened, so keyboard and screen-reader
   users hear the outcome instead of losing their place with the button they pressed. */
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function () {
    var notice = document.querySelector("#webhook [data-autofocus]");
    if (notice && document.activeElement !== notice) {
      notice.focus();
    }
  });
})();
