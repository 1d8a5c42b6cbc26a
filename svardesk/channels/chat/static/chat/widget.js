/* Svardesk chat widget. Embed: <script src="https://HOST/chat/widget.js"
   data-svardesk-chat="KEY" async></script> (optional data-lang="sv").
   Protocol: docs/chat.md. Visitor and agent text is shown with textContent, never as HTML. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-svardesk-chat]");
  if (!script || script.getAttribute("data-svardesk-started")) return;
  script.setAttribute("data-svardesk-started", "1");
  var key = script.getAttribute("data-svardesk-chat") || "";
  var lang = script.getAttribute("data-lang") || document.documentElement.lang || "en";
  var base = new URL(script.src, location.href).origin;
  var storeKey = "svardesk-chat:" + key;
  var P = "svd-chat-";
  var cfg, t, ws, panel, log, form, nameIn, emailIn, textIn, sendBtn, note, typingEl, launcher;
  var token = load(), visitor = { name: "", email: "" }, seen = {}, pending = null;
  var open = false, ready = false, retry = 0, stopped = false, typingTimer = 0, lastTyping = 0;
  var byEmail = false, available = true, blockedUntil = 0;

  function load() { try { return localStorage.getItem(storeKey); } catch (e) { return null; } }
  function save(v) { try { localStorage.setItem(storeKey, v); } catch (e) { /* private mode */ } }
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = P + cls;
    if (text) n.textContent = text;
    return n;
  }
  function uid() {
    var a = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return "c-" + Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  fetch(base + "/chat/" + encodeURIComponent(key) + "/config?lang=" + encodeURIComponent(lang), {
    mode: "cors", credentials: "omit"
  }).then(function (r) { return r.ok ? r.json() : null; }).then(function (c) {
    if (!c) return; // not allowed on this website: no launcher
    cfg = c; t = c.strings; available = c.available;
    build();
    if (token) connect(); // a returning visitor: resume at once
  }).catch(function () { /* offline or refused: no launcher */ });

  function css() {
    var s = document.createElement("style");
    s.textContent =
      "." + P + "root{position:fixed;right:16px;bottom:16px;z-index:2147483000;font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328}" +
      "." + P + "root *{box-sizing:border-box;font:inherit}" +
      "." + P + "launcher{background:#2456d6;color:#fff;border:0;border-radius:24px;padding:10px 18px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.25)}" +
      "." + P + "launcher:focus-visible,." + P + "root button:focus-visible,." + P + "root input:focus-visible,." + P + "root textarea:focus-visible{outline:3px solid #f5a623;outline-offset:2px}" +
      "." + P + "panel{display:flex;flex-direction:column;width:min(360px,calc(100vw - 32px));height:min(520px,calc(100vh - 32px));background:#fff;border:1px solid #d0d7de;border-radius:10px;box-shadow:0 6px 24px rgba(0,0,0,.2);overflow:hidden}" +
      "." + P + "panel[hidden]{display:none}" +
      "." + P + "head{display:flex;align-items:center;justify-content:space-between;padding:10px 12px;background:#2456d6;color:#fff}" +
      "." + P + "head h2{margin:0;font-size:15px;font-weight:600}" +
      "." + P + "x{background:transparent;color:#fff;border:0;font-size:20px;line-height:1;cursor:pointer;padding:2px 6px}" +
      "." + P + "log{flex:1 1 auto;overflow-y:auto;padding:10px 12px;display:flex;flex-direction:column;gap:6px;min-height:60px}" +
      "." + P + "msg{max-width:85%;padding:6px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}" +
      "." + P + "visitor{align-self:flex-end;background:#2456d6;color:#fff}" +
      "." + P + "agent{align-self:flex-start;background:#eef1f4}" +
      "." + P + "who{display:block;font-size:12px;opacity:.8}" +
      "." + P + "note,." + P + "typing{font-size:12.5px;color:#57606a;padding:0 12px 4px}" +
      "." + P + "note:empty,." + P + "typing:empty{display:none}" +
      "." + P + "note.is-error{color:#b42318}" +
      "." + P + "form{border-top:1px solid #d0d7de;padding:8px 12px;display:flex;flex-direction:column;gap:6px;flex:0 0 auto}" +
      "." + P + "form label{display:block;font-size:12px;color:#57606a}" +
      "." + P + "form input,." + P + "form textarea{width:100%;border:1px solid #8c959f;border-radius:6px;padding:6px 8px;background:#fff;color:#1f2328}" +
      "." + P + "form textarea{resize:none;height:60px}" +
      "." + P + "field[hidden]{display:none}" +
      "." + P + "send{align-self:flex-end;background:#2456d6;color:#fff;border:0;border-radius:6px;padding:7px 16px;cursor:pointer}" +
      "." + P + "send:disabled{opacity:.6;cursor:default}";
    document.head.appendChild(s);
  }

  function field(name, label, input) {
    var wrap = el("div", "field"), id = P + name + "-" + uid();
    var l = el("label", "", label);
    l.htmlFor = id; input.id = id; input.name = name;
    wrap.appendChild(l); wrap.appendChild(input);
    return wrap;
  }

  function build() {
    css();
    var root = el("div", "root");
    launcher = el("button", "launcher", t.launcher);
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    panel = el("section", "panel");
    panel.hidden = true;
    panel.id = P + "panel-" + uid();
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", t.title);
    launcher.setAttribute("aria-controls", panel.id);
    var head = el("div", "head"), h = el("h2", "", t.title), x = el("button", "x", "\u00d7");
    x.type = "button"; x.setAttribute("aria-label", t.close);
    head.appendChild(h); head.appendChild(x);
    log = el("div", "log");
    log.setAttribute("role", "log"); log.setAttribute("aria-label", t.log); log.tabIndex = 0;
    typingEl = el("div", "typing"); typingEl.setAttribute("aria-live", "polite");
    note = el("div", "note"); note.setAttribute("role", "status");
    form = el("form", "form"); form.noValidate = true;
    nameIn = el("input"); nameIn.type = "text"; nameIn.autocomplete = "name"; nameIn.maxLength = 200;
    emailIn = el("input"); emailIn.type = "email"; emailIn.autocomplete = "email"; emailIn.maxLength = 254;
    textIn = el("textarea"); textIn.maxLength = cfg.max_message_chars;
    sendBtn = el("button", "send", t.send); sendBtn.type = "submit";
    form.appendChild(field("name", t.name, nameIn));
    form.appendChild(field("email", t.email, emailIn));
    form.appendChild(field("message", t.message, textIn));
    form.appendChild(sendBtn);
    panel.appendChild(head); panel.appendChild(log); panel.appendChild(typingEl);
    panel.appendChild(note); panel.appendChild(form);
    root.appendChild(panel); root.appendChild(launcher);
    document.body.appendChild(root);
    launcher.addEventListener("click", function () { toggle(!open); });
    x.addEventListener("click", function () { toggle(false); launcher.focus(); });
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { toggle(false); launcher.focus(); } });
    form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
    textIn.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); }
    });
    textIn.addEventListener("input", typing);
    fields();
    availability();
  }

  function toggle(show) {
    open = show;
    panel.hidden = !show;
    launcher.hidden = show;
    launcher.setAttribute("aria-expanded", String(show));
    if (show) {
      if (!ws) connect();
      (nameIn.parentNode.hidden ? textIn : nameIn).focus();
      log.scrollTop = log.scrollHeight;
    }
  }

  function fields() {
    // Name and email: asked before the chat (until known), offered during it, and the email
    // asked for when the answer comes by email.
    var needEmail = (byEmail || !available) && !visitor.email;
    var before = cfg.ask_details === "before" && !(visitor.name && visitor.email);
    var during = cfg.ask_details === "during" && !(visitor.name && visitor.email) && !seenVisitor();
    nameIn.parentNode.hidden = !(before || during);
    emailIn.parentNode.hidden = !(before || during || needEmail);
    if (!nameIn.value) nameIn.value = visitor.name;
    if (!emailIn.value) emailIn.value = visitor.email;
  }
  function seenVisitor() {
    for (var id in seen) if (seen[id] === "visitor") return true;
    return false;
  }

  function availability() {
    var text = "";
    if (!available && !byEmail) text = t.unavailable;
    else if (byEmail) text = visitor.email ? t.by_email : t.email_needed;
    say(text, false);
    fields();
  }

  function say(text, isError) {
    note.textContent = text || "";
    note.className = P + "note" + (isError ? " is-error" : "");
  }

  function connect() {
    if (stopped) return;
    var url = cfg.ws_url;
    try { ws = new WebSocket(url); } catch (e) { return reconnect(); }
    ready = false;
    ws.onopen = function () {
      retry = 0;
      ws.send(JSON.stringify({ type: "hello", token: token, lang: cfg.lang }));
    };
    ws.onmessage = function (e) {
      var f;
      try { f = JSON.parse(e.data); } catch (err) { return; }
      if (f && handlers[f.type]) handlers[f.type](f);
    };
    ws.onclose = function (e) {
      ws = null; ready = false;
      if (e.code === 4404) { stopped = true; return; }
      if (open) say(t.offline, false);
      reconnect();
    };
  }

  function reconnect() {
    if (stopped) return;
    var delay = Math.min(30000, 1000 * Math.pow(2, retry++)) * (0.75 + Math.random() * 0.5);
    setTimeout(connect, delay);
  }

  var handlers = {
    welcome: function (f) {
      token = f.token; save(token);
      visitor = f.visitor || visitor;
      available = f.available;
      byEmail = !!(f.chat && f.chat.open && f.chat.by_email);
      cfg.ask_details = f.ask_details; cfg.max_message_chars = f.max_message_chars;
      (f.history || []).forEach(show);
      if (f.chat && !f.chat.open && f.history && f.history.length) closedNote();
      ready = true;
      availability();
      if (pending) ws.send(JSON.stringify(pending)); // sent before a drop, never acknowledged
    },
    ack: function (f) {
      if (!pending || pending.client_id !== f.client_id) return;
      if (pending.name) visitor.name = pending.name;
      if (pending.email) visitor.email = pending.email;
      show({ id: f.id, from: "visitor", name: visitor.name, text: pending.text, at: f.at });
      if (textIn.value === pending.text) textIn.value = "";
      pending = null;
      sendBtn.disabled = false;
      byEmail = !!f.by_email;
      if (typeof f.available === "boolean") available = f.available;
      availability();
    },
    message: function (f) {
      show(f);
      if (f.from === "agent") { typingEl.textContent = ""; available = true; availability(); }
    },
    typing: function (f) {
      typingEl.textContent = f.active ? t.typing.replace("%(name)s", f.name || t.agent) : "";
      clearTimeout(typingEl.timer);
      if (f.active) typingEl.timer = setTimeout(function () { typingEl.textContent = ""; }, 10000);
    },
    details_saved: function (f) { visitor = { name: f.name, email: f.email }; availability(); },
    closed: function () { byEmail = false; closedNote(); },
    error: function (f) {
      if (f.client_id && pending && pending.client_id === f.client_id) {
        pending = null; // refused, not stored: the text stays in the box
        sendBtn.disabled = false;
        if (f.retry_after) blockedUntil = Date.now() + f.retry_after * 1000;
      }
      if (f.code === "invalid_token") { token = null; return; }
      say(f.message, true);
      if (f.code === "details_required") { visitor = { name: "", email: "" }; fields(); }
    }
  };

  function closedNote() {
    var n = el("p", "note", t.closed);
    log.appendChild(n);
    log.scrollTop = log.scrollHeight;
  }

  function show(m) {
    if (seen[m.id]) return;
    seen[m.id] = m.from;
    var row = el("div", "msg " + P + (m.from === "agent" ? "agent" : "visitor"));
    var who = el("span", "who", m.from === "agent" ? (m.name || t.agent) : t.you);
    var body = el("span", "", m.text);
    row.appendChild(who); row.appendChild(body);
    if (m.at) row.title = new Date(m.at).toLocaleString(cfg.lang);
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
    fields();
  }

  function submit() {
    var text = textIn.value.trim(), name = nameIn.value.trim(), email = emailIn.value.trim();
    if (pending) return;
    if (Date.now() < blockedUntil) return; // the error says when to try again
    if (!text) {
      if (!emailIn.parentNode.hidden && email && email !== visitor.email) return details(name, email);
      textIn.focus();
      return;
    }
    if (!nameIn.parentNode.hidden && cfg.ask_details === "before" && !(name && email)) {
      say(t.details_hint, true);
      (name ? emailIn : nameIn).focus();
      return;
    }
    pending = { type: "message", client_id: uid(), text: text };
    if (!nameIn.parentNode.hidden && name) pending.name = name;
    if (!emailIn.parentNode.hidden && email) pending.email = email;
    sendBtn.disabled = true;
    stopTyping();
    if (ws && ready) ws.send(JSON.stringify(pending));
    else { say(t.connecting, false); if (!ws) connect(); }
  }

  function details(name, email) {
    if (ws && ready) ws.send(JSON.stringify({ type: "details", name: name, email: email }));
  }

  function typing() {
    if (!ws || !ready) return;
    var now = Date.now();
    if (now - lastTyping > 2000) {
      lastTyping = now;
      ws.send(JSON.stringify({ type: "typing", active: true }));
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 3000);
  }
  function stopTyping() {
    clearTimeout(typingTimer);
    if (lastTyping && ws && ready) ws.send(JSON.stringify({ type: "typing", active: false }));
    lastTyping = 0;
  }
})();
