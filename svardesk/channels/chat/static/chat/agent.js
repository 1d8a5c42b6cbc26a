// The chat's typing indicators on the ticket page: the visitor's typing shown above the reply
// editor, the agent's typing sent to the visitor. One socket, /ws/chat-agent/<conversation>/,
// for the chat the page shows (docs/chat.md). Loaded by the reply editor of a chat
// conversation (ChatAdapter.agent_script); the conversation id comes from the script tag's
// data-conversation-id, or from any element with data-chat-conversation-id or, in the
// composer, data-conversation-id. Safe to load twice (HTMX swaps).
(function () {
  "use strict";
  if (window.svardeskChatAgent) { window.svardeskChatAgent.scan(); return; }
  var current = document.currentScript;
  var socket = null, conversationId = "", delay = 1000, lastSent = 0, idleTimer = 0, hideTimer = 0;

  function findId() {
    var scripts = document.querySelectorAll(
      "script[data-channel-script='chat'][data-conversation-id], script[src*='chat/agent.'][data-conversation-id]"
    );
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (scripts[i].getAttribute("data-conversation-id")) return scripts[i].getAttribute("data-conversation-id");
    }
    var el = document.querySelector("[data-chat-conversation-id]");
    if (el) return el.getAttribute("data-chat-conversation-id");
    el = document.querySelector("[data-composer] [data-conversation-id], [data-composer][data-conversation-id]");
    if (el) return el.getAttribute("data-conversation-id");
    return current ? current.getAttribute("data-conversation-id") || "" : "";
  }

  function indicator() {
    var el = document.querySelector("[data-chat-typing]");
    if (el) return el;
    var composer = document.querySelector("[data-composer]");
    if (!composer) return null;
    el = document.createElement("div");
    el.className = "chat-typing muted";
    el.setAttribute("data-chat-typing", "");
    el.setAttribute("aria-live", "polite");
    composer.parentNode.insertBefore(el, composer);
    return el;
  }

  function connect() {
    if (!conversationId || !/^\d+$/.test(conversationId)) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var id = conversationId;
    var ws = new WebSocket(scheme + location.host + "/ws/chat-agent/" + id + "/");
    socket = ws;
    ws.onopen = function () { delay = 1000; };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (!frame || frame.type !== "typing") return;
      var el = indicator();
      if (!el) return;
      el.textContent = frame.active ? frame.label || "" : "";
      clearTimeout(hideTimer);
      if (frame.active) hideTimer = setTimeout(function () { el.textContent = ""; }, 10000);
    };
    ws.onclose = function (event) {
      if (socket !== ws) return; // replaced by another chat's socket
      socket = null;
      if (event.code === 4403 || conversationId !== id) return;
      setTimeout(function () { if (!socket && conversationId === id) connect(); }, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  function scan() {
    var id = findId() || "";
    if (id === conversationId && (socket || !id)) return;
    conversationId = id;
    if (socket) { var old = socket; socket = null; old.close(); }
    delay = 1000;
    connect();
  }

  function send(active) {
    if (!socket || socket.readyState !== 1) return;
    socket.send(JSON.stringify({ type: "typing", active: active }));
  }

  function typed(event) {
    var form = event.target.closest && event.target.closest("[data-compose='reply']");
    if (!form || !socket) return;
    var now = Date.now();
    if (now - lastSent > 2000) { lastSent = now; send(true); }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stopped, 4000);
  }
  function stopped() {
    clearTimeout(idleTimer);
    if (lastSent) send(false);
    lastSent = 0;
  }

  document.addEventListener("input", typed, true);
  document.addEventListener("keydown", typed, true);
  document.addEventListener("submit", function (event) {
    if (event.target.closest && event.target.closest("[data-compose='reply']")) stopped();
  }, true);
  document.addEventListener("htmx:afterSettle", scan);
  window.svardeskChatAgent = { scan: scan };
  scan();
})();
