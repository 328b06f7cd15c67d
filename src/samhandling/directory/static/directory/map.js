// Quick filter for the municipality list on the service map index. Without JavaScript the
// "Filter" button sends the text to the server, which narrows the list instead.
(function () {
  "use strict";
  const form = document.querySelector("[data-map-chooser]");
  if (!form) return;
  const input = form.querySelector("[data-map-filter]");
  const select = form.querySelector("[data-map-select]");
  const status = form.querySelector("[data-map-filter-status]");
  if (!input || !select) return;
  const placeholder = select.options[0].cloneNode(true);
  const groups = Array.from(select.querySelectorAll("optgroup")).map(function (group) {
    return { label: group.label, options: Array.from(group.children).map(function (o) { return o.cloneNode(true); }) };
  });
  const statusTemplate = { one: status ? status.dataset.one : "", many: status ? status.dataset.many : "" };
  form.classList.add("js-map-live");

  function normalise(text) {
    return text.toLocaleLowerCase("nb").normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function apply() {
    const needle = normalise(input.value.trim());
    const chosen = select.value;
    select.replaceChildren(placeholder.cloneNode(true));
    let count = 0;
    groups.forEach(function (group) {
      const groupMatches = needle && normalise(group.label).includes(needle);
      const keep = group.options.filter(function (option) {
        return !needle || groupMatches || normalise(option.textContent + " " + (option.dataset.names || "")).includes(needle);
      });
      if (!keep.length) return;
      const element = document.createElement("optgroup");
      element.label = group.label;
      keep.forEach(function (option) {
        const copy = option.cloneNode(true);
        copy.selected = copy.value === chosen;
        element.appendChild(copy);
      });
      select.appendChild(element);
      count += keep.length;
    });
    if (count === 1) select.options[1].selected = true;
    if (status) {
      status.textContent = needle ? (count === 1 ? statusTemplate.one : statusTemplate.many).replace("%(count)s", count) : "";
    }
  }

  input.addEventListener("input", apply);
  input.addEventListener("keydown", function (event) {
    // Enter in the filter keeps the list, not a submit that would lose the typed text.
    if (event.key === "Enter" && !select.value) { event.preventDefault(); apply(); select.focus(); }
  });
})();
