// A search box over a long <select> grouped in <optgroup>s (the timezone picker): typing
// narrows the list to the places whose name or zone contains the words typed; the chosen
// option always stays. Without JavaScript the grouped select works on its own.
(function () {
  "use strict";
  function normalise(text) {
    return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[_/,]/g, " ");
  }
  document.querySelectorAll("select[data-search]").forEach(function (select) {
    var box = document.createElement("input");
    box.type = "search";
    box.placeholder = select.getAttribute("data-search");
    box.setAttribute("aria-label", select.getAttribute("data-search"));
    box.setAttribute("aria-controls", select.id);
    box.className = "select-search";
    var count = document.createElement("div");
    count.className = "help";
    count.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(count, select.nextSibling);
    box.addEventListener("input", function () {
      var words = normalise(box.value).split(/\s+/).filter(Boolean);
      var shown = 0, first = null;
      select.querySelectorAll("optgroup").forEach(function (group) {
        var any = false;
        group.querySelectorAll("option").forEach(function (option) {
          var text = normalise(option.value + " " + option.textContent + " " + group.label);
          var match = option.selected || words.every(function (w) { return text.indexOf(w) !== -1; });
          option.hidden = !match;
          if (match) { any = true; shown += 1; if (!first && !option.selected) first = option; }
        });
        group.hidden = !any;
      });
      count.textContent = words.length ? shown + (shown === 1 ? " zone matches" : " zones match") : "";
      if (words.length && first && shown <= 2) first.selected = true;
    });
  });
})();
