// RadiatorPanels: draws a dashboard's panels on a 12-column grid from one
// /api/v1/dashboards/{slug}/data answer. Panel types: timeseries (RadiatorChart with the
// change overlay), stat (big number, sparkline, threshold colour), bar, table, heatmap (le
// buckets over time) and logs. Telemetry text goes into textContent only.
//
//   RadiatorPanels.draw(grid, dashboard, data, {onZoom: fn, chartHeight: fn(panel), tv: bool,
//                                               decorate: fn(panel, element), service: name});
// ``service`` (the dashboard's service variable) picks the overlay's events for charts whose
// series carry no service tag.
(function () {
  "use strict";
  var ROW_PX = 78;
  var STATE_COLOURS = { green: "var(--green)", amber: "var(--amber)", red: "var(--red)" };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function format(value, unit) {
    if (value === null || value === undefined || isNaN(value)) return "–";
    var abs = Math.abs(value);
    var text;
    if (abs >= 1e9) text = (value / 1e9).toFixed(2) + "G";
    else if (abs >= 1e6) text = (value / 1e6).toFixed(2) + "M";
    else if (abs >= 1e4) text = (value / 1e3).toFixed(1) + "k";
    else if (abs >= 100) text = value.toFixed(0);
    else if (abs >= 1) text = value.toFixed(2);
    else text = value.toPrecision(3);
    return unit ? text + " " + unit : text;
  }

  function lastValue(values) {
    for (var i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
    return null;
  }

  function stateOf(panel, value) {
    var state = null;
    (panel.thresholds || []).slice().sort(function (a, b) { return a.value - b.value; })
      .forEach(function (t) { if (value !== null && value >= t.value) state = t.state; });
    return state;
  }

  // All of a panel's query results on one time axis (they share the dashboard's range).
  function merged(panelData) {
    var results = (panelData && panelData.results) || [];
    var times = null, series = [], errors = [];
    results.forEach(function (r) {
      if (r.error) { errors.push(r.error.detail); return; }
      if (!times && r.times) times = r.times;
      (r.series || []).forEach(function (s) { if (s.values) series.push(s); });
    });
    return { times: times || [], series: series, errors: errors };
  }

  function services(result) {
    var found = {};
    result.series.forEach(function (s) { if (s.labels.service) found[s.labels.service] = true; });
    return Object.keys(found);
  }

  function eventsFor(result, events, fallback) {
    var kinds = window.RadiatorChart.OVERLAY_KINDS;
    if (kinds) events = events.filter(function (e) { return kinds.indexOf(e.kind) >= 0; });
    var shown = services(result);
    if (!shown.length && fallback) shown = [fallback];
    // A chart of no particular service shows the changes that belong to no service.
    if (!shown.length) return events.filter(function (e) { return !e.service; });
    return events.filter(function (e) { return !e.service || shown.indexOf(e.service) >= 0; });
  }

  function sparkline(values, colour) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 100 30");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "spark");
    svg.setAttribute("aria-hidden", "true");
    var present = values.filter(function (v) { return v !== null; });
    if (present.length < 2) return svg;
    var lo = Math.min.apply(null, present), hi = Math.max.apply(null, present);
    var span = hi - lo || 1;
    var points = [];
    values.forEach(function (v, i) {
      if (v === null) return;
      points.push((i / (values.length - 1) * 100).toFixed(2) + "," + (28 - (v - lo) / span * 26).toFixed(2));
    });
    var line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", colour);
    line.setAttribute("stroke-width", "1.5");
    svg.appendChild(line);
    return svg;
  }

  function drawStat(body, panel, result) {
    var values = result.series.length ? result.series[0].values : [];
    var value = lastValue(values);
    var state = stateOf(panel, value);
    var box = el("div", "stat" + (state ? " state-" + state : ""));
    box.setAttribute("data-testid", "stat");
    if (state) box.setAttribute("data-state", state);
    box.appendChild(el("span", "stat-value", format(value, panel.unit)));
    if (state) box.appendChild(el("span", "sr-only", "state " + state));
    box.appendChild(sparkline(values, state ? STATE_COLOURS[state] : "var(--link)"));
    body.appendChild(box);
  }

  function drawTable(body, panel, result) {
    var table = el("table", "data");
    var head = el("tr");
    ["Series", "Last"].forEach(function (h) { var th = el("th", null, h); th.scope = "col"; head.appendChild(th); });
    var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    var tbody = el("tbody");
    result.series.forEach(function (s) {
      var row = el("tr");
      row.appendChild(el("td", null, window.RadiatorChart.seriesLabel(s.labels)));
      var value = lastValue(s.values);
      var cell = el("td", "num", format(value, panel.unit));
      var state = stateOf(panel, value);
      if (state) cell.className += " state-" + state;
      row.appendChild(cell);
      tbody.appendChild(row);
    });
    table.appendChild(tbody);
    body.appendChild(table);
  }

  function drawBar(body, panel, result) {
    var rows = result.series.map(function (s) {
      return { label: window.RadiatorChart.seriesLabel(s.labels), value: lastValue(s.values) };
    }).sort(function (a, b) { return (b.value || 0) - (a.value || 0); });
    var max = Math.max.apply(null, rows.map(function (r) { return Math.abs(r.value || 0); }).concat([1e-12]));
    var list = el("ul", "bars");
    rows.forEach(function (r) {
      var item = el("li");
      item.appendChild(el("span", "bar-label", r.label));
      var track = el("span", "bar-track");
      var fill = el("span", "bar-fill");
      fill.style.width = (Math.abs(r.value || 0) / max * 100).toFixed(1) + "%";
      var state = stateOf(panel, r.value);
      if (state) fill.style.background = STATE_COLOURS[state];
      track.appendChild(fill);
      item.appendChild(track);
      item.appendChild(el("span", "bar-value", format(r.value, panel.unit)));
      list.appendChild(item);
    });
    body.appendChild(list);
  }

  function drawHeatmap(body, panel, result) {
    var buckets = result.series.filter(function (s) { return s.labels.le !== undefined; })
      .map(function (s) { return { le: parseFloat(s.labels.le), values: s.values }; })
      .sort(function (a, b) { return a.le - b.le; });
    if (!buckets.length) { body.appendChild(el("p", "empty", "A heatmap needs histogram buckets (series with an le tag), e.g. sum by (le) (increase(x[1m]))")); return; }
    var canvas = el("canvas", "heatmap");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", panel.title + ": heatmap of " + buckets.length + " buckets");
    body.appendChild(canvas);
    var width = Math.max(200, body.clientWidth - 8), height = Math.max(80, body.clientHeight - 30);
    canvas.width = width; canvas.height = height;
    var ctx = canvas.getContext("2d");
    var steps = result.times.length, rows = buckets.length;
    var counts = buckets.map(function (b, i) {
      return b.values.map(function (v, t) {
        // Cumulative le buckets: a bucket's own count is its value minus the one below.
        var below = i > 0 ? (buckets[i - 1].values[t] || 0) : 0;
        return Math.max((v || 0) - below, 0);
      });
    });
    var max = 0;
    counts.forEach(function (row) { row.forEach(function (c) { if (c > max) max = c; }); });
    var cw = width / steps, ch = height / rows;
    counts.forEach(function (row, i) {
      row.forEach(function (c, t) {
        if (!c) return;
        ctx.fillStyle = "rgba(217, 72, 15, " + (0.1 + 0.9 * c / max).toFixed(3) + ")";
        ctx.fillRect(t * cw, height - (i + 1) * ch, Math.ceil(cw), Math.ceil(ch));
      });
    });
    var legend = el("p", "muted", "le " + buckets[0].le + " (bottom) to " + buckets[rows - 1].le + " (top); darker = more");
    body.appendChild(legend);
  }

  function drawLogs(body, lines) {
    if (!lines || !lines.length) { body.appendChild(el("p", "empty", "No log records in this range.")); return; }
    var list = el("ol", "log-stream");
    lines.forEach(function (line) {
      var item = el("li", "level-" + String(line.level).toLowerCase());
      item.appendChild(el("time", "muted", String(line.time).replace("T", " ").slice(0, 19)));
      item.appendChild(el("span", "level", line.level));
      item.appendChild(el("span", "svc", line.service));
      var message = el("span", "msg", line.message);
      item.appendChild(message);
      if (line.trace_id) {
        var link = el("a", null, "trace");
        link.href = "/traces/" + encodeURIComponent(line.trace_id);
        item.appendChild(link);
      }
      list.appendChild(item);
    });
    body.appendChild(list);
  }

  function drawPanel(panel, data, events, opts) {
    var card = el("section", "panel panel-" + panel.type);
    card.style.gridColumn = (panel.x + 1) + " / span " + panel.w;
    card.style.gridRow = (panel.y + 1) + " / span " + panel.h;
    card.setAttribute("aria-label", panel.title);
    card.setAttribute("data-panel", panel.id);
    card.setAttribute("data-testid", "panel");
    var head = el("header", "panel-head");
    head.appendChild(el("h2", null, panel.title));
    card.appendChild(head);
    var result = merged(data);
    if (result.errors.length) {
      var note = el("p", "banner-error panel-error", result.errors.join("; "));
      note.setAttribute("role", "alert");
      card.appendChild(note);
    }
    var body = el("div", "panel-body");
    card.appendChild(body);
    if (opts.decorate) opts.decorate(panel, card, head);
    var drawn = { destroy: function () {} };
    if (panel.type === "logs") drawLogs(body, data && data.logs);
    else if (panel.type === "stat") drawStat(body, panel, result);
    else if (panel.type === "table") drawTable(body, panel, result);
    else if (panel.type === "bar") drawBar(body, panel, result);
    else if (panel.type === "heatmap") card._heatmap = function () { drawHeatmap(body, panel, result); };
    else {
      card._chart = function () {
        var height = opts.chartHeight ? opts.chartHeight(panel) : panel.h * ROW_PX - 90;
        drawn = window.RadiatorChart.render(body, result, eventsFor(result, events, opts.service), { onZoom: opts.onZoom, height: Math.max(height, 80) });
      };
    }
    card._destroy = function () { drawn.destroy(); };
    return card;
  }

  function draw(grid, dashboard, data, opts) {
    opts = opts || {};
    Array.prototype.forEach.call(grid.children, function (c) { if (c._destroy) c._destroy(); });
    grid.textContent = "";
    var events = (data && data.events) || [];
    var panels = (data && data.panels) || {};
    var cards = dashboard.panels.map(function (panel) {
      var card = drawPanel(panel, panels[panel.id], events, opts);
      grid.appendChild(card);
      return card;
    });
    // Charts size themselves to their card, so they are drawn once the cards are laid out.
    cards.forEach(function (card) {
      if (card._chart) card._chart();
      if (card._heatmap) card._heatmap();
    });
    // Marked after the next frame, so the mark includes the browser painting the charts.
    requestAnimationFrame(function () {
      requestAnimationFrame(function () { grid.setAttribute("data-drawn", String(Date.now())); });
    });
  }

  window.RadiatorPanels = { draw: draw, format: format, ROW_PX: ROW_PX };
})();
