// Svardesk workspace behaviour: htmx settings, keyboard shortcuts, live updates.
(function () {
  "use strict";

  // --- Which page made a change: every request says "<this tab>:<request number>"
  // (X-Svardesk-Origin); the live update of a change it made carries that back to this user's
  // sockets (workspace/live.py). What the response then swapped in is remembered, so the page
  // can tell whether its own response already shows the change (conversations.js).
  var tabId = (function () {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  })();
  var requestCount = 0;
  var answered = {};  // origin -> "detail" | "thread" (what its swap replaced), newest 50
  var answeredOrder = [];
  document.addEventListener("htmx:configRequest", function (event) {
    requestCount += 1;
    event.detail.headers["X-Svardesk-Origin"] = tabId + ":" + requestCount;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var config = event.detail.requestConfig;
    var origin = config && config.headers && config.headers["X-Svardesk-Origin"];
    var target = event.detail.target;
    if (!origin || !target) return;
    var kind = null;
    if (target.id === "ticket-detail") kind = "detail:" + (target.dataset.ticketId || "");
    else {
      var thread = /^thread-/.test(target.id || "") ? target : target.closest && target.closest("[id^='thread-']");
      if (thread) kind = "thread:" + thread.id.slice("thread-".length);
    }
    if (!kind) return;
    answered[origin] = kind;
    answeredOrder.push(origin);
    if (answeredOrder.length > 50) delete answered[answeredOrder.shift()];
  });
  // What this page's own request `origin` swapped in for ticket `ticketId`: "detail" (the
  // whole ticket), "thread" (its conversation only) or null (not this page's, or nothing).
  window.svardeskOwnAnswer = function (origin, ticketId) {
    if (!origin || origin.split(":")[0] !== tabId) return null;
    var kind = answered[origin];
    if (!kind) return null;
    var parts = kind.split(":");
    return parts[1] === String(ticketId) ? parts[0] : null;
  };
  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      // Validation errors (422) and stale edits (409) carry a page fragment to show.
      htmx.config.responseHandling = [
        { code: "204", swap: false },
        { code: "[23]..", swap: true },
        { code: "409", swap: true, error: false },
        { code: "422", swap: true, error: false },
        { code: "[45]..", swap: false, error: true },
      ];
    }
    connectLiveUpdates();
  });

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    toast(status === 403 ? gettextOr("no-access") : gettextOr("failed"));
  });

  function gettextOr(key) {
    var el = document.getElementById("i18n-strings");
    if (!el) return key;
    try { return JSON.parse(el.textContent)[key] || key; } catch (e) { return key; }
  }

  function toast(text) {
    var host = document.getElementById("toasts");
    if (!host || !text) return;
    var div = document.createElement("div");
    div.className = "toast";
    div.textContent = text;
    host.appendChild(div);
    setTimeout(function () { div.remove(); }, 4500);
  }
  window.svardeskToast = toast;

  document.addEventListener("svardesk:toast", function (event) { toast(event.detail.value || event.detail); });

  // --- Live updates: the socket only says "ticket N changed"; pages refetch what they show.
  function connectLiveUpdates() {
    var shell = document.querySelector("[data-ws-url]");
    if (!shell || !("WebSocket" in window)) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var pending = null;
    var socket;
    var delay = 1000;
    var openedAt = 0;
    var rescoped = false;
    function open() {
      socket = new WebSocket(scheme + location.host + shell.dataset.wsUrl);
      socket.onopen = function () {
        delay = 1000;
        openedAt = Date.now();
        document.body.dispatchEvent(new CustomEvent("svardesk:live-open", { bubbles: true }));
        if (rescoped) {
          // Changes outside the old scope were not announced: refetch what the page lists.
          rescoped = false;
          document.body.dispatchEvent(new CustomEvent("svardesk:tickets-changed", { bubbles: true }));
        }
      };
      socket.onmessage = function (event) {
        // Presence and per-ticket notices for the conversation (conversations.js).
        var data = {};
        try { data = JSON.parse(event.data); } catch (e) { data = {}; }
        if (data.type && data.type !== "ticket.changed") {
          document.body.dispatchEvent(new CustomEvent("svardesk:live", { bubbles: true, detail: data }));
          return;
        }
        if (data.ticket_id) {
          document.body.dispatchEvent(new CustomEvent("svardesk:ticket-changed", { bubbles: true, detail: {
            ticketId: data.ticket_id, origin: data.origin || null, version: data.version, stageId: data.stage_id,
          } }));
        }
        if (pending) return;
        pending = setTimeout(function () {
          pending = null;
          document.body.dispatchEvent(new CustomEvent("svardesk:tickets-changed", { bubbles: true }));
        }, 400);
      };
      socket.onclose = function (event) {
        if (event.code === 4403) return;  // may no longer use the workspace (consumers.py)
        if (event.code === 4001 && Date.now() - openedAt > 5000) {
          // The user's permissions changed: reconnect soon for the new scope, spread over
          // a moment (a team's members are all closed at once). A socket that lived only
          // briefly backs off as any other would.
          rescoped = true;
          setTimeout(open, 500 + Math.random() * 1500);
          return;
        }
        rescoped = rescoped || event.code === 4001;
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    window.svardeskLiveSend = function (message) {
      if (!socket || socket.readyState !== 1) return false;
      socket.send(JSON.stringify(message));
      return true;
    };
    open();
  }

  // --- Keyboard shortcuts
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable=true]");
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".ticket-row")); }
  function selectRow(index) {
    var all = rows();
    if (!all.length) return;
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (r) { r.classList.remove("is-selected"); r.removeAttribute("aria-selected"); });
    all[index].classList.add("is-selected");
    all[index].setAttribute("aria-selected", "true");
    all[index].scrollIntoView({ block: "nearest" });
  }
  function selectedIndex() {
    return rows().findIndex(function (r) { return r.classList.contains("is-selected"); });
  }
  function closeOverlays() {
    var panel = document.getElementById("panel");
    if (panel && panel.innerHTML.trim()) { panel.innerHTML = ""; return true; }
    var dialog = document.getElementById("shortcuts");
    if (dialog && !dialog.hidden) { dialog.hidden = true; return true; }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.metaKey || event.ctrlKey || event.altKey) return;
    if (event.key === "Escape") {
      if (closeOverlays()) return;
      if (typing(event.target)) { event.target.blur(); return; }
      var back = document.querySelector("[data-back-to-list]");
      if (back) back.click();
      return;
    }
    if (typing(event.target)) return;
    var key = event.key;
    if (key === "/") { event.preventDefault(); var s = document.getElementById("global-search"); if (s) s.focus(); }
    else if (key === "j") { selectRow(selectedIndex() + 1); }
    else if (key === "k") { selectRow(selectedIndex() - 1); }
    else if (key === "Enter") {
      var i = selectedIndex();
      if (i >= 0) { var link = rows()[i].querySelector("a.ticket-link"); if (link) link.click(); }
    }
    else if (key === "?") { var d = document.getElementById("shortcuts"); if (d) { d.hidden = false; d.querySelector("button").focus(); } }
    else if (key === "a") { var mine = document.querySelector("[data-assign-to-me]"); if (mine) mine.click(); }
    else if (key === "n") { var c = document.querySelector("[data-shortcut=n]"); if (c) c.click(); }
  });

  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-dialog]");
    if (close) { close.closest(".dialog-backdrop").hidden = true; }
    var closePanel = event.target.closest("[data-close-panel]");
    if (closePanel) { document.getElementById("panel").innerHTML = ""; }
    var row = event.target.closest(".ticket-row");
    if (row && !event.target.closest("a, input, button, label")) {
      var link = row.querySelector("a.ticket-link");
      if (link) link.click();
    }
  });

  // --- Remote images in a message: the thread shows none (the page's policy allows only our
  // own images). "Load images" shows that one message in a sandboxed frame whose own policy
  // allows them; the choice holds for the message until the page is reloaded.
  var imagesLoaded = {};
  function fitFrame(frame) {
    var doc = frame.contentDocument;
    if (doc && doc.body) frame.style.height = Math.ceil(doc.body.getBoundingClientRect().height) + "px";
  }
  function showMessageImages(button) {
    var card = button.closest(".msg-card");
    var body = card && card.querySelector(".msg-body");
    if (!body || card.querySelector("iframe.msg-frame")) return;
    var frame = document.createElement("iframe");
    frame.className = "msg-frame";
    frame.setAttribute("sandbox", "allow-same-origin allow-popups allow-popups-to-escape-sandbox");
    frame.setAttribute("referrerpolicy", "no-referrer");
    frame.title = button.dataset.frameTitle || "";
    frame.addEventListener("load", function () {
      fitFrame(frame);
      var doc = frame.contentDocument;
      if (doc) doc.addEventListener("toggle", function () { fitFrame(frame); }, true);
    });
    if ("ResizeObserver" in window) new ResizeObserver(function () { fitFrame(frame); }).observe(frame);
    frame.src = button.dataset.loadImages;
    card.querySelectorAll(".msg-body, .msg-quoted, [data-remote-images]").forEach(function (el) { el.hidden = true; });
    body.parentNode.insertBefore(frame, body);
    imagesLoaded[button.dataset.messageId] = true;
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-load-images]");
    if (button) showMessageImages(button);
  });
  document.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("[data-load-images]").forEach(function (button) {
      if (imagesLoaded[button.dataset.messageId]) showMessageImages(button);
    });
  });

  // Header selects save on change; the version travels with every edit.
  document.addEventListener("htmx:afterSwap", function () {
    var first = document.querySelector("#panel [autofocus]");
    if (first) first.focus();
  });
})();
