/* Settings → Emails: show the touches of the chosen sequence and keep a live preview of
 * the touch being edited, rendered by the server on sample data. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("email-config").textContent);
  var form = document.getElementById("email-form");
  var touchSelect = document.getElementById("preview-touch");
  var variant = document.getElementById("preview-variant");
  var frame = document.getElementById("preview-frame");
  var subject = document.getElementById("preview-subject");
  var pauseRow = document.getElementById("pause-row");
  var subjectLabel = document.getElementById("preview-subject-label");
  var timer = null, seq = 0, arm = "a";  // arm: which subject of the touch is previewed

  function sequence() {
    var checked = form.querySelector('input[name="sequence"]:checked');
    return checked ? checked.value : "standard";
  }

  function touches() {
    var checked = form.querySelector('input[name="sequence"]:checked');
    return checked ? checked.dataset.touches.split(",") : [];
  }

  function field(key, part) { return document.getElementById("copy-" + key + "-" + part); }

  function layout() {
    var keys = touches(), name = sequence(), current = touchSelect.value;
    form.querySelectorAll("fieldset.touch").forEach(function (set) {
      var key = set.dataset.touch, on = keys.indexOf(key) >= 0;
      set.hidden = !on;
      var defaults = cfg.defaults[name + ":" + key];
      if (on && defaults) {
        field(key, "subject").placeholder = defaults.subject;
        field(key, "message").placeholder = defaults.message;
      }
    });
    touchSelect.innerHTML = "";
    keys.forEach(function (key) {
      var option = document.createElement("option");
      option.value = key;
      option.textContent = key + " · day " + key.slice(1);
      touchSelect.appendChild(option);
    });
    if (document.getElementById("pause_offer_days").value) {
      var offer = document.createElement("option");
      offer.value = "pause_offer";
      offer.textContent = "pause offer";
      touchSelect.appendChild(offer);
      keys = keys.concat(["pause_offer"]);
    }
    touchSelect.value = keys.indexOf(current) >= 0 ? current : keys[0];
    pauseRow.hidden = name !== "extended";
  }

  function value(id) { return document.getElementById(id).value; }

  function refresh() {
    var key = touchSelect.value, mine = ++seq;
    if (!key) return;
    var own = field(key, "subject");  // the pause offer has no copy of the merchant's
    var b = field(key, "subject_b");
    if (own && arm === "b" && b && b.value.trim()) own = b;  // subject B's turn (its A/B test)
    subjectLabel.textContent = own && own === b ? "Subject B:" : "Subject:";
    fetch(cfg.preview, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": cfg.csrf},
      body: JSON.stringify({
        sequence: sequence(), touch: key, variant: variant.value,
        subject: own ? own.value : "", message: own ? field(key, "message").value : "",
        pause_days: value("pause_days"), pause_offer_days: value("pause_offer_days"),
        discount_percent: value("discount_percent"), discount_months: value("discount_months")
      })
    }).then(function (r) { return r.json(); }).then(function (res) {
      if (mine !== seq) return;  // an older answer arriving late
      if (res.error) { subject.textContent = res.error; return; }
      subject.textContent = res.subject;
      frame.srcdoc = res.html;
      var warning = document.getElementById("preview-warning");
      warning.textContent = (res.warnings || []).join(" ");
      warning.hidden = !(res.warnings || []).length;
    });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 200);
  }

  form.addEventListener("change", function (ev) {
    if (ev.target.name === "sequence" || ev.target.name === "pause_offer_days") layout();
    soon();
  });
  form.addEventListener("input", soon);
  form.addEventListener("focusin", function (ev) {
    var set = ev.target.closest("fieldset.touch");
    if (!set) return;
    var wanted = /-subject_b$/.test(ev.target.id || "") ? "b" : "a";
    if (touchSelect.value !== set.dataset.touch || wanted !== arm) {
      touchSelect.value = set.dataset.touch;
      arm = wanted;
      refresh();
    }
  });
  touchSelect.addEventListener("change", function () { arm = "a"; refresh(); });
  variant.addEventListener("change", refresh);
  layout();
  refresh();
})();
