  /* Elements for the Stripe.js stand-in: the Payment Element and the Card Element as plain
   * inputs in the page, their validation, formatting and look. stripejs.py inlines this
   * file into stripe.js, inside its closure (it uses IntegrationError and uid from there,
   * and stripe.js uses Element and Elements from here). */
  // -- validation and formatting of the card fields ----------------------------------------
  function digits(s) { return String(s || "").replace(/\D/g, ""); }
  function isAmex(number) { return /^3[47]/.test(number); }
  function brandOf(n) {
    if (isAmex(n)) return "amex";
    if (/^4/.test(n)) return "visa";
    if (/^(5[1-5]|2[2-7])/.test(n)) return "mastercard";
    if (/^6/.test(n)) return "discover";
    return "unknown";
  }
  function luhn(number) {
    var sum = 0;
    for (var i = 0; i < number.length; i++) {
      var d = +number[number.length - 1 - i];
      if (i % 2) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return number.length >= 12 && sum % 10 === 0;
  }
  var FORMAT = {
    cardnumber: function (v) {
      var n = digits(v).slice(0, isAmex(digits(v)) ? 15 : 19);
      var groups = isAmex(n) ? [4, 6, 5] : [4, 4, 4, 4, 3];
      var out = [], at = 0;
      groups.forEach(function (g) { if (at < n.length) out.push(n.slice(at, at += g)); });
      return out.join(" ");
    },
    "exp-date": function (v) {
      var n = digits(v);
      if (/^[2-9]$/.test(n[0] || "")) n = "0" + n;
      n = n.slice(0, 4);
      return n.length > 2 ? n.slice(0, 2) + " / " + n.slice(2) : n;
    },
    cvc: function (v) { return digits(v).slice(0, 4); },
    postal: function (v) { return String(v || "").slice(0, 10); }
  };
  function fail(code, message, field) {
    return {type: "validation_error", code: code, message: message, field: field};
  }
  function check(v) {
    var number = digits(v.cardnumber), exp = digits(v["exp-date"]), cvc = digits(v.cvc);
    var now = new Date(), month = +exp.slice(0, 2), year = 2000 + +exp.slice(2, 4);
    if (number.length < (isAmex(number) ? 15 : 16)) {
      return fail("incomplete_number", "Your card number is incomplete.", "cardnumber");
    }
    if (!luhn(number)) return fail("invalid_number", "Your card number is invalid.", "cardnumber");
    if (exp.length < 4) {
      return fail("incomplete_expiry", "Your card's expiration date is incomplete.", "exp-date");
    }
    if (month < 1 || month > 12) {
      return fail("invalid_expiry_month", "Your card's expiration date is invalid.", "exp-date");
    }
    if (year < now.getFullYear()) {
      return fail("invalid_expiry_year_past", "Your card's expiration year is in the past.",
                  "exp-date");
    }
    if (year === now.getFullYear() && month < now.getMonth() + 1) {
      return fail("invalid_expiry_month_past", "Your card's expiration date is in the past.",
                  "exp-date");
    }
    if (cvc.length < (isAmex(number) ? 4 : 3)) {
      return fail("incomplete_cvc", "Your card's security code is incomplete.", "cvc");
    }
    if (!String(v.postal || "").trim()) {
      return fail("incomplete_zip", "Your postal code is incomplete.", "postal");
    }
    return null;
  }

  // -- look ---------------------------------------------------------------------------------
  var CSS = __STRIPE_SANDBOX_CSS__;  // static/stripe.css, inlined when served
  var CARD_ICON = '<svg width="20" height="14" viewBox="0 0 20 14" aria-hidden="true">' +
    '<rect x=".75" y=".75" width="18.5" height="12.5" rx="2" fill="none" ' +
    'stroke="currentColor" stroke-width="1.5"/><rect x="1" y="3.5" width="18" height="2.5" ' +
    'fill="currentColor"/></svg>';
  var THEMES = {night: {colorBackground: "#30313d", colorText: "#ffffff",
                        colorPrimary: "#0570de", colorBorder: "#424353"}};
  var VARS = {colorPrimary: "--sbx-primary", colorBackground: "--sbx-bg",
              colorText: "--sbx-text", colorDanger: "--sbx-danger", colorBorder: "--sbx-border",
              borderRadius: "--sbx-radius", fontFamily: "--sbx-font"};
  function ensureStyle() {
    if (document.getElementById("__sbx-style")) return;
    var style = document.createElement("style");
    style.id = "__sbx-style";
    style.textContent = CSS;
    document.head.appendChild(style);
  }

  // -- elements -----------------------------------------------------------------------------
  var FIELDS = [
    ["cardnumber", "Card number", "1234 1234 1234 1234", "cc-number", "numeric"],
    ["exp-date", "Expiration date", "MM / YY", "cc-exp", "numeric"],
    ["cvc", "Security code", "CVC", "cc-csc", "numeric"],
    ["postal", "Postal code", "12345", "postal-code", "text"]
  ];

  function Element(type, options, group) {
    this._type = type;
    this._options = options || {};
    this._group = group;
    this._handlers = {};
    this._inputs = {};
    this._touched = {};
    this._root = null;
  }
  Element.prototype.on = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push(handler);
    return this;
  };
  Element.prototype.off = function (event, handler) {
    this._handlers[event] = (this._handlers[event] || []).filter(function (h) {
      return handler && h !== handler;
    });
    return this;
  };
  Element.prototype._emit = function (event, payload) {
    (this._handlers[event] || []).forEach(function (h) { h(payload); });
  };
  Element.prototype.mount = function (target) {
    var node = typeof target === "string" ? document.querySelector(target) : target;
    if (!node) {
      throw IntegrationError("The selector you specified (" + target + ") applies to no DOM " +
        "elements that are currently on the page. Make sure the element exists on the page " +
        "before calling mount().");
    }
    ensureStyle();
    var self = this, id = "__sbx-" + (++uid), root = document.createElement("div");
    var appearance = this._group._options.appearance || {};
    var vars = Object.assign({}, THEMES[appearance.theme] || {}, appearance.variables || {});
    root.className = "__sbx " + (this._type === "card" ? "__sbx-card" : "__sbx-payment");
    Object.keys(vars).forEach(function (k) {
      if (VARS[k]) root.style.setProperty(VARS[k], vars[k]);
    });
    var card = this._type === "card";
    var html = card ? '<div class="__sbx-row">' + CARD_ICON
      : '<div class="__sbx-tab">' + CARD_ICON + '<span>Card</span></div><div class="__sbx-grid">';
    FIELDS.forEach(function (f) {
      var wide = f[0] === "cardnumber" || f[0] === "postal" ? " __sbx-wide" : "";
      html += '<div class="__sbx-field __sbx-f-' + f[0] + wide + '"><label for="' + id + "-" +
        f[0] + '">' + f[1] + '</label><input id="' + id + "-" + f[0] + '" name="' + f[0] +
        '" placeholder="' + f[2] + '" autocomplete="' + f[3] + '" inputmode="' + f[4] +
        '" aria-invalid="false" spellcheck="false"></div>';
    });
    html += '</div><div class="__sbx-msg" role="alert" id="' + id + '-error"></div>';
    root.innerHTML = html;
    FIELDS.forEach(function (f) {
      var input = root.querySelector('[name="' + f[0] + '"]');
      input.setAttribute("aria-describedby", id + "-error");
      self._inputs[f[0]] = input;
      input.addEventListener("input", function () {
        var formatted = FORMAT[f[0]](input.value);
        if (formatted !== input.value) input.value = formatted;
        self._changed(false);
      });
      input.addEventListener("blur", function () {
        if (input.value) self._touched[f[0]] = true;
        self._changed(false);
        self._emit("blur", {elementType: self._type});
      });
      input.addEventListener("focus", function () { self._emit("focus", {elementType: self._type}); });
    });
    node.appendChild(root);
    this._root = root;
    Promise.resolve().then(function () { self._emit("ready", {elementType: self._type}); });
    return this;
  };
  Element.prototype._values = function () {
    var v = {};
    Object.keys(this._inputs).forEach(function (k) { v[k] = this._inputs[k].value; }, this);
    return v;
  };
  Element.prototype._changed = function (force) {
    var values = this._values(), error = check(values), touched = this._touched;
    var shown = error && (force || touched[error.field]) ? error : null;
    Object.keys(this._inputs).forEach(function (k) {
      this._inputs[k].setAttribute("aria-invalid", String(!!(shown && shown.field === k)));
    }, this);
    this._root.querySelector(".__sbx-msg").textContent = shown ? shown.message : "";
    var empty = !Object.keys(values).some(function (k) { return values[k]; });
    this._emit("change", {elementType: this._type, empty: empty, complete: !error,
                          brand: brandOf(digits(values.cardnumber)), value: {type: "card"},
                          error: shown ? {type: shown.type, code: shown.code,
                                          message: shown.message} : undefined});
    return error;
  };
  Element.prototype._validate = function () {
    if (!this._root) throw IntegrationError("The Element is not mounted.");
    var error = this._changed(true);
    return error && {type: error.type, code: error.code, message: error.message};
  };
  Element.prototype._paymentMethodData = function (billing) {
    var v = this._values(), exp = digits(v["exp-date"]);
    var details = Object.assign({}, billing || {});
    details.address = Object.assign({}, details.address || {}, {postal_code: v.postal.trim()});
    return {type: "card", billing_details: details,
            card: {number: digits(v.cardnumber), exp_month: +exp.slice(0, 2),
                   exp_year: 2000 + +exp.slice(2, 4), cvc: digits(v.cvc)}};
  };
  Element.prototype.unmount = function () {
    if (this._root) this._root.remove();
    this._root = null;
  };
  Element.prototype.destroy = function () { this.unmount(); delete this._group._byType[this._type]; };
  Element.prototype.focus = function () { if (this._root) this._inputs.cardnumber.focus(); };
  Element.prototype.blur = function () { if (document.activeElement) document.activeElement.blur(); };
  Element.prototype.clear = function () {
    Object.keys(this._inputs).forEach(function (k) { this._inputs[k].value = ""; }, this);
    this._touched = {};
    this._changed(false);
  };
  Element.prototype.update = function (options) { Object.assign(this._options, options || {}); };

  function Elements(stripe, options) {
    this._stripe = stripe;
    this._options = options || {};
    this._byType = {};
  }
  Elements.prototype.create = function (type, options) {
    if (type !== "payment" && type !== "card") {
      throw IntegrationError("The sandbox's Stripe.js supports only 'payment' and 'card' " +
                             "elements, not '" + type + "'.");
    }
    if (this._byType[type]) throw IntegrationError("Can only create one Element of type " + type);
    return (this._byType[type] = new Element(type, options, this));
  };
  Elements.prototype.getElement = function (type) { return this._byType[type] || null; };
  Elements.prototype.update = function (options) { Object.assign(this._options, options || {}); };
  Elements.prototype.fetchUpdates = function () { return Promise.resolve({}); };
  Elements.prototype._element = function () { return this._byType.payment || this._byType.card; };
  Elements.prototype.submit = function () {
    var el = this._element(), error = el ? el._validate() : null;
    return Promise.resolve(error ? {error: error} : {});
  };
