/* Every hosted page that can open in a merchant's modal (?embed=modal): it tells the
 * merchant's page how it ended with postMessage({type: "backstop:close", outcome}) and
 * how tall it is ({type: "backstop:resize", height}). Buttons with data-outcome end the
 * modal with that outcome; #close ends it as "closed"; a page with {changed: true} in
 * its config reports {type: "backstop:changed"} first. Plain ES5, no build step. */
(function () {
  "use strict";
  var node = document.getElementById("frame-config");
  var cfg = node ? JSON.parse(node.textContent) : {};
  var inFrame = !!cfg.modal && window.parent !== window;

  function tell(outcome) {
    if (inFrame) window.parent.postMessage({type: "backstop:close", outcome: outcome}, "*");
  }
  window.BackstopFrame = {inFrame: inFrame, tell: tell};
  // A page showing the result of a change (the portal's notices) says so, so that
  // closing the modal later counts as an update.
  if (inFrame && cfg.changed) window.parent.postMessage({type: "backstop:changed"}, "*");

  var close = document.getElementById("close");
  if (close) close.addEventListener("click", function () { tell("closed"); });
  var ends = document.querySelectorAll("[data-outcome]");
  for (var i = 0; i < ends.length; i++) {
    ends[i].addEventListener("click", function () { tell(this.getAttribute("data-outcome")); });
  }
  if (inFrame && window.ResizeObserver) {
    new ResizeObserver(function () {
      window.parent.postMessage({type: "backstop:resize",
                                 height: document.documentElement.scrollHeight}, "*");
    }).observe(document.body);
  }
})();
