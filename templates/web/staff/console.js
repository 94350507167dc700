// Live send progress: polls the JSON API and updates the numbers the page rendered.
(function () {
  var section = document.getElementById("progress");
  if (!section) return;
  var url = section.getAttribute("data-url");
  var bar = section.querySelector("progress");
  var shown = section.querySelector('[data-field="status"]').textContent;
  function set(name, value) {
    var el = section.querySelector('[data-field="' + name + '"]');
    if (el) el.textContent = value;
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) return;
        set("status", p.status); set("percent", p.percent); set("sent", p.sent);
        set("deferred", p.deferred); set("bounced", p.bounced); set("failed", p.failed);
        set("left", p.left); set("problem", p.problem || "");
        section.querySelector('[data-field="problem"]').hidden = !p.problem;
        set("rate", p.rate.toFixed(1)); set("eta", p.eta_seconds === null ? "\u2013" : p.eta_seconds + " s");
        bar.max = p.total || 1; bar.value = p.total - p.left;
        // A new state offers other actions (pause -> resume...): reload for the right buttons.
        if (p.status !== shown) { location.reload(); return; }
        if (["sending", "approved", "paused"].indexOf(p.status) >= 0) setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();
