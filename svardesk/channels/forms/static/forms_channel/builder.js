// The form builder: reorder fields by dragging their handle (SortableJS), with the arrow keys
// on a focused handle, or with the up and down buttons; the order is saved with Save.
(function () {
  "use strict";

  function strings() {
    var node = document.getElementById("builder-strings");
    try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
  }

  function items(list) {
    return Array.prototype.slice.call(list.querySelectorAll(":scope > .builder-field"));
  }

  function refresh(list, moved) {
    var all = items(list);
    all.forEach(function (item, index) {
      var up = item.querySelector('[data-move="up"]');
      var down = item.querySelector('[data-move="down"]');
      if (up) up.disabled = index === 0;
      if (down) down.disabled = index === all.length - 1;
    });
    if (!moved) return;
    var announce = document.querySelector("[data-builder-announce]");
    var text = strings().moved || "Moved to position %(position)s of %(count)s.";
    if (announce) {
      announce.textContent = text
        .replace("%(position)s", String(all.indexOf(moved) + 1))
        .replace("%(count)s", String(all.length));
    }
  }

  function move(list, item, step) {
    if (step < 0) {
      var previous = item.previousElementSibling;
      if (!previous) return false;
      list.insertBefore(item, previous);
    } else {
      var next = item.nextElementSibling;
      if (!next) return false;
      list.insertBefore(next, item);
    }
    refresh(list, item);
    return true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var list = document.querySelector("[data-builder-fields]");
    if (!list) return;
    if (window.Sortable) {
      window.Sortable.create(list, {
        handle: ".field-handle",
        // Pointer events rather than the browser's drag and drop: the same on touch screens.
        forceFallback: true,
        animation: 120,
        ghostClass: "is-ghost",
        chosenClass: "is-chosen",
        onEnd: function (event) { refresh(list, event.item); },
      });
    }
    // Up and down move the field here; Save keeps the order (without JavaScript they post).
    list.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-move]");
      if (!button) return;
      event.preventDefault();
      var item = button.closest(".builder-field");
      var step = button.dataset.move === "up" ? -1 : 1;
      if (move(list, item, step)) {
        var same = item.querySelector('[data-move="' + button.dataset.move + '"]');
        (same && !same.disabled ? same : item.querySelector(".field-handle")).focus();
      }
    });
    list.addEventListener("keydown", function (event) {
      var handle = event.target.closest && event.target.closest(".field-handle");
      if (!handle || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
      event.preventDefault();
      if (move(list, handle.closest(".builder-field"), event.key === "ArrowUp" ? -1 : 1)) {
        handle.focus();
      }
    });
  });
})();
