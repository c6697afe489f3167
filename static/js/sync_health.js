// Sync health: the header checkbox ticks every error on the page; "all on every page" greys the row boxes.
(function () {
  "use strict";
  var form = document.querySelector("[data-error-form]");
  if (!form) return;
  var rows = function () { return form.querySelectorAll('input[name="ids"]'); };
  var page = form.querySelector("[data-select-page]");
  var every = form.querySelector("[data-every]");
  if (page) {
    page.addEventListener("change", function () {
      rows().forEach(function (box) { box.checked = page.checked; });
    });
  }
  if (every) {
    every.addEventListener("change", function () {
      rows().forEach(function (box) { box.checked = every.checked; box.disabled = every.checked; });
      if (page) { page.checked = every.checked; page.disabled = every.checked; }
    });
  }
})();
