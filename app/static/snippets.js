/* Copy buttons (data-copy="<id of the text to copy>") and the Show/Hide button of a
 * secret field (#reveal for #embed-secret). Plain ES5, no build step. */
(function () {
  "use strict";
  var reveal = document.getElementById("reveal");
  if (reveal) reveal.addEventListener("click", function () {
    var input = document.getElementById("embed-secret");
    var hidden = input.type === "password";
    input.type = hidden ? "text" : "password";
    reveal.textContent = hidden ? "Hide" : "Show";
  });
  var buttons = document.querySelectorAll("[data-copy]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function () {
      var button = this;
      var source = document.getElementById(button.getAttribute("data-copy"));
      var text = source.value !== undefined ? source.value : source.textContent;
      navigator.clipboard.writeText(text).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 1500);
      });
    });
  }
  // "How should it open?": show the chosen variant's instructions only.
  var choices = document.querySelectorAll("input[name=open-as]");
  function show() {
    var chosen = document.querySelector("input[name=open-as]:checked");
    var parts = document.querySelectorAll("[data-open-as]");
    for (var j = 0; j < parts.length; j++) {
      parts[j].hidden = !chosen || parts[j].getAttribute("data-open-as") !== chosen.value;
    }
  }
  for (var k = 0; k < choices.length; k++) choices[k].addEventListener("change", show);
  if (choices.length) show();
})();
