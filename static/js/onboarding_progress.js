// Live progress of the first sync: polls the small JSON endpoint and redraws the per-object bars.
(function () {
  "use strict";
  var box = document.querySelector("[data-sync-progress]");
  if (!box) return;
  var url = box.getAttribute("data-url");
  var list = box.querySelector("[data-progress-objects]");

  function bar(obj) {
    var done = obj.percent >= 100;
    var wrap = document.createElement("div");
    wrap.setAttribute("data-object", obj.name);
    var head = document.createElement("div");
    head.className = "d-flex justify-content-between small mb-1";
    var name = document.createElement("span");
    name.className = "fw-semibold";
    name.textContent = obj.label;
    var counts = document.createElement("span");
    counts.className = "text-body-secondary";
    counts.setAttribute("data-counts", "");
    counts.textContent = obj.done + " / " + (obj.total === null ? "?" : obj.total) + (obj.eta ? " · " + obj.eta : "");
    head.append(name, counts);
    var progress = document.createElement("div");
    progress.className = "progress";
    progress.setAttribute("role", "progressbar");
    progress.setAttribute("aria-label", obj.label + " sync progress");
    progress.setAttribute("aria-valuemin", "0");
    progress.setAttribute("aria-valuemax", "100");
    progress.setAttribute("aria-valuenow", String(obj.percent));
    var fill = document.createElement("div");
    fill.className = "progress-bar" + (done ? " bg-success" : " progress-bar-striped progress-bar-animated");
    fill.style.width = obj.percent + "%";
    fill.textContent = obj.percent + "%";
    progress.append(fill);
    wrap.append(head, progress);
    return wrap;
  }

  function draw(data) {
    box.querySelector("[data-progress-state]").textContent = data.state_label;
    box.querySelector("[data-progress-summary]").textContent = data.summary || "";
    if (data.objects && data.objects.length) {
      list.replaceChildren.apply(list, data.objects.map(bar));
    }
    box.setAttribute("data-state", data.state);
    var sentence = document.querySelector("[data-first-sync-text]");
    if (sentence && data.state === "succeeded") sentence.textContent = sentence.getAttribute("data-done-text");
  }

  var delay = 1000;
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) {
        draw(data);
        if (data.finished) return;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 15000);
        window.setTimeout(poll, delay);
      });
  }
  poll();
})();
