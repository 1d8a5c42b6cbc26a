// The ticket's conversation: the Quill reply/comment editor (tabs, drag-to-resize, Cc/Bcc,
// attachments, @mentions, drafts), live refresh of the open ticket and who else is on it.
(function () {
  "use strict";

  var HEIGHT_KEY = "svardesk.editorHeight";
  var MIN_HEIGHT = 60;
  var TYPING_EVERY_MS = 2500;
  var TYPING_SHOWN_MS = 7000;
  var VIEWING_SHOWN_MS = 75000;
  var HEARTBEAT_MS = 25000;
  var composers = new WeakSet();
  var editors = new WeakMap(); // editor element -> Quill
  var currentTicket = null;
  var presence = {}; // user id -> {name, state, until, typingUntil}
  var heartbeat = null;

  function strings(composer) {
    var el = composer.querySelector("[data-composer-i18n]");
    if (!el) return {};
    try { return JSON.parse(el.textContent); } catch (e) { return {}; }
  }

  function format(template, values) {
    return String(template || "").replace(/%\((\w+)\)s|\{(\w+)\}/g, function (m, a, b) {
      var key = a || b;
      return key in values ? values[key] : m;
    });
  }

  function storageGet(store, key) { try { return store.getItem(key); } catch (e) { return null; } }
  function storageSet(store, key, value) { try { store.setItem(key, value); } catch (e) { /* private mode */ } }
  function storageDel(store, key) { try { store.removeItem(key); } catch (e) { /* private mode */ } }

  // --- Editor ------------------------------------------------------------------------------

  function editorHtml(quill) {
    if (!quill.getText().trim()) return "";
    var html = typeof quill.getSemanticHTML === "function" ? quill.getSemanticHTML() : quill.root.innerHTML;
    // Quill 2 writes every space as &nbsp; in its semantic HTML; mail wants ordinary spaces.
    return html.replace(/&nbsp;/g, " ").replace(/\u00a0/g, " ");
  }

  function draftKey(composer, tab) { return "svardesk.draft." + composer.dataset.ticketId + "." + tab; }
  function tokenKey(composer, tab) { return draftKey(composer, tab) + ".token"; }

  // Each draft carries a token; the server stores a draft posted twice (a double click, a
  // retried request) once. A new one after each successful send.
  function newDraftToken() {
    var bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function setupEditor(composer, form, labels) {
    var el = form.querySelector("[data-editor]");
    if (!el || !window.Quill) return null;
    var tab = el.dataset.editor;
    var hidden = form.querySelector("[data-editor-html]");
    var quill = new window.Quill(el, {
      theme: "snow",
      placeholder: el.dataset.placeholder || "",
      modules: {
        toolbar: [["bold", "italic", "underline"], [{ list: "ordered" }, { list: "bullet" }], ["link", "blockquote"]],
      },
    });
    editors.set(el, quill);
    quill.root.setAttribute("role", "textbox");
    quill.root.setAttribute("aria-multiline", "true");
    quill.root.setAttribute("aria-label", el.getAttribute("aria-label") || "");
    el.removeAttribute("aria-label");
    labelToolbar(quill, labels);

    var token = form.querySelector("[data-draft-token]");
    var saved = storageGet(window.sessionStorage, draftKey(composer, tab));
    if (saved) {
      quill.clipboard.dangerouslyPasteHTML(saved);
      // A restored draft keeps its token: had it been sent before the reload, it is not sent again.
      var savedToken = storageGet(window.sessionStorage, tokenKey(composer, tab));
      if (token && savedToken) token.value = savedToken;
    }
    var saveTimer = null;
    var lastTyping = 0;
    function sync() { hidden.value = editorHtml(quill); }
    sync();
    quill.on("text-change", function (delta, old, source) {
      sync();
      clearTimeout(saveTimer);
      saveTimer = setTimeout(function () {
        if (hidden.value) {
          storageSet(window.sessionStorage, draftKey(composer, tab), hidden.value);
          if (token) storageSet(window.sessionStorage, tokenKey(composer, tab), token.value);
        } else {
          storageDel(window.sessionStorage, draftKey(composer, tab));
          storageDel(window.sessionStorage, tokenKey(composer, tab));
        }
      }, 400);
      if (source === "user" && Date.now() - lastTyping > TYPING_EVERY_MS) {
        lastTyping = Date.now();
        sendPresence("presence.typing", composer.dataset.ticketId, { tab: tab });
      }
    });
    // Ctrl/Cmd+Enter sends; runs before Quill's own Enter handling.
    el.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        event.stopPropagation();
        sync();
        form.requestSubmit();
      }
    }, true);
    form.addEventListener("submit", sync, true);
    return quill;
  }

  function labelToolbar(quill, labels) {
    var toolbar = quill.getModule("toolbar");
    if (!toolbar || !toolbar.container) return;
    var names = {
      ".ql-bold": labels.bold, ".ql-italic": labels.italic, ".ql-underline": labels.underline,
      ".ql-list[value=ordered]": labels.ordered, ".ql-list[value=bullet]": labels.bullet,
      ".ql-link": labels.link, ".ql-blockquote": labels.blockquote,
    };
    Object.keys(names).forEach(function (selector) {
      var button = toolbar.container.querySelector("button" + selector);
      if (button && names[selector]) {
        button.setAttribute("aria-label", names[selector]);
        button.setAttribute("title", names[selector]);
      }
    });
    toolbar.container.setAttribute("role", "toolbar");
  }

  function clearForm(composer, form) {
    var el = form.querySelector("[data-editor]");
    var quill = el && editors.get(el);
    if (quill) quill.setContents([], "silent");
    var hidden = form.querySelector("[data-editor-html]");
    if (hidden) hidden.value = "";
    var plain = form.querySelector("[data-plain-editor]");
    if (plain) plain.value = "";
    var files = form.querySelector("[data-attachments]");
    if (files) { files.value = ""; renderFiles(form); }
    var ids = form.querySelector("[data-mention-ids]");
    if (ids) ids.innerHTML = "";
    var errors = form.querySelector(".compose-errors");
    if (errors) errors.innerHTML = "";
    var token = form.querySelector("[data-draft-token]");
    if (token) token.value = newDraftToken();
    if (el) {
      storageDel(window.sessionStorage, draftKey(composer, el.dataset.editor));
      storageDel(window.sessionStorage, tokenKey(composer, el.dataset.editor));
    }
  }

  // --- Tabs --------------------------------------------------------------------------------

  function selectTab(composer, name, focus) {
    composer.querySelectorAll("[role=tab]").forEach(function (tab) {
      var on = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
    });
    composer.querySelectorAll("[data-pane]").forEach(function (pane) { pane.hidden = pane.dataset.pane !== name; });
    composer.classList.toggle("is-comment", name === "comment");
    if (focus) {
      var el = composer.querySelector('[data-pane="' + name + '"] [data-editor]');
      var quill = el && editors.get(el);
      if (quill) quill.focus();
      // A channel without rich text (chat) has a plain textarea instead of the editor.
      var plain = !quill && composer.querySelector('[data-pane="' + name + '"] [data-plain-editor]');
      if (plain) plain.focus();
    }
  }

  function setupPlainEditor(form) {
    var plain = form.querySelector("[data-plain-editor]");
    if (!plain) return;
    plain.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  function setupTabs(composer) {
    var tabs = Array.prototype.slice.call(composer.querySelectorAll("[role=tab]"));
    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function () { selectTab(composer, tab.dataset.tab, true); });
      tab.addEventListener("keydown", function (event) {
        if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
        var next = tabs[(index + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
        selectTab(composer, next.dataset.tab, false);
        next.focus();
      });
    });
  }

  // --- Drag to resize ----------------------------------------------------------------------

  function maxHeight() { return Math.max(MIN_HEIGHT + 40, Math.round(window.innerHeight * 0.6)); }

  function setHeight(composer, height) {
    var h = Math.max(MIN_HEIGHT, Math.min(maxHeight(), Math.round(height)));
    composer.style.setProperty("--editor-h", h + "px");
    return h;
  }

  function setupResize(composer) {
    var handle = composer.querySelector("[data-resize-handle]");
    var stored = parseInt(storageGet(window.localStorage, HEIGHT_KEY) || "", 10);
    if (stored) setHeight(composer, stored);
    if (!handle) return;
    function current() {
      var container = composer.querySelector(".composer-pane:not([hidden]) .ql-container, .composer-pane:not([hidden]) [data-plain-editor]");
      return container ? container.getBoundingClientRect().height : 120;
    }
    handle.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      var startY = event.clientY;
      var startH = current();
      var last = startH;
      composer.classList.add("is-resizing");
      handle.setPointerCapture(event.pointerId);
      function move(e) { last = setHeight(composer, startH + (startY - e.clientY)); }
      function up() {
        composer.classList.remove("is-resizing");
        handle.removeEventListener("pointermove", move);
        handle.removeEventListener("pointerup", up);
        handle.removeEventListener("pointercancel", up);
        storageSet(window.localStorage, HEIGHT_KEY, String(last));
      }
      handle.addEventListener("pointermove", move);
      handle.addEventListener("pointerup", up);
      handle.addEventListener("pointercancel", up);
    });
    handle.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
      event.preventDefault();
      var h = setHeight(composer, current() + (event.key === "ArrowUp" ? 24 : -24));
      storageSet(window.localStorage, HEIGHT_KEY, String(h));
    });
  }

  // --- Recipients and attachments -----------------------------------------------------------

  function setupCc(composer) {
    var toggle = composer.querySelector("[data-show-cc]");
    if (!toggle) return;
    toggle.addEventListener("click", function () {
      var rows = composer.querySelectorAll("[data-cc-row]");
      var show = toggle.getAttribute("aria-expanded") !== "true";
      rows.forEach(function (row) { row.hidden = !show; });
      toggle.setAttribute("aria-expanded", show ? "true" : "false");
      if (show && rows[0]) rows[0].querySelector("input").focus();
    });
  }

  function renderFiles(form) {
    var input = form.querySelector("[data-attachments]");
    var list = form.querySelector("[data-attachment-list]");
    if (!input || !list) return;
    list.innerHTML = "";
    var labels = strings(form.closest("[data-composer]"));
    Array.prototype.forEach.call(input.files || [], function (file, index) {
      var li = document.createElement("li");
      li.textContent = file.name + " ";
      var remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.setAttribute("aria-label", (labels.remove || "Remove") + " " + file.name);
      remove.addEventListener("click", function () {
        var keep = new DataTransfer();
        Array.prototype.forEach.call(input.files, function (f, i) { if (i !== index) keep.items.add(f); });
        input.files = keep.files;
        renderFiles(form);
      });
      li.appendChild(remove);
      list.appendChild(li);
    });
  }

  function setupAttachments(form) {
    var input = form.querySelector("[data-attachments]");
    if (!input) return;
    input.addEventListener("change", function () {
      var limit = parseInt(input.dataset.maxBytes || "0", 10);
      var errors = form.querySelector(".compose-errors");
      var tooBig = Array.prototype.filter.call(input.files || [], function (f) { return limit && f.size > limit; });
      if (tooBig.length) {
        errors.innerHTML = "";
        var alert = document.createElement("div");
        alert.className = "alert alert-error";
        alert.setAttribute("data-compose-errors", "");
        alert.textContent = format(input.dataset.tooBig, { name: tooBig[0].name });
        errors.appendChild(alert);
        var keep = new DataTransfer();
        Array.prototype.forEach.call(input.files, function (f) { if (!limit || f.size <= limit) keep.items.add(f); });
        input.files = keep.files;
      } else if (errors) {
        errors.innerHTML = "";
      }
      renderFiles(form);
    });
  }

  // --- @mentions ---------------------------------------------------------------------------

  function setupMentions(composer, form, quill) {
    var url = composer.dataset.mentionUrl;
    var ids = form.querySelector("[data-mention-ids]");
    if (!quill || !url || !ids) return;
    var labels = strings(composer);
    var list = document.createElement("ul");
    list.className = "mention-list";
    list.id = "mention-list-" + composer.dataset.ticketId;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", labels.mention_list || "");
    list.hidden = true;
    document.body.appendChild(list);
    quill.root.setAttribute("aria-autocomplete", "list");
    quill.root.setAttribute("aria-controls", list.id);
    quill.root.setAttribute("aria-expanded", "false");
    var state = { start: -1, query: "", results: [], active: 0, seq: 0 };
    var cache = {};
    var timer = null;

    function close() {
      list.hidden = true;
      state.start = -1;
      quill.root.setAttribute("aria-expanded", "false");
      quill.root.removeAttribute("aria-activedescendant");
    }
    function render() {
      list.innerHTML = "";
      if (!state.results.length) {
        var none = document.createElement("li");
        none.className = "mention-empty";
        none.textContent = labels.no_match || "";
        list.appendChild(none);
      }
      state.results.forEach(function (user, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + user.id;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", i === state.active ? "true" : "false");
        var avatar = document.createElement("span");
        avatar.className = "avatar avatar-sm";
        avatar.setAttribute("aria-hidden", "true");
        avatar.textContent = user.initials;
        var name = document.createElement("span");
        name.textContent = user.name;
        var mail = document.createElement("span");
        mail.className = "mention-email";
        mail.textContent = user.email;
        li.appendChild(avatar); li.appendChild(name); li.appendChild(mail);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
        list.appendChild(li);
        if (i === state.active) quill.root.setAttribute("aria-activedescendant", li.id);
      });
      var bounds = quill.getBounds(state.start);
      var box = quill.container.getBoundingClientRect();
      var top = box.top + (bounds ? bounds.bottom : 0) + 4;
      list.style.left = Math.round(box.left + (bounds ? bounds.left : 0)) + "px";
      list.hidden = false;
      var height = list.getBoundingClientRect().height;
      if (top + height > window.innerHeight - 8) top = box.top + (bounds ? bounds.top : 0) - height - 4;
      list.style.top = Math.round(Math.max(8, top)) + "px";
      quill.root.setAttribute("aria-expanded", "true");
    }
    function choose(index) {
      var user = state.results[index];
      if (!user || state.start < 0) return;
      var start = state.start;
      quill.deleteText(start, state.query.length + 1, "user");
      var text = "@" + user.name;
      quill.insertText(start, text + " ", "user");
      quill.setSelection(start + text.length + 1, 0, "user");
      if (!ids.querySelector('input[value="' + user.id + '"]')) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "mentions";
        input.value = String(user.id);
        ids.appendChild(input);
      }
      close();
    }
    function lookup(query) {
      var seq = ++state.seq;
      if (cache[query]) { state.results = cache[query]; state.active = 0; render(); return; }
      fetch(url + "?q=" + encodeURIComponent(query), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) {
          cache[query] = data.results || [];
          if (seq !== state.seq || state.start < 0) return;
          state.results = cache[query];
          state.active = 0;
          render();
        })
        .catch(function () { close(); });
    }
    quill.on("text-change", function (delta, old, source) {
      if (source !== "user") return;
      var range = quill.getSelection();
      if (!range) { close(); return; }
      var before = quill.getText(Math.max(0, range.index - 40), Math.min(40, range.index));
      var match = /(^|\s)@([^\s@]{0,30})$/.exec(before);
      if (!match) { close(); return; }
      state.query = match[2];
      state.start = range.index - match[2].length - 1;
      clearTimeout(timer);
      timer = setTimeout(function () { lookup(state.query); }, 120);
    });
    quill.on("selection-change", function (range) { if (!range) setTimeout(close, 150); });
    quill.container.parentNode.addEventListener("keydown", function (event) {
      if (list.hidden || state.start < 0) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!state.results.length) return;
        event.preventDefault(); event.stopPropagation();
        var step = event.key === "ArrowDown" ? 1 : state.results.length - 1;
        state.active = (state.active + step) % state.results.length;
        render();
      } else if ((event.key === "Enter" || event.key === "Tab") && state.results.length && !event.ctrlKey && !event.metaKey) {
        event.preventDefault(); event.stopPropagation();
        choose(state.active);
      } else if (event.key === "Escape") {
        event.preventDefault(); event.stopPropagation();
        close();
      }
    }, true);
  }

  // --- Presence: who else is on this ticket ---------------------------------------------------

  function sendPresence(type, ticketId, extra) {
    if (!window.svardeskLiveSend || !ticketId) return false;
    var message = { type: type, ticket_id: parseInt(ticketId, 10) };
    Object.keys(extra || {}).forEach(function (k) { message[k] = extra[k]; });
    return window.svardeskLiveSend(message);
  }

  function openTicketId() {
    var composer = document.querySelector("[data-composer]");
    return composer ? composer.dataset.ticketId : null;
  }

  function trackTicket() {
    var id = openTicketId();
    if (id === currentTicket) return;
    if (currentTicket) sendPresence("presence.leave", currentTicket);
    currentTicket = id;
    presence = {};
    renderPresence();
    clearInterval(heartbeat);
    if (!id) return;
    sendPresence("presence.join", id, { ask: true });
    heartbeat = setInterval(function () {
      sendPresence("presence.join", currentTicket, { ask: false });
      renderPresence();
    }, HEARTBEAT_MS);
  }

  function renderPresence() {
    var composer = document.querySelector("[data-composer]");
    var box = composer && composer.querySelector("[data-presence]");
    if (!box) return;
    var labels = strings(composer);
    var now = Date.now();
    var viewing = [], replying = [], commenting = [];
    Object.keys(presence).forEach(function (uid) {
      var p = presence[uid];
      if (p.until < now) { delete presence[uid]; return; }
      if (p.typingUntil <= now) viewing.push(p.name);
      else if (p.typingState === "commenting") commenting.push(p.name);
      else replying.push(p.name);
    });
    box.innerHTML = "";
    box.classList.toggle("is-replying", replying.length + commenting.length > 0);
    if (!viewing.length && !replying.length && !commenting.length) return;
    var dot = document.createElement("span");
    dot.className = "presence-dot";
    dot.setAttribute("aria-hidden", "true");
    box.appendChild(dot);
    var text = document.createElement("span");
    var parts = [];
    if (replying.length) parts.push(format(labels.replying, { names: replying.join(", ") }));
    if (commenting.length) parts.push(format(labels.commenting, { names: commenting.join(", ") }));
    if (viewing.length) parts.push(format(labels.viewing, { names: viewing.join(", ") }));
    text.textContent = parts.join(" · ");
    box.appendChild(text);
  }

  document.addEventListener("svardesk:live", function (event) {
    var data = event.detail || {};
    if (data.type !== "presence" || String(data.ticket_id) !== String(currentTicket)) return;
    var composer = document.querySelector("[data-composer]");
    if (composer && String(data.user_id) === composer.dataset.userId) return; // my other tabs
    var now = Date.now();
    if (data.state === "left") {
      delete presence[data.user_id];
    } else {
      var entry = presence[data.user_id] || { name: data.name, typingUntil: 0 };
      entry.name = data.name;
      entry.until = now + VIEWING_SHOWN_MS;
      if (data.state === "replying" || data.state === "commenting") {
        entry.typingState = data.state;
        entry.typingUntil = now + TYPING_SHOWN_MS;
        setTimeout(renderPresence, TYPING_SHOWN_MS + 100);
      }
      presence[data.user_id] = entry;
      if (data.ask) sendPresence("presence.join", currentTicket, { ask: false });
    }
    renderPresence();
  });
  document.addEventListener("svardesk:live-open", function () {
    if (currentTicket) sendPresence("presence.join", currentTicket, { ask: true });
  });

  // --- Live refresh of the open ticket ------------------------------------------------------

  var refreshTimer = null;
  var changesToShow = [];  // the announcements the next refresh answers
  document.addEventListener("svardesk:ticket-changed", function (event) {
    var id = event.detail && String(event.detail.ticketId);
    if (!id || id !== openTicketId() || !window.htmx) return;
    changesToShow.push(event.detail);
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () { refreshTicket(id); }, 250);
  });

  // A change this page made itself, whose response already shows it (app.js remembers what
  // each of its requests swapped in): nothing to fetch. A reply on a live channel answers with
  // the new message alone; the rest of what it changed in the header (the stage, the version
  // every header edit is checked against) comes with the announcement and is set in place.
  // Anything else — another user's change, another tab's, a response that did not land —
  // fetches the ticket as before.
  function shownByOwnResponse(change, id) {
    var detail = document.getElementById("ticket-detail");
    var answer = window.svardeskOwnAnswer ? window.svardeskOwnAnswer(change.origin, id) : null;
    if (!answer || !detail || detail.dataset.ticketId !== id) return false;
    if (typeof change.version !== "number") return answer === "detail";
    var shown = parseInt(detail.dataset.version, 10);
    if (change.version <= shown) return true;
    return answer === "thread" && setHeader(detail, change);
  }

  function setHeader(detail, change) {
    var stage = detail.querySelector(".ticket-header #hdr-stage");
    if (typeof change.stageId === "number" && stage && stage.value !== String(change.stageId)) {
      if (document.activeElement === stage) return false;  // being edited: fetch instead
      if (!stage.querySelector('option[value="' + change.stageId + '"]')) return false;
      stage.value = String(change.stageId);  // no "change" event: nothing is posted
    }
    var version = String(change.version);
    detail.dataset.version = version;
    detail.querySelectorAll('.ticket-header input[name="version"]').forEach(function (input) { input.value = version; });
    detail.querySelectorAll(".ticket-header [hx-vals]").forEach(function (el) {
      try {
        var vals = JSON.parse(el.getAttribute("hx-vals"));
        if (vals && "version" in vals) { vals.version = version; el.setAttribute("hx-vals", JSON.stringify(vals)); }
      } catch (e) { /* not JSON: left as it is */ }
    });
    return true;
  }

  // A reply, comment or header edit on its way is answered with the whole ticket. A refresh
  // swapped in before that answer would leave it aimed at a replaced element, and the reply
  // editor (carried from swap to swap, hx-preserve) would be lost with it: so no refresh
  // lands while one is on its way, and the refresh swaps into the element on the page then.
  function detailBusy() {
    return !!document.querySelector("#ticket-detail .htmx-request, #ticket-detail.htmx-request");
  }

  function rememberScroll() {
    var scroller = document.querySelector(".ticket-detail > .conversation");
    if (scroller) scrollMemo = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
  }

  function refreshTicket(id) {
    var detail = document.getElementById("ticket-detail");
    var thread = document.getElementById("thread-" + id);
    if (!detail || !thread) return;
    if (detailBusy()) {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(function () { refreshTicket(id); }, 500);
      return;
    }
    var changes = changesToShow;
    changesToShow = [];
    var own = changes.length > 0 && changes.every(function (change) {
      return String(change.ticketId) === id && shownByOwnResponse(change, id);
    });
    if (own) return;
    // While someone edits the header or a property, refresh only the conversation.
    var busy = document.activeElement && document.activeElement.closest(".ticket-header, .details-sidebar form");
    if (busy) {
      window.htmx.ajax("GET", thread.dataset.threadUrl, { target: "#thread-" + id, swap: "outerHTML" });
      return;
    }
    window.fetch("/tickets/" + id + "/", { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || id !== openTicketId()) return;
        if (detailBusy()) { refreshTimer = setTimeout(function () { refreshTicket(id); }, 500); return; }
        var current = document.getElementById("ticket-detail");
        if (!current) return;
        rememberScroll();
        window.htmx.swap(current, html, { swapStyle: "outerHTML" });
      })
      .catch(function () { /* the next change refreshes it */ });
  }

  var scrollMemo = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || !(target.id === "ticket-detail" || /^thread-/.test(target.id))) return;
    var scroller = document.querySelector(".ticket-detail > .conversation");
    if (!scroller) return;
    scrollMemo = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
  });

  function restoreScroll() {
    var scroller = document.querySelector(".ticket-detail > .conversation");
    if (!scroller) return;
    var fromBottom = scrollMemo === null ? 0 : scrollMemo;
    // Near the end (or a first view): follow the newest message.
    if (fromBottom < 120) scroller.scrollTop = scroller.scrollHeight;
    else scroller.scrollTop = scroller.scrollHeight - scroller.clientHeight - fromBottom;
    scrollMemo = null;
  }

  // --- Wiring ------------------------------------------------------------------------------

  function init(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-composer]").forEach(function (composer) {
      if (composers.has(composer)) return;
      composers.add(composer);
      var labels = strings(composer);
      setupTabs(composer);
      setupResize(composer);
      setupCc(composer);
      composer.querySelectorAll("form[data-compose]").forEach(function (form) {
        var quill = setupEditor(composer, form, labels);
        setupPlainEditor(form);
        setupAttachments(form);
        if (form.dataset.compose === "comment") setupMentions(composer, form, quill);
      });
    });
    if (root.querySelector && (root.querySelector(".ticket-detail") || root.id === "ticket-detail" || /^thread-/.test(root.id || ""))) {
      restoreScroll();
    }
    trackTicket();
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-compose]")) return;
    if (event.detail.successful && event.detail.xhr && event.detail.xhr.status < 300) {
      var composer = form.closest("[data-composer]");
      if (composer) clearForm(composer, form);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.metaKey || event.ctrlKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable=true]")) return;
    if (event.key !== "r" && event.key !== "c") return;
    var composer = document.querySelector("[data-composer]");
    if (!composer) return;
    event.preventDefault();
    selectTab(composer, event.key === "r" ? "reply" : "comment", true);
  });

  document.addEventListener("htmx:load", function (event) { init(event.detail.elt || document); });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  window.addEventListener("pageshow", function () { trackTicket(); });
})();
