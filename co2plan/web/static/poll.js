// Follows a scenario run: asks the API every 3 s and reloads the page when the run has finished.
(function () {
  var el = document.getElementById("scenario-state");
  if (!el) { return; }
  var state = el.getAttribute("data-state");
  if (state === "success" || state === "failed") { return; }
  var id = el.getAttribute("data-scenario");
  function tick() {
    fetch("/api/v1/scenarios/" + encodeURIComponent(id), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (d.state === "success" || d.state === "failed") { window.location.reload(); return; }
        var s = el.querySelector("strong"); if (s) { s.textContent = d.state; }
        setTimeout(tick, 3000);
      }).catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 3000);
})();
