// Shared onboarding behaviour: a submit button disables itself so a double click sends one request
// (the server is idempotent anyway; this just spares the user a second page load).
(function () {
  "use strict";
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (!submitter || !submitter.hasAttribute("data-once")) return;
      window.setTimeout(function () {
        submitter.disabled = true;
        submitter.setAttribute("aria-busy", "true");
      }, 0);
    });
  });
})();

// Show a block only while a radio group has a given value: data-show-when="<name>=<value>".
// Without JavaScript every block stays visible, so the forms still work.
(function () {
  "use strict";
  // data-show-when-not="<name>=<value>" is the opposite: shown unless the group has that value.
  var blocks = document.querySelectorAll("[data-show-when], [data-show-when-not]");
  if (!blocks.length) return;
  function update() {
    blocks.forEach(function (block) {
      var negate = block.hasAttribute("data-show-when-not");
      var rule = block.getAttribute(negate ? "data-show-when-not" : "data-show-when").split("=");
      var form = block.closest("form");
      var checked = form && form.querySelector('input[name="' + rule[0] + '"]:checked');
      var shown = !!checked && checked.value === rule[1];
      block.hidden = negate ? !!checked && checked.value === rule[1] : !shown;
    });
  }
  document.addEventListener("change", update);
  update();
})();
