// Record forms: repeated rows (a contact's emails and phone numbers). "Add" copies the
// fieldset's <template> row; "Remove" drops a row (the last one is emptied instead).
(function () {
  "use strict";
  if (window.svardeskRecordRows) return; // loaded once, whatever the page swaps
  window.svardeskRecordRows = true;

  function renumber(fieldset) {
    var radios = fieldset.querySelectorAll('[data-row] input[type="radio"]');
    for (var i = 0; i < radios.length; i++) radios[i].value = String(i);
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      var fieldset = add.closest("[data-rows]");
      var template = fieldset.querySelector("template[data-row-template]");
      var row = template.content.firstElementChild.cloneNode(true);
      add.parentNode.insertBefore(row, add);
      renumber(fieldset);
      var input = row.querySelector("input:not([type=radio])");
      if (input) input.focus();
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var set = remove.closest("[data-rows]");
      var rows = set.querySelectorAll("[data-row]");
      var current = remove.closest("[data-row]");
      if (rows.length <= 1) {
        var field = current.querySelector("input:not([type=radio])");
        if (field) field.value = "";
      } else {
        var wasChecked = current.querySelector('input[type="radio"]:checked');
        current.remove();
        if (wasChecked) {
          var first = set.querySelector('[data-row] input[type="radio"]');
          if (first) first.checked = true;
        }
      }
      renumber(set);
    }
  });
})();
