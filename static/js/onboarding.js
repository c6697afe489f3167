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
  var blocks = document.querySelectorAll("[data-show-when]");
  if (!blocks.length) return;
  function update() {
    blocks.forEach(function (block) {
      var rule = block.getAttribute("data-show-when").split("=");
      var form = block.closest("form");
      var checked = form && form.querySelector('input[name="' + rule[0] + '"]:checked');
      block.hidden = !checked || checked.value !== rule[1];
    });
  }
  document.addEventListener("change", update);
  update();
})();
