// The field picker: a live "N / 50" counter per object that refuses a 51st tick, a search box, and the
// object switch that turns an object's field list on and off. The server enforces the limit as well.
(function () {
  "use strict";
  var picker = document.querySelector("[data-field-picker]");
  if (!picker) return;
  var max = parseInt(picker.getAttribute("data-max"), 10) || 50;

  function refresh(card) {
    var boxes = card.querySelectorAll("input[data-field]");
    var ticked = card.querySelectorAll("input[data-field]:checked").length;
    var count = card.querySelector("[data-count]");
    card.querySelector("[data-count-n]").textContent = ticked;
    count.classList.toggle("is-full", ticked >= max);
    boxes.forEach(function (box) {
      box.disabled = !box.checked && ticked >= max;
    });
  }
  picker.querySelectorAll(".object-card").forEach(function (card) {
    var message = card.querySelector("[data-limit-message]");
    card.addEventListener("click", function (event) {
      var box = event.target;
      if (!box.matches || !box.matches("input[data-field]")) return;
      var ticked = card.querySelectorAll("input[data-field]:checked").length;
      if (box.checked && ticked > max) {
        box.checked = false;
        event.preventDefault();
      }
    });
    // A disabled checkbox swallows clicks, so catch them on its cell to explain why nothing happened.
    card.addEventListener("click", function (event) {
      var cell = event.target.closest && event.target.closest("td");
      var box = cell && cell.querySelector("input[data-field]:disabled");
      if (box) message.hidden = false;
    });
    var toggle = card.querySelector("[data-object-toggle]");
    // Several ticked fields feeding one CDP field need an order (the first with a value wins): show the
    // order inputs of exactly those fields.
    function showOrders() {
      var counts = {};
      card.querySelectorAll(".field-row").forEach(function (row) {
        var box = row.querySelector("input[data-field]");
        var target = row.querySelector("select[data-target]");
        if (box && target && box.checked) counts[target.value] = (counts[target.value] || 0) + 1;
      });
      card.querySelectorAll(".field-row").forEach(function (row) {
        var box = row.querySelector("input[data-field]");
        var target = row.querySelector("select[data-target]");
        var order = row.querySelector("[data-order]");
        if (order && target) order.hidden = !(box && box.checked && counts[target.value] > 1);
      });
    }
    if (toggle) {
      // Ticking an object with nothing chosen starts from its recommended fields.
      toggle.addEventListener("change", function () {
        if (!toggle.checked || card.querySelector("input[data-field]:checked")) return;
        card.querySelectorAll("input[data-field][data-recommended]").forEach(function (box) {
          if (card.querySelectorAll("input[data-field]:checked").length < max) box.checked = true;
        });
        refresh(card);
        showOrders();
      });
    }
    card.addEventListener("change", function (event) {
      if (event.target.matches("select[data-target]")) showOrders();
      if (event.target.matches("input[data-field]")) {
        // Ticking a field of an object that is not synced yet means "sync it".
        if (event.target.checked && toggle && !toggle.checked && !toggle.disabled) toggle.checked = true;
        var ticked = card.querySelectorAll("input[data-field]:checked").length;
        message.hidden = ticked < max;
        refresh(card);
        showOrders();
      }
    });
    refresh(card);
    showOrders();
  });

  var search = document.querySelector("[data-field-search]");
  if (search) {
    search.addEventListener("input", function () {
      var term = search.value.trim().toLowerCase();
      picker.querySelectorAll(".object-card").forEach(function (card) {
        var any = false;
        card.querySelectorAll(".field-row").forEach(function (row) {
          var match = !term || row.getAttribute("data-search").indexOf(term) !== -1;
          row.hidden = !match;
          any = any || match;
        });
        card.hidden = !any;
        if (term && any) card.open = true;
      });
    });
  }
})();
