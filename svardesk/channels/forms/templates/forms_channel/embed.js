// Svardesk form: shows the form in a frame where this script tag is, sized to its content.
(function () {
  "use strict";
  var origin = "{{ origin|escapejs }}";
  var script = document.currentScript;
  if (!script) return;
  var frame = document.createElement("iframe");
  var lang = script.getAttribute("data-lang") || (document.documentElement.lang || "").slice(0, 2);
  var src = "{{ src|escapejs }}?embed=1";
  if (lang === "sv" || lang === "en") src += "&lang=" + lang;
  frame.src = src;
  frame.title = "{{ title|escapejs }}";
  frame.setAttribute("loading", "lazy");
  frame.style.width = "100%";
  frame.style.minHeight = "320px";
  frame.style.border = "0";
  frame.style.display = "block";
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (!data || data.type !== "svardesk-form:height") return;
    var height = Number(data.height);
    if (height > 0 && height < 20000) frame.style.height = Math.ceil(height) + "px";
  });
})();
