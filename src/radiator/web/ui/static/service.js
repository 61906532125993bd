// The service page's golden signals: the built-in service-overview dashboard drawn for this
// service over the last hour, with its deploys and other changes overlaid.
(function () {
  "use strict";
  var board = JSON.parse(document.getElementById("dashboard-json").textContent);
  var grid = document.getElementById("grid");
  var service = grid.getAttribute("data-service");
  board.panels = board.panels.filter(function (p) { return p.type !== "logs"; });
  fetch("/api/v1/dashboards/service-overview/data", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": window.Radiator.csrfToken() },
    body: JSON.stringify({ start: "now-1h", end: "now", width: 600, variables: { service: service } }),
  }).then(function (r) { return r.json(); }).then(function (data) {
    window.RadiatorPanels.draw(grid, board, data, { service: service });
  });
})();
