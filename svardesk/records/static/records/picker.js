// Record pickers: a text box that searches as you type (150 ms after the last key) and a
// list of options under it — a WAI-ARIA combobox. ArrowDown/ArrowUp move through the
// options, Enter picks one, Escape closes the list. Picking sets the hidden input (and fires
// "change" on it, so a form listening for changes saves); the "Create …" option fires
// "picker:create" with the typed text for the place to offer a short form.
(function () {
  "use strict";

  var DELAY = 150;
  var timers = new WeakMap();
  var requests = new WeakMap();

  function parts(element) {
    var picker = element.closest("[data-picker]");
    if (!picker) return null;
    return {
      picker: picker,
      input: picker.querySelector("[data-picker-input]"),
      value: picker.querySelector("[data-picker-value]"),
      list: picker.querySelector('[role="listbox"]'),
    };
  }

  function options(p) {
    return Array.prototype.slice.call(
      p.list.querySelectorAll('[role="option"]:not([aria-disabled="true"])')
    );
  }

  function open(p) {
    p.list.hidden = false;
    p.input.setAttribute("aria-expanded", "true");
  }

  function close(p) {
    p.list.hidden = true;
    p.input.setAttribute("aria-expanded", "false");
    p.input.removeAttribute("aria-activedescendant");
  }

  function highlight(p, option) {
    options(p).forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
    if (option) {
      p.input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      p.input.removeAttribute("aria-activedescendant");
    }
  }

  function current(p) {
    return p.list.querySelector('[role="option"][aria-selected="true"]');
  }

  function search(p) {
    var url = new URL(p.picker.dataset.url, window.location.href);
    url.searchParams.set("q", p.input.value);
    if (p.picker.hasAttribute("data-can-create")) url.searchParams.set("create", "1");
    var previous = requests.get(p.picker);
    if (previous) previous.abort();
    var controller = new AbortController();
    requests.set(p.picker, controller);
    p.picker.setAttribute("aria-busy", "true");
    fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin", signal: controller.signal })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        p.picker.removeAttribute("aria-busy");
        // Keep the option the keyboard was on when newer results arrive and it is still
        // among them; otherwise start on the first.
        var was = current(p);
        var wasId = was && !p.list.hidden ? was.dataset.id : null;
        p.list.innerHTML = html;
        var fresh = options(p);
        fresh.forEach(function (o, i) { o.id = p.list.id + "-" + i; });
        open(p);
        var kept = wasId && fresh.filter(function (o) { return o.dataset.id === wasId; })[0];
        highlight(p, kept || fresh[0] || null);
      })
      .catch(function () { p.picker.removeAttribute("aria-busy"); });
  }

  function choose(p, option) {
    if (!option) return;
    close(p);
    if (option.hasAttribute("data-create")) {
      p.picker.dispatchEvent(new CustomEvent("picker:create", {
        bubbles: true, detail: { text: option.dataset.create, type: p.picker.dataset.type },
      }));
      return;
    }
    p.value.value = option.dataset.id;
    p.input.value = option.dataset.label;
    p.input.dataset.chosen = option.dataset.label;
    p.value.dispatchEvent(new Event("change", { bubbles: true }));
    p.picker.dispatchEvent(new CustomEvent("picker:pick", {
      bubbles: true, detail: { id: option.dataset.id, label: option.dataset.label },
    }));
    if (p.picker.hasAttribute("data-submit-on-pick")) {
      var form = p.picker.closest("form");
      if (form) form.requestSubmit();
    }
  }

  document.addEventListener("input", function (event) {
    if (!event.target.matches || !event.target.matches("[data-picker-input]")) return;
    var p = parts(event.target);
    // Typing after a choice forgets it until another option is picked.
    if (p.value.value && p.input.value !== p.input.dataset.chosen) p.value.value = "";
    clearTimeout(timers.get(p.picker));
    // Busy from the key press on, not only once the search leaves: the list shown is not yet
    // the answer to what is typed.
    p.picker.setAttribute("aria-busy", "true");
    timers.set(p.picker, setTimeout(function () { search(p); }, DELAY));
  });

  document.addEventListener("focusin", function (event) {
    if (!event.target.matches || !event.target.matches("[data-picker-input]")) return;
    var p = parts(event.target);
    if (!p.input.dataset.chosen && p.value.value) p.input.dataset.chosen = p.input.value;
  });

  document.addEventListener("keydown", function (event) {
    if (!event.target.matches || !event.target.matches("[data-picker-input]")) return;
    var p = parts(event.target);
    var list = options(p);
    var index = list.indexOf(current(p));
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (p.list.hidden) { search(p); return; }
      highlight(p, list[Math.min(index + 1, list.length - 1)] || null);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (!p.list.hidden) highlight(p, list[Math.max(index - 1, 0)] || null);
    } else if (event.key === "Enter") {
      if (p.list.hidden) {
        // Enter in an empty search box must not submit a form with nothing chosen.
        if (!p.value.value) event.preventDefault();
        return;
      }
      event.preventDefault();
      choose(p, current(p));
    } else if (event.key === "Escape") {
      if (!p.list.hidden) {
        event.preventDefault();
        event.stopPropagation();
        close(p);
      }
    }
  }, true);

  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest && event.target.closest('[data-picker] [role="option"]');
    if (!option || option.getAttribute("aria-disabled") === "true") return;
    event.preventDefault(); // keep the focus in the text box
    choose(parts(option), option);
  });

  document.addEventListener("click", function (event) {
    var clear = event.target.closest && event.target.closest("[data-picker-clear]");
    if (clear) {
      var p = parts(clear);
      p.value.value = "";
      p.input.value = "";
      p.input.dataset.chosen = "";
      p.value.dispatchEvent(new Event("change", { bubbles: true }));
      p.input.focus();
    }
  });

  // The text box's own "change" is not a choice: a form saving on change must not post it.
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-picker-input]")) event.stopPropagation();
  }, true);

  document.addEventListener("focusout", function (event) {
    if (!event.target.matches || !event.target.matches("[data-picker-input]")) return;
    var p = parts(event.target);
    setTimeout(function () { if (document.activeElement !== p.input) close(p); }, 100);
  });
})();
