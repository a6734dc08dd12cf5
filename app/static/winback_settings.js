/* Settings → Win back: show one email's copy for one reason at a time (every field stays
 * in the form), and keep a live preview of it, rendered by the server on sample data. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("winback-config").textContent);
  var form = document.getElementById("winback-form");
  var touchSelect = document.getElementById("copy-touch");
  var reasonSelect = document.getElementById("copy-reason");
  var frame = document.getElementById("preview-frame");
  var subject = document.getElementById("preview-subject");
  var warning = document.getElementById("preview-warning");
  var testButton = document.getElementById("test-send");
  var testResult = document.getElementById("test-result");
  var timer = null, seq = 0;

  function value(name) {
    var input = form.elements[name];
    return input ? input.value.trim() : "";
  }

  // The emails in the sequence: the leading days filled in (at least one).
  function count() {
    var n = 0;
    for (var i = 1; i <= 3 && value("delay_" + i) !== ""; i++) n = i;
    return Math.max(n, 1);
  }

  function field(touch, reason, part) {
    return document.getElementById("copy-" + touch + "-" + reason + "-" + part);
  }

  function layout() {
    var total = count();
    Array.prototype.forEach.call(touchSelect.options, function (option) {
      option.disabled = Number(option.value) > total;
    });
    if (Number(touchSelect.value) > total) touchSelect.value = String(total);
    var touch = touchSelect.value, reason = reasonSelect.value;
    form.querySelectorAll("fieldset.copy").forEach(function (set) {
      var n = Number(set.dataset.touch), key = set.dataset.reason;
      set.hidden = !(set.dataset.touch === touch && key === reason);
      var defaults = cfg.defaults[n + ":" + key + ":" + Math.max(total, n)];
      if (defaults) {
        field(n, key, "subject").placeholder = defaults.subject;
        field(n, key, "message").placeholder = defaults.message;
      }
    });
    document.getElementById("preview-of").textContent =
      touchSelect.options[touchSelect.selectedIndex].text + " · " + cfg.reasons[reason];
  }

  function draft() {
    var touch = Number(touchSelect.value), reason = reasonSelect.value;
    var offerTo = form.querySelector('input[name="offer_to"]:checked');
    return {
      touch: touch, count: Math.max(count(), touch), reason: reason,
      subject: field(touch, reason, "subject").value,
      message: field(touch, reason, "message").value,
      offer_percent: value("offer_percent"), offer_months: value("offer_months"),
      offer_to: offerTo ? offerTo.value : "too_expensive"
    };
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": cfg.csrf},
      body: JSON.stringify(body)
    }).then(function (r) { return r.json(); });
  }

  function refresh() {
    var mine = ++seq;
    post(cfg.preview, draft()).then(function (res) {
      if (mine !== seq) return;  // an older answer arriving late
      if (res.error) { subject.textContent = res.error; return; }
      subject.textContent = res.subject;
      frame.srcdoc = res.html;
      warning.textContent = (res.warnings || []).join(" ");
      warning.hidden = !(res.warnings || []).length;
    });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 200);
  }

  function choose() {
    layout();
    refresh();
  }

  form.addEventListener("input", function (ev) {
    if (/^delay_/.test(ev.target.name || "")) layout();
    soon();
  });
  form.addEventListener("change", soon);
  touchSelect.addEventListener("change", choose);
  reasonSelect.addEventListener("change", choose);
  if (testButton) {
    testButton.addEventListener("click", function () {
      testButton.disabled = true;
      testResult.textContent = "Sending…";
      post(cfg.test, draft()).then(function (res) {
        testResult.textContent = res.error ? res.error : "Test sent to " + res.sent_to + ".";
      }).catch(function () {
        testResult.textContent = "The test could not be sent; try again.";
      }).then(function () { testButton.disabled = false; });
    });
  }
  layout();
  refresh();
})();
