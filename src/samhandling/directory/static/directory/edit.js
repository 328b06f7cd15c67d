// Service edit form: "add another row" for the hours and exception formsets, and
// "closed all day" switching off the time fields of its row. The form works without it.
(function () {
  "use strict";

  function syncClosed(checkbox) {
    var row = checkbox.closest(".interval");
    if (!row) return;
    row.querySelectorAll('input[type="time"]').forEach(function (input) {
      input.disabled = checkbox.checked;
    });
  }

  function setUpFormset(box) {
    var prefix = box.getAttribute("data-formset");
    var total = box.querySelector("#id_" + prefix + "-TOTAL_FORMS");
    var max = box.querySelector("#id_" + prefix + "-MAX_NUM_FORMS");
    var template = box.querySelector("template[data-empty-row]");
    var list = box.querySelector("[data-rows]");
    var button = box.querySelector("[data-add-row]");
    if (!total || !template || !list || !button) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      if (max && index >= parseInt(max.value, 10)) return;
      var html = template.innerHTML.split("__prefix__").join(String(index));
      list.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var row = list.lastElementChild;
      var first = row && row.querySelector("input, select, textarea");
      if (first) first.focus();
    });
  }

  function init() {
    document.querySelectorAll("[data-formset]").forEach(setUpFormset);
    document.querySelectorAll("input[data-closed-toggle]").forEach(syncClosed);
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("input[data-closed-toggle]")) {
        syncClosed(event.target);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
