/* Stripe.js stand-in served by the Stripe sandbox at /v3/ (see stripe_sandbox/stripejs.py).
 * The subset hosted pages use: Stripe(pk, {stripeAccount}), elements({clientSecret,
 * appearance}), create('payment'|'card'), mount, on; for setup intents confirmSetup,
 * confirmCardSetup and retrieveSetupIntent; for payment intents confirmCardPayment,
 * handleCardAction and retrievePaymentIntent; handleNextAction for both. 3-D Secure opens
 * the sandbox's challenge page in a modal. Card fields are plain inputs in the page. */
(function () {
  "use strict";
  var script = document.currentScript;
  var API = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var MESSAGE = "stripe-sandbox:3ds-complete";
  var uid = 0;

  function IntegrationError(message) {
    var err = new Error(message);
    err.name = "IntegrationError";
    return err;
  }

  function encode(value, prefix, out) {
    if (value === undefined || value === null) return out;
    if (Array.isArray(value)) {
      value.forEach(function (v, i) { encode(v, prefix + "[" + i + "]", out); });
    } else if (typeof value === "object") {
      Object.keys(value).forEach(function (k) {
        encode(value[k], prefix ? prefix + "[" + k + "]" : k, out);
      });
    } else {
      out.push(encodeURIComponent(prefix) + "=" + encodeURIComponent(String(value)));
    }
    return out;
  }

  var KINDS = {
    seti: {path: "/v1/setup_intents/", result: "setupIntent", error: "last_setup_error",
           object: "setup_intent"},
    pi: {path: "/v1/payment_intents/", result: "paymentIntent", error: "last_payment_error",
         object: "payment_intent"}
  };

  // The intent a client secret names; `only` ("seti" or "pi") restricts the kind.
  function parseSecret(secret, method, only) {
    var match = /^((seti|pi)_[A-Za-z0-9]+)_secret_/.exec(typeof secret === "string" ? secret : "");
    if (!match || (only && match[2] !== only)) {
      var form = only === "pi" ? "pi_..._secret_..." : only === "seti" ? "seti_..._secret_..."
        : "${id}_secret_${secret}";
      throw IntegrationError("Invalid value for " + method + ": clientSecret should be a " +
        "client secret of the form " + form + ". You specified: " + secret + ".");
    }
    return {id: match[1], kind: KINDS[match[2]], secret: secret};
  }

  function answer(kind, intent) {
    var out = {};
    out[kind.result] = intent;
    return out;
  }

  // After the customer acted: a failed intent resolves {error}, as Stripe.js does.
  function settle(kind, intent) {
    var error = intent[kind.error];
    if (intent.status === "requires_payment_method" && error) {
      var out = Object.assign({}, error);
      out[kind.object] = intent;
      return {error: out};
    }
    return answer(kind, intent);
  }

  // static/elements.js (the Payment and Card Elements), inlined when served:
  /* __STRIPE_SANDBOX_ELEMENTS__ */

  // -- the 3-D Secure challenge ---------------------------------------------------------------
  function challenge(url, intent) {
    return new Promise(function (resolve) {
      ensureStyle();
      var overlay = document.createElement("div"), frame = document.createElement("iframe");
      overlay.className = "__sbx-overlay";
      overlay.setAttribute("role", "dialog");
      overlay.setAttribute("aria-modal", "true");
      overlay.setAttribute("aria-label", "3D Secure authentication");
      frame.name = "__sbx-challenge";
      frame.title = "3D Secure authentication";
      frame.src = url;
      overlay.appendChild(frame);
      document.body.appendChild(overlay);
      var origin = new URL(url, location.href).origin;
      function onMessage(ev) {
        var data = ev.data || {};
        if (ev.origin !== origin || ev.source !== frame.contentWindow) return;
        if (data.type !== MESSAGE || data.intent !== intent) return;
        window.removeEventListener("message", onMessage);
        overlay.remove();
        resolve(data);
      }
      window.addEventListener("message", onMessage);
    });
  }

  // -- Stripe ---------------------------------------------------------------------------------
  function Stripe(key, options) {
    if (typeof key !== "string" || key.indexOf("pk_") !== 0) {
      throw IntegrationError("Invalid API Key: Stripe() takes a publishable key (pk_test_...).");
    }
    options = options || {};

    function api(method, path, params) {
      var headers = {Authorization: "Bearer " + key};
      if (options.stripeAccount) headers["Stripe-Account"] = options.stripeAccount;
      var url = API + path, body = encode(params || {}, "", []).join("&"), init;
      if (method === "GET") {
        url += body ? "?" + body : "";
        init = {method: method, headers: headers};
      } else {
        headers["Content-Type"] = "application/x-www-form-urlencoded";
        init = {method: method, headers: headers, body: body};
      }
      return fetch(url, init).then(function (r) { return r.json(); }).catch(function () {
        return {error: {type: "api_connection_error",
                        message: "We could not connect to the Stripe sandbox at " + API + "."}};
      });
    }

    function retrieve(target) {
      return api("GET", target.kind.path + target.id, {client_secret: target.secret});
    }

    function handleActions(target, intent) {
      var next = intent.status === "requires_action" && intent.next_action;
      var url = next && (next.type === "use_stripe_sdk" ? next.use_stripe_sdk.stripe_js
        : next.type === "redirect_to_url" ? next.redirect_to_url.url : null);
      if (!url) return Promise.resolve(settle(target.kind, intent));
      return challenge(url, intent.id).then(function () {
        return retrieve(target);
      }).then(function (body) { return body.error ? {error: body.error} : settle(target.kind, body); });
    }

    function confirm(target, params, handle) {
      params.client_secret = target.secret;
      params.use_stripe_sdk = true;
      return api("POST", target.kind.path + target.id + "/confirm", params).then(function (body) {
        if (body.error) return {error: body.error};
        return handle === false ? answer(target.kind, body) : handleActions(target, body);
      });
    }

    // The card of confirmCardSetup / confirmCardPayment: a payment method id or an Element.
    function cardParams(data) {
      var pm = data.payment_method, params = {};
      if (typeof pm === "string") {
        params.payment_method = pm;
      } else if (pm && pm.card instanceof Element) {
        var invalid = pm.card._validate();
        if (invalid) return {error: invalid};
        params.payment_method_data = pm.card._paymentMethodData(pm.billing_details);
      }
      if (data.return_url) params.return_url = data.return_url;
      return {params: params};
    }

    function retrieveAs(secret, method, only) {
      var target = parseSecret(secret, method, only);
      return retrieve(target).then(function (body) {
        return body.error ? {error: body.error} : answer(target.kind, body);
      });
    }

    function handleFor(secret, method, only) {
      var target = parseSecret(secret, method, only);
      return retrieve(target).then(function (body) {
        return body.error ? {error: body.error} : handleActions(target, body);
      });
    }

    return {
      elements: function (opts) { return new Elements(this, opts); },
      retrieveSetupIntent: function (secret) {
        return retrieveAs(secret, "stripe.retrieveSetupIntent", "seti");
      },
      retrievePaymentIntent: function (secret) {
        return retrieveAs(secret, "stripe.retrievePaymentIntent", "pi");
      },
      handleNextAction: function (args) {
        return handleFor((args || {}).clientSecret, "stripe.handleNextAction");
      },
      handleCardAction: function (secret) {
        return handleFor(secret, "stripe.handleCardAction", "pi");
      },
      confirmSetup: function (args) {
        args = args || {};
        var elements = args.elements, confirmParams = args.confirmParams || {};
        var redirect = args.redirect || "always", returnUrl = confirmParams.return_url;
        var secret = args.clientSecret || (elements && elements._options.clientSecret);
        var element = elements && elements._element();
        if (!element) throw IntegrationError("stripe.confirmSetup(): pass the `elements` " +
                                             "you created the Payment Element from.");
        if (redirect !== "if_required" && !returnUrl) {
          throw IntegrationError("stripe.confirmSetup(): the `confirmParams.return_url` " +
                                 "argument is required unless passing `redirect: 'if_required'`");
        }
        var target = parseSecret(secret, "stripe.confirmSetup", "seti");
        var invalid = element._validate();
        if (invalid) return Promise.resolve({error: invalid});
        var pmData = confirmParams.payment_method_data || {};
        var params = {payment_method_data: element._paymentMethodData(pmData.billing_details)};
        if (returnUrl) params.return_url = returnUrl;
        return confirm(target, params).then(function (res) {
          if (res.error || redirect === "if_required") return res;
          var si = res.setupIntent;
          location.assign(returnUrl + (returnUrl.indexOf("?") < 0 ? "?" : "&") +
            encode({setup_intent: si.id, setup_intent_client_secret: secret,
                    redirect_status: "succeeded"}, "", []).join("&"));
          return new Promise(function () {});  // the page is going away
        });
      },
      confirmCardSetup: function (secret, data, opts) {
        var target = parseSecret(secret, "stripe.confirmCardSetup", "seti");
        var built = cardParams(data || {});
        if (built.error) return Promise.resolve({error: built.error});
        return confirm(target, built.params, (opts || {}).handleActions !== false);
      },
      confirmCardPayment: function (secret, data, opts) {
        var target = parseSecret(secret, "stripe.confirmCardPayment", "pi");
        var built = cardParams(data || {});
        if (built.error) return Promise.resolve({error: built.error});
        return confirm(target, built.params, (opts || {}).handleActions !== false);
      }
    };
  }

  window.Stripe = Stripe;
})();
