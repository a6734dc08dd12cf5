/* The cancel-flow builder: show only the fields of the chosen offer type, and keep the
 * preview beside the step form in step with what is typed (the server renders it from
 * the unsaved form; nothing is stored). Plain ES5, no build step. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("builder-config").textContent);
  var form = document.getElementById("step-form");
  var frame = document.getElementById("step-preview");
  if (!form || !frame) return;

  var type = document.getElementById("f-type");
  function showOfferFields() {
    if (!type) return;
    var groups = form.querySelectorAll("[data-offer]");
    for (var i = 0; i < groups.length; i++) {
      var kinds = groups[i].getAttribute("data-offer").split(" ");
      groups[i].hidden = kinds.indexOf(type.value) === -1;
    }
  }

  var timer = null, sent = 0;
  // Read every field, disabled ones too (a viewer's form is disabled but still previews).
  function fields() {
    var body = new FormData();
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      if (!el.name || ((el.type === "checkbox" || el.type === "radio") && !el.checked)) continue;
      body.append(el.name, el.value);
    }
    body.set("csrf_token", cfg.csrf);
    return body;
  }

  function refresh() {
    var body = fields();
    var mine = ++sent;
    fetch(cfg.preview, {method: "POST", body: body, credentials: "same-origin"})
      .then(function (r) { return r.text(); })
      .then(function (html) { if (mine === sent) frame.srcdoc = html; });
  }
  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }
  form.addEventListener("input", soon);
  form.addEventListener("change", function () { showOfferFields(); soon(); });
  showOfferFields();
  refresh();
})();
