/* The hosted card-update page and payment wall: Stripe Elements collects the card
 * (Backstop never sees it), then Backstop makes it the default and pays what is due.
 * frame.js, loaded first, talks to the merchant's page when it opens in a modal.
 * Every sentence it shows comes translated from the page (cfg.messages) or the server. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("frame-config").textContent);
  var inFrame = window.BackstopFrame.inFrame, tell = window.BackstopFrame.tell;
  if (!cfg.clientSecret) return;
  var say = cfg.messages;

  var form = document.getElementById("card-form");
  var button = document.getElementById("submit");
  var errorBox = document.getElementById("card-error");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var stripe = Stripe(cfg.key, cfg.account ? {stripeAccount: cfg.account} : {});
  var elements, payment;

  function mount(secret) {
    if (payment) payment.destroy();
    elements = stripe.elements({clientSecret: secret, appearance: {variables: {colorPrimary: cfg.color}}});
    payment = elements.create("payment");
    payment.mount("#payment-element");
  }

  function busy(on) {
    button.disabled = on;
    button.classList.toggle("busy", on);
  }

  function fail(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    busy(false);
  }

  function done(message) {
    document.getElementById("form-view").hidden = true;
    document.getElementById("done-view").hidden = false;
    document.getElementById("done-text").textContent = message;
    if (!inFrame) return;
    // Let the customer read the confirmation before the merchant's page takes over.
    var next = document.getElementById("continue");
    next.hidden = false;
    next.addEventListener("click", function () { tell("updated"); });
    setTimeout(function () { tell("updated"); }, 2500);
  }

  function complete(body) {
    return fetch(cfg.complete, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(body)
    }).then(function (r) { return r.json(); }).then(handle, function () {
      fail(say.offline);
    });
  }

  function handle(res) {
    if (res.state === "paid" || res.state === "updated" || res.state === "already_paid") {
      done(res.message);
    } else if (res.state === "requires_action") {
      stripe.handleNextAction({clientSecret: res.client_secret}).then(function (r) {
        if (r.error) fail(r.error.message || say.bankRefused);
        else complete({payment_confirmed: true});
      });
    } else {
      if (res.client_secret) mount(res.client_secret);  // a fresh SetupIntent for the next card
      fail(res.message || say.failed);
    }
  }

  var confirm = document.getElementById("confirm");
  if (confirm && cfg.confirmSecret) {
    confirm.addEventListener("click", function () {
      var box = document.getElementById("confirm-error");
      box.hidden = true;
      confirm.disabled = true;
      stripe.handleNextAction({clientSecret: cfg.confirmSecret}).then(function (r) {
        confirm.disabled = false;
        if (r.error) {
          box.textContent = r.error.message || say.bankRefused;
          box.hidden = false;
        } else {
          complete({payment_confirmed: true});
        }
      });
    });
  }

  mount(cfg.clientSecret);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    errorBox.hidden = true;
    busy(true);
    stripe.confirmSetup({elements: elements, redirect: "if_required"}).then(function (res) {
      if (res.error) fail(res.error.message || say.declined);
      else complete({setup_intent: res.setupIntent.id});
    });
  });
})();
