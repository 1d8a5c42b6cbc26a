// The ticket page's right sidebar: move its cards by dragging their handle (or with the
// arrow keys on a focused handle); the new order is saved for this user at once.
(function () {
  "use strict";

  var dragged = null;

  function cards(sidebar) {
    return Array.prototype.slice.call(sidebar.querySelectorAll(":scope > .sidebar-card"));
  }

  function saveOrder(sidebar) {
    var order = cards(sidebar).map(function (card) { return card.dataset.card; });
    if (!window.htmx) return;
    htmx.ajax("POST", sidebar.dataset.sidebarLayoutUrl, {
      source: sidebar,
      values: { order: order },
      swap: "none",
    });
  }

  function clearMarks(sidebar) {
    cards(sidebar).forEach(function (card) { card.classList.remove("drop-before", "drop-after"); });
  }

  // Only the handle is draggable, so text in the cards stays selectable.
  document.addEventListener("dragstart", function (event) {
    var handle = event.target.closest && event.target.closest(".card-handle");
    if (!handle) return;
    dragged = handle.closest(".sidebar-card");
    dragged.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.card);
    event.dataTransfer.setDragImage(dragged, 12, 12);
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var card = event.target.closest && event.target.closest(".sidebar-card");
    if (!card || card === dragged || card.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    var box = card.getBoundingClientRect();
    var before = event.clientY < box.top + box.height / 2;
    clearMarks(card.parentNode);
    card.classList.add(before ? "drop-before" : "drop-after");
  });

  document.addEventListener("drop", function (event) {
    if (!dragged) return;
    var card = event.target.closest && event.target.closest(".sidebar-card");
    if (!card || card === dragged || card.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    var sidebar = card.parentNode;
    var box = card.getBoundingClientRect();
    var before = event.clientY < box.top + box.height / 2;
    sidebar.insertBefore(dragged, before ? card : card.nextSibling);
    clearMarks(sidebar);
    saveOrder(sidebar);
  });

  document.addEventListener("dragend", function () {
    if (!dragged) return;
    dragged.classList.remove("dragging");
    clearMarks(dragged.parentNode);
    dragged = null;
  });

  document.addEventListener("keydown", function (event) {
    var handle = event.target.closest && event.target.closest(".card-handle");
    if (!handle || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    event.preventDefault();
    var card = handle.closest(".sidebar-card");
    var sidebar = card.parentNode;
    if (event.key === "ArrowUp") {
      var previous = card.previousElementSibling;
      if (!previous || !previous.classList.contains("sidebar-card")) return;
      sidebar.insertBefore(card, previous);
    } else {
      var next = card.nextElementSibling;
      if (!next || !next.classList.contains("sidebar-card")) return;
      sidebar.insertBefore(next, card);
    }
    handle.focus();
    saveOrder(sidebar);
  });
})();
