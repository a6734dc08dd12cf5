/* Backstop on a merchant's page (DESIGN §8).
 *
 *   <script src="https://<backstop>/hosted/static/embed.js"></script>
 *   Backstop.paymentWall({workspace, customer, timestamp, signature, dismissible,
 *                         onUpdated, onClose, onCurrent, onError});
 *   Backstop.cancel({workspace, customer, subscription, timestamp, signature,
 *                    onSaved, onCancelled, onClose, onError});
 *   Backstop.portal({workspace, customer, timestamp, signature, mode,
 *                    onUpdated, onClose, onError});
 *
 * The call goes to the Backstop this script was loaded from. A customer with a failed
 * payment gets the wall in a full-screen overlay; the page in it tells us how it ended
 * with postMessage({type: "backstop:close", outcome}). With no callbacks at all the
 * page reloads once the overlay closes. The cancel flow calls onSaved or onCancelled for
 * its outcome, then onClose(outcome) whatever it was ("saved", "cancelled", "closed").
 * The portal opens in a wider overlay (or, with mode: "tab", a new tab); when the
 * customer changed anything there, closing it calls onUpdated, then onClose("updated").
 * Plain ES5, no build step. */
(function (window, document) {
  "use strict";
  if (window.Backstop && window.Backstop.portal) return;  // loaded twice

  // currentScript is null once this file has run (and in some loaders): read it now.
  var script = document.currentScript ||
    document.querySelector('script[src*="/hosted/static/embed.js"]');
  var origin = new URL(script.src, window.location.href).origin;
  var CALLBACKS = ["onUpdated", "onClose", "onCurrent", "onError", "onSaved", "onCancelled"];
  var OUTCOMES = {updated: "onUpdated", closed: "onClose", saved: "onSaved", cancelled: "onCancelled"};
  var Z_TOP = "2147483647";

  function hasCallbacks(opts) {
    for (var i = 0; i < CALLBACKS.length; i++) {
      if (typeof opts[CALLBACKS[i]] === "function") return true;
    }
    return false;
  }

  function call(opts, name, arg) {
    if (typeof opts[name] === "function") opts[name](arg);
    else if (name === "onError" && window.console) window.console.warn("Backstop:", arg);
  }

  function post(endpoint, body, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", origin + "/api/embed/" + endpoint);
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.onload = function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
      done(xhr.status, answer || {});
    };
    xhr.onerror = function () { done(0, {error: "Backstop could not be reached"}); };
    xhr.send(JSON.stringify(body));
  }

  function withModal(url) {
    return url + (url.indexOf("?") === -1 ? "?" : "&") + "embed=modal";
  }

  function style(el, rules) {
    for (var key in rules) if (rules.hasOwnProperty(key)) el.style[key] = rules[key];
  }

  /* The overlay: one at a time, the page behind it does not scroll, and it goes away
   * only when the framed page says so (a hard wall has no close button of its own). */
  function overlay(url, title, onEnd, width) {
    var frameUrl = withModal(url);
    var frameOrigin = new URL(frameUrl, window.location.href).origin;
    var shade = document.createElement("div");
    shade.setAttribute("data-backstop", "overlay");
    shade.setAttribute("role", "dialog");
    shade.setAttribute("aria-modal", "true");
    shade.setAttribute("aria-label", title);
    style(shade, {
      position: "fixed", top: "0", right: "0", bottom: "0", left: "0", zIndex: Z_TOP,
      display: "flex", alignItems: "center", justifyContent: "center",
      background: "rgba(17, 24, 39, 0.6)", padding: "16px", boxSizing: "border-box"
    });
    var frame = document.createElement("iframe");
    frame.src = frameUrl;
    frame.title = title;
    frame.setAttribute("allow", "payment");
    var small = window.innerWidth < 520;
    style(frame, {
      border: "0", background: "#fff", display: "block",
      width: small ? "100%" : (width || 460) + "px", maxWidth: "100%",
      height: small ? "100%" : "min(720px, 100%)",
      borderRadius: small ? "0" : "14px",
      boxShadow: "0 20px 50px rgba(0, 0, 0, 0.3)"
    });
    if (small) style(shade, {padding: "0"});
    shade.appendChild(frame);

    var body = document.body;
    var overflow = body.style.overflow;
    body.style.overflow = "hidden";
    body.appendChild(shade);
    frame.focus();

    var changed = false;
    function onMessage(event) {
      if (event.source !== frame.contentWindow || event.origin !== frameOrigin) return;
      var data = event.data;
      if (data && data.type === "backstop:changed") {
        changed = true;  // the portal changed something: closing it is an update
        return;
      }
      if (data && data.type === "backstop:resize" && !small && data.height > 0) {
        // Fit the page in the frame, within the window: no blank band under short states.
        frame.style.height = Math.min(Math.ceil(data.height), window.innerHeight - 32) + "px";
        return;
      }
      if (!data || data.type !== "backstop:close") return;
      window.removeEventListener("message", onMessage);
      if (shade.parentNode) shade.parentNode.removeChild(shade);
      body.style.overflow = overflow;
      onEnd(changed && data.outcome === "closed" ? "updated" : data.outcome);
    }
    window.addEventListener("message", onMessage);
  }

  /* Everything the embeds share: ask Backstop, then open what it answers or tell the
   * merchant's page why not. ``fields`` are what the endpoint signs and reads. */
  function open(endpoint, fields, opts, title, closeAlways, width) {
    opts = opts || {};
    var reloadAfter = !hasCallbacks(opts);
    // A new tab must open in the click itself (popup blockers): open it blank now and
    // send it on once Backstop answers.
    var tab = opts.mode === "tab" ? window.open("", "_blank") : null;
    post(endpoint, fields, function (status, answer) {
      if (tab) {
        if (status === 200 && answer.url) {
          tab.location.href = answer.url;
          return;
        }
        tab.close();
      }
      if (status === 200 && answer.url) {
        overlay(answer.url, title, function (outcome) {
          if (reloadAfter) {
            window.location.reload();
            return;
          }
          var named = OUTCOMES[outcome] || "onClose";
          call(opts, named, outcome);
          if (closeAlways && named !== "onClose") call(opts, "onClose", outcome);
        }, width);
      } else if (status === 200 && answer.status === "current") {
        call(opts, "onCurrent");
      } else {
        call(opts, "onError", {status: status, error: answer.error || "unexpected answer"});
      }
    });
  }

  function auth(opts) {
    return {
      workspace: opts.workspace,
      customer: opts.customer,
      timestamp: opts.timestamp,
      signature: opts.signature
    };
  }

  window.Backstop = {
    paymentWall: function (opts) {
      opts = opts || {};
      var fields = auth(opts);
      fields.dismissible = opts.dismissible === true;
      open("payment-wall", fields, opts, "Update your payment method");
    },
    cancel: function (opts) {
      opts = opts || {};
      var fields = auth(opts);
      fields.subscription = opts.subscription;
      open("cancel", fields, opts, "Cancel your subscription", true);
    },
    portal: function (opts) {
      opts = opts || {};
      open("portal", auth(opts), opts, "Billing", true, 720);
    }
  };
})(window, document);
