// TV mode: full screen, dark, large type, rotating through the kiosk link's dashboards with
// no interaction. Data comes from the kiosk endpoint, whose only credential is the link's
// secret; a revoked link shows a notice at the next refresh.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("tv-json").textContent);
  var grid = document.getElementById("grid");
  var title = document.getElementById("tv-title");
  var status = document.getElementById("tv-status");
  var index = 0;
  var REFRESH_MS = 30000;

  function rowHeight() {
    var board = config.boards[index];
    var rows = board.panels.reduce(function (m, p) { return Math.max(m, p.y + p.h); }, 1);
    return Math.max(60, Math.floor((window.innerHeight - 90) / rows));
  }

  function show() {
    var board = config.boards[index];
    title.textContent = board.title + (config.boards.length > 1 ? "  (" + (index + 1) + "/" + config.boards.length + ")" : "");
    var row = rowHeight();
    grid.style.gridAutoRows = row + "px";
    var url = "/api/v1/kiosk/" + encodeURIComponent(config.secret) + "/dashboards/" + encodeURIComponent(board.slug) + "/data";
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ start: board.time_from, end: "now", width: Math.floor(window.innerWidth / 2) }) })
      .then(function (response) {
        if (response.status === 404) throw new Error("This TV link was revoked.");
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        window.RadiatorPanels.draw(grid, board, data, { tv: true, chartHeight: function (panel) { return panel.h * row - 80; } });
        status.textContent = "";
      })
      .catch(function (error) { status.textContent = error.message; });
  }

  function clock() {
    document.getElementById("tv-clock").textContent = new Date().toISOString().slice(11, 16) + " UTC";
  }

  show();
  clock();
  setInterval(clock, 10000);
  setInterval(show, REFRESH_MS);
  if (config.boards.length > 1) {
    setInterval(function () { index = (index + 1) % config.boards.length; show(); }, config.rotate * 1000);
  }
})();
