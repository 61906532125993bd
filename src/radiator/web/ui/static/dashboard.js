// One dashboard: variables, time range, auto-refresh and edit mode, all kept in the URL
// (?start=now-6h&end=now&var-service=checkout&refresh=30) so a link shares the exact view.
// Data: POST /api/v1/dashboards/{slug}/data (one request for every panel). Edits: PUT
// /api/v1/dashboards/{slug}?version=N with the session's CSRF token.
(function () {
  "use strict";
  var board = JSON.parse(document.getElementById("dashboard-json").textContent);
  var grid = document.getElementById("grid");
  var status = document.getElementById("dash-status");
  var params = new URLSearchParams(location.search);
  var state = {
    start: params.get("start") || board.time_from || "now-6h",
    end: params.get("end") || "now",
    refresh: params.has("refresh") ? parseInt(params.get("refresh"), 10) || 0 : (board.refresh_seconds || 0),
    variables: {},
    editing: params.get("edit") === "1" && board.source === "ui",
  };
  board.variables.forEach(function (v) { state.variables[v.name] = params.has("var-" + v.name) ? params.get("var-" + v.name) : v.default; });
  var timer = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function api(method, url, body) {
    var headers = { "Content-Type": "application/json", "X-CSRF-Token": window.Radiator.csrfToken() };
    return fetch(url, { method: method, headers: headers, credentials: "same-origin", body: body ? JSON.stringify(body) : undefined })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (json) {
          if (!response.ok) throw new Error(json.detail || ("HTTP " + response.status));
          return json;
        });
      });
  }

  function writeUrl() {
    var next = new URLSearchParams();
    next.set("start", state.start);
    next.set("end", state.end);
    next.set("refresh", String(state.refresh));
    Object.keys(state.variables).forEach(function (k) { next.set("var-" + k, state.variables[k]); });
    if (state.editing) next.set("edit", "1");
    history.replaceState(null, "", location.pathname + "?" + next.toString());
  }

  function onZoom(from, to) {
    state.start = String(Math.floor(from));
    state.end = String(Math.ceil(to));
    syncControls();
    load();
  }

  function decorate(panel, card, head) {
    if (!state.editing) return;
    var tools = el("span", "panel-tools");
    [["←", "left", -1, 0, 0, 0], ["→", "right", 1, 0, 0, 0], ["↑", "up", 0, -1, 0, 0], ["↓", "down", 0, 1, 0, 0],
     ["−w", "narrower", 0, 0, -1, 0], ["+w", "wider", 0, 0, 1, 0], ["−h", "shorter", 0, 0, 0, -1], ["+h", "taller", 0, 0, 0, 1]]
      .forEach(function (spec) {
        var button = el("button", null, spec[0]);
        button.type = "button";
        button.setAttribute("aria-label", "Move or resize " + panel.title + ": " + spec[1]);
        button.addEventListener("click", function () { nudge(panel, spec[2], spec[3], spec[4], spec[5]); });
        tools.appendChild(button);
      });
    var edit = el("button", null, "Edit");
    edit.type = "button";
    edit.setAttribute("aria-label", "Edit " + panel.title);
    edit.addEventListener("click", function () { openEditor(panel); });
    var remove = el("button", null, "Delete");
    remove.type = "button";
    remove.setAttribute("aria-label", "Delete " + panel.title);
    remove.addEventListener("click", function () {
      board.panels = board.panels.filter(function (p) { return p.id !== panel.id; });
      save();
    });
    tools.appendChild(edit);
    tools.appendChild(remove);
    head.appendChild(tools);
  }

  function nudge(panel, dx, dy, dw, dh) {
    panel.w = Math.min(12, Math.max(1, panel.w + dw));
    panel.h = Math.min(24, Math.max(1, panel.h + dh));
    panel.x = Math.min(12 - panel.w, Math.max(0, panel.x + dx));
    panel.y = Math.max(0, panel.y + dy);
    save();
  }

  function definition() {
    var copy = {};
    ["slug", "title", "description", "tags", "variables", "panels", "time_from", "refresh_seconds"].forEach(function (k) { copy[k] = board[k]; });
    return copy;
  }

  function save() {
    status.textContent = "Saving…";
    return api("PUT", "/api/v1/dashboards/" + encodeURIComponent(board.slug) + "?version=" + board.version, definition())
      .then(function (saved) { board = saved; status.textContent = "Saved (version " + saved.version + ")."; load(status.textContent); })
      .catch(function (error) { status.textContent = "Not saved: " + error.message; load(status.textContent); });
  }

  var editor = document.getElementById("editor");
  var form = document.getElementById("panel-form");
  var editorError = document.getElementById("editor-error");

  function openEditor(panel) {
    editor.hidden = false;
    editorError.hidden = true;
    document.getElementById("editor-title").textContent = panel ? "Edit panel" : "Add a panel";
    form.elements.id.value = panel ? panel.id : "";
    form.elements.title.value = panel ? panel.title : "";
    form.elements.type.value = panel ? panel.type : "timeseries";
    form.elements.expr.value = panel && panel.queries.length ? panel.queries[0].expr : "";
    form.elements.unit.value = panel ? panel.unit : "";
    var thresholds = panel ? panel.thresholds : [];
    form.elements.amber.value = (thresholds.filter(function (t) { return t.state === "amber"; })[0] || {}).value || "";
    form.elements.red.value = (thresholds.filter(function (t) { return t.state === "red"; })[0] || {}).value || "";
    form.elements.log_service.value = panel && panel.logs ? panel.logs.service : "";
    form.elements.log_level.value = panel && panel.logs ? panel.logs.level : "";
    form.elements.title.focus();
  }

  function slugOf(text) {
    return (text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "panel");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var f = form.elements;
    var existing = board.panels.filter(function (p) { return p.id === f.id.value; })[0];
    var thresholds = [];
    if (f.amber.value !== "" || f.red.value !== "") thresholds.push({ value: -1e308, state: "green" });
    if (f.amber.value !== "") thresholds.push({ value: parseFloat(f.amber.value), state: "amber" });
    if (f.red.value !== "") thresholds.push({ value: parseFloat(f.red.value), state: "red" });
    var panel = existing || { id: uniqueId(slugOf(f.title.value)), x: 0, y: bottom(), w: 6, h: 4 };
    panel.title = f.title.value;
    panel.type = f.type.value;
    panel.unit = f.unit.value;
    panel.thresholds = thresholds;
    panel.queries = f.type.value === "logs" ? [] : [{ id: "A", expr: f.expr.value, legend: "" }];
    panel.logs = f.type.value === "logs" ? { service: f.log_service.value, level: f.log_level.value, text: "", limit: 50 } : null;
    if (!existing) board.panels.push(panel);
    api("PUT", "/api/v1/dashboards/" + encodeURIComponent(board.slug) + "?version=" + board.version, definition())
      .then(function (saved) { board = saved; editor.hidden = true; status.textContent = "Saved (version " + saved.version + ")."; load(status.textContent); })
      .catch(function (error) {
        if (!existing) board.panels.pop();
        editorError.textContent = error.message;
        editorError.hidden = false;
      });
  });
  document.getElementById("panel-cancel").addEventListener("click", function () { editor.hidden = true; });

  function uniqueId(base) {
    var id = base, n = 2;
    var taken = board.panels.map(function (p) { return p.id; });
    while (taken.indexOf(id) >= 0) { id = base + "-" + n; n += 1; }
    return id;
  }

  function bottom() {
    return board.panels.reduce(function (m, p) { return Math.max(m, p.y + p.h); }, 0);
  }

  function setEditing(on) {
    state.editing = on;
    var toggle = document.getElementById("edit-toggle");
    if (toggle) { toggle.setAttribute("aria-pressed", String(on)); toggle.textContent = on ? "Done editing" : "Edit"; }
    document.getElementById("dash-actions").hidden = !on;
    if (!on) editor.hidden = true;
    writeUrl();
    if (lastData) draw(lastData);  // before the first answer there is nothing to draw
  }

  var lastData = null;
  function draw(data) {
    window.RadiatorPanels.draw(grid, board, data, { onZoom: onZoom, decorate: decorate, service: state.variables.service || "" });
  }

  // note: what the last action did ("Saved (version 3)."), kept in front of the load's
  // own status so the reload that follows a save does not wipe it out.
  function load(note) {
    var prefix = note ? note + " " : "";
    writeUrl();
    var started = performance.now();
    var width = Math.max(300, Math.floor(grid.clientWidth / 2));
    return api("POST", "/api/v1/dashboards/" + encodeURIComponent(board.slug) + "/data",
      { start: state.start, end: state.end, width: width, variables: state.variables })
      .then(function (data) {
        lastData = data;
        draw(data);
        status.textContent = prefix + "Updated " + new Date().toISOString().slice(11, 19) + " UTC (" + Math.round(performance.now() - started) + " ms).";
      })
      .catch(function (error) { status.textContent = prefix + "Could not load: " + error.message; });
  }

  function schedule() {
    if (timer) clearInterval(timer);
    timer = state.refresh > 0 ? setInterval(function () { load(); }, state.refresh * 1000) : null;
  }

  function syncControls() {
    document.getElementById("range-start").value = state.start;
    document.getElementById("range-end").value = state.end;
    document.getElementById("refresh").value = String(state.refresh);
  }

  function buildVariables() {
    var box = document.getElementById("variables");
    board.variables.forEach(function (v) {
      var label = el("label", null, (v.label || v.name) + " ");
      var select = el("select");
      select.setAttribute("data-variable", v.name);
      select.appendChild(new Option("All", ""));
      label.appendChild(select);
      box.appendChild(label);
      var url = "/api/v1/tag-values/" + encodeURIComponent(v.tag) + "?limit=500" + (v.metric ? "&metric=" + encodeURIComponent(v.metric) : "");
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (json) {
        (json.data || []).forEach(function (value) { select.appendChild(new Option(value, value)); });
        select.value = state.variables[v.name] || "";
      });
      select.addEventListener("change", function () { state.variables[v.name] = select.value; load(); });
    });
  }

  function fillMetricNames() {
    fetch("/api/v1/metric-names?limit=1000", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (json) {
      var list = document.getElementById("metric-names");
      (json.data || []).forEach(function (name) { list.appendChild(new Option(name, name)); });
    });
  }

  document.querySelectorAll("[data-preset]").forEach(function (button) {
    button.addEventListener("click", function () { state.start = button.getAttribute("data-preset"); state.end = "now"; syncControls(); load(); });
  });
  document.getElementById("apply-range").addEventListener("click", function () {
    state.start = document.getElementById("range-start").value || "now-6h";
    state.end = document.getElementById("range-end").value || "now";
    load();
  });
  document.getElementById("refresh").addEventListener("change", function (event) {
    state.refresh = parseInt(event.target.value, 10) || 0;
    schedule();
    writeUrl();
  });
  var toggle = document.getElementById("edit-toggle");
  if (toggle) toggle.addEventListener("click", function () { setEditing(!state.editing); });
  document.getElementById("add-panel").addEventListener("click", function () { openEditor(null); });

  buildVariables();
  fillMetricNames();
  syncControls();
  setEditing(state.editing);
  load();
  schedule();
})();
