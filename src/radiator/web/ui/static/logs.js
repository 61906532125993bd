// Live tail on the Logs page: an EventSource on /api/v1/logs/tail with the form's filters;
// each `log` event (a JSON row shaped like /api/v1/logs records) is prepended to the table.
// Telemetry text only ever goes into textContent.
(function () {
  "use strict";
  var MAX_ROWS = 500;
  var form = document.getElementById("log-filters");
  var button = document.getElementById("tail-toggle");
  var status = document.getElementById("tail-status");
  var source = null;

  function tailUrl() {
    var params = new URLSearchParams();
    var data = new FormData(form);
    ["service", "min_level", "q"].forEach(function (name) {
      var value = data.get(name);
      if (value) params.set(name, value);
    });
    String(data.get("attr") || "").split(/\s+/).forEach(function (pair) {
      var at = pair.indexOf("=");
      if (at > 0) params.append("attr." + pair.slice(0, at), pair.slice(at + 1));
    });
    params.set("backfill", "0");
    return "/api/v1/logs/tail?" + params.toString();
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    node.className = className;
    node.textContent = text;
    return node;
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function formatTime(iso) {
    var date = new Date(iso);
    if (isNaN(date)) return String(iso);
    return date.toISOString().replace("T", " ").slice(0, 23);
  }

  function logRow(record) {
    var tr = document.createElement("tr");
    var level = String(record.level || "");
    tr.className = "log-" + level.replace(/[^A-Z]/g, "");
    tr.setAttribute("data-testid", "log-row");
    tr.classList.add("tailed");
    cell(tr, formatTime(record.time), "time");
    var badge = document.createElement("span");
    badge.className = "level level-" + level.replace(/[^A-Z]/g, "");
    badge.textContent = level;
    cell(tr, "").appendChild(badge);
    cell(tr, record.service || "");
    var message = cell(tr, "", "message");
    message.appendChild(el("span", "msg", record.message || ""));
    var attrs = record.attributes || {};
    var keys = Object.keys(attrs);
    if (keys.length) {
      var box = document.createElement("div");
      box.className = "attrs";
      keys.forEach(function (key) {
        var span = document.createElement("span");
        var b = document.createElement("b");
        b.textContent = key;
        span.appendChild(b);
        span.appendChild(document.createTextNode("=" + String(attrs[key])));
        box.appendChild(span);
      });
      message.appendChild(box);
    }
    var traceCell = cell(tr, "");
    if (record.trace_id) {
      var link = document.createElement("a");
      link.href = "/traces/" + encodeURIComponent(record.trace_id);
      link.className = "mono";
      link.setAttribute("data-testid", "trace-link");
      link.textContent = String(record.trace_id).slice(0, 8) + "…";
      traceCell.appendChild(link);
    }
    return tr;
  }

  function prepend(record) {
    var body = document.getElementById("log-rows");
    if (!body) return;
    var empty = body.querySelector("td.empty");
    if (empty) empty.parentNode.remove();
    body.insertBefore(logRow(record), body.firstChild);
    var rows = body.querySelectorAll("tr.tailed");
    for (var i = MAX_ROWS; i < rows.length; i++) rows[i].remove();
  }

  function stop(message) {
    if (source) source.close();
    source = null;
    button.setAttribute("aria-pressed", "false");
    button.textContent = "Live tail";
    status.textContent = message || "";
    status.classList.remove("tail-live");
  }

  function start() {
    source = new EventSource(tailUrl(), { withCredentials: true });
    button.setAttribute("aria-pressed", "true");
    button.textContent = "Stop tail";
    status.textContent = "Connecting…";
    source.onopen = function () {
      status.textContent = "Live: new lines appear at the top";
      status.classList.add("tail-live");
    };
    source.addEventListener("log", function (event) {
      try { prepend(JSON.parse(event.data)); } catch (e) { /* a malformed line is skipped */ }
    });
    source.onerror = function () {
      if (source && source.readyState === EventSource.CLOSED) stop("Live tail is unavailable");
      else status.textContent = "Reconnecting…";
    };
  }

  button.addEventListener("click", function () {
    if (source) stop("");
    else start();
  });
  // New filters restart the tail with them.
  form.addEventListener("submit", function () { if (source) { stop(""); start(); } });
  window.addEventListener("pagehide", function () { if (source) source.close(); });
})();
