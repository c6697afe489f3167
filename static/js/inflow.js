// Every page: what markup cannot say under a Content-Security-Policy with no inline style.
"use strict";
(function () {
  // A progress bar's width comes from its data-percent (0-100): setting the style from a script is
  // allowed, a style="" attribute in the markup is not.
  document.querySelectorAll("[data-percent]").forEach(function (bar) {
    var percent = Math.max(0, Math.min(100, Number(bar.dataset.percent) || 0));
    bar.style.width = percent + "%";
  });
})();
