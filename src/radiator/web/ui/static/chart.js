// RadiatorChart: a uPlot time-series chart of one /api/v1/query result (a shared `times`
// axis plus per-series `values`, null for gaps) with the change overlay: every event of the
// shown services is a vertical line and a focusable marker; hovering or focusing a marker
// shows what (kind, title), who (actor), when, and links. A checkbox hides the markers
// (remembered in localStorage). Dragging across the chart selects a range: onZoom(from, to)
// gets it in epoch seconds. All times are shown in UTC. Telemetry text goes into
// textContent only, never innerHTML.
//
//   var chart = RadiatorChart.render(element, result, events, {onZoom: fn, height: 320});
//   chart.destroy();
(function () {
  "use strict";
  var SHOW_KEY = "radiator-show-events";
  var PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#6a3d9a", "#8c6d31"];
  var KIND_COLOURS = {
    deploy: "#1c7ed6", flag_change: "#7048e8", config_change: "#0c8599", incident: "#c92a2a",
    alert: "#e8590c", chaos: "#8c6d31", experiment: "#2b8a3e", build: "#495057",
  };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function showEvents() {
    try { return localStorage.getItem(SHOW_KEY) !== "false"; } catch (e) { return true; }
  }

  function seriesLabel(labels) {
    var name = labels.__name__ || "";
    var keys = Object.keys(labels).filter(function (k) { return k !== "__name__"; }).sort();
    if (!keys.length) return name || "{}";
    return name + "{" + keys.map(function (k) { return k + "=\"" + labels[k] + "\""; }).join(", ") + "}";
  }

  function utcText(seconds) {
    return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  function isoOf(seconds) {
    return new Date(seconds * 1000).toISOString();
  }

  function safeHref(url) {
    if (typeof url !== "string") return null;
    if (url.charAt(0) === "/" && url.charAt(1) !== "/") return url;
    try {
      var parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) { return null; }
  }

  function eventsPageUrl(event, t) {
    var params = new URLSearchParams();
    params.set("kind", event.kind);
    if (event.service) params.set("service", event.service);
    params.set("start", isoOf(t - 60));
    params.set("end", isoOf(t + 60));
    return "/events?" + params.toString();
  }

  function tipEntry(event, t) {
    var entry = el("div", "tip-event");
    entry.appendChild(el("span", "kind kind-" + String(event.kind).replace(/[^a-z_]/g, ""),
      String(event.kind).replace(/_/g, " ")));
    entry.appendChild(el("div", "tip-title", event.title));
    var who = [event.service || "no service"];
    if (event.environment) who.push(event.environment);
    if (event.actor) who.push("by " + event.actor);
    entry.appendChild(el("div", "tip-meta", who.join(" · ")));
    entry.appendChild(el("div", "tip-meta", utcText(t)));
    var open = el("a", "", "Open in Events");
    open.href = eventsPageUrl(event, t);
    entry.appendChild(open);
    (event.links || []).forEach(function (link) {
      var href = safeHref(link);
      if (!href) return;
      var a = el("a", "", link.length > 48 ? link.slice(0, 47) + "…" : link);
      a.href = href;
      a.rel = "noopener noreferrer";
      entry.appendChild(a);
    });
    return entry;
  }

  function buildTip(group) {
    var tip = el("div", "event-tip");
    tip.setAttribute("role", "tooltip");
    tip.setAttribute("data-testid", "event-tip");
    if (group.length > 1) tip.appendChild(el("div", "tip-meta", group.length + " changes here"));
    group.forEach(function (item) { tip.appendChild(tipEntry(item.event, item.t)); });
    return tip;
  }

  // The overlay: a dashed line per event on the canvas, and a focusable marker per group of
  // events closer than GROUP_PX on screen (so no marker hides another); a marker's tooltip
  // lists every event of its group.
  var GROUP_PX = 14;

  function overlay(events, state) {
    var items = events.map(function (event) {
      return { event: event, t: Date.parse(event.time) / 1000 };
    }).filter(function (item) { return isFinite(item.t); })
      .sort(function (a, b) { return a.t - b.t; });
    var built = "";

    function colourOf(event) { return KIND_COLOURS[event.kind] || "#868e96"; }

    function hideTip() {
      if (state.tip) { state.tip.remove(); state.tip = null; }
    }

    function scheduleHide() {
      clearTimeout(state.hideTimer);
      state.hideTimer = setTimeout(hideTip, 250);
    }

    function showTip(u, group, marker) {
      clearTimeout(state.hideTimer);
      hideTip();
      var tip = buildTip(group);
      tip.addEventListener("mouseenter", function () { clearTimeout(state.hideTimer); });
      tip.addEventListener("mouseleave", scheduleHide);
      state.root.appendChild(tip);
      var left = u.over.offsetLeft + marker.offsetLeft + 10;
      var room = state.root.clientWidth - tip.offsetWidth - 4;
      tip.style.left = Math.max(0, Math.min(left, room)) + "px";
      tip.style.top = (u.over.offsetTop + 18) + "px";
      state.tip = tip;
    }

    function groups(u) {
      var out = [], current = null;
      items.forEach(function (item) {
        if (item.t < u.scales.x.min || item.t > u.scales.x.max) return;
        var x = u.valToPos(item.t, "x");
        if (current && x - current.x < GROUP_PX) { current.items.push(item); return; }
        current = { x: x, items: [item] };
        out.push(current);
      });
      return out;
    }

    function label(group) {
      return group.map(function (item) {
        return String(item.event.kind).replace(/_/g, " ") + ": " + item.event.title + " at " +
          utcText(item.t);
      }).join("; ");
    }

    function marker(u, group) {
      var first = group[0].event;
      var node = el("button", "event-marker" + (group.length > 1 ? " grouped" : ""));
      node.type = "button";
      node.style.background = colourOf(first);
      node.setAttribute("data-testid", "event-marker");
      node.setAttribute("data-kind", first.kind);
      node.setAttribute("data-count", String(group.length));
      node.setAttribute("aria-label", label(group));
      node.addEventListener("mouseenter", function () { showTip(u, group, node); });
      node.addEventListener("mouseleave", scheduleHide);
      node.addEventListener("focus", function () { showTip(u, group, node); });
      node.addEventListener("blur", function (e) {
        if (!state.tip || !state.tip.contains(e.relatedTarget)) scheduleHide();
      });
      node.addEventListener("click", function () { showTip(u, group, node); });
      node.addEventListener("keydown", function (e) { if (e.key === "Escape") hideTip(); });
      return node;
    }

    // Markers are rebuilt only when the visible range or the plot's width changed.
    function place(u) {
      var key = [u.scales.x.min, u.scales.x.max, u.bbox.width].join(":");
      if (key === built) return;
      built = key;
      (state.markers || []).forEach(function (m) { m.remove(); });
      state.markers = groups(u).map(function (g) {
        var node = marker(u, g.items);
        node.style.left = g.x + "px";
        u.over.appendChild(node);
        return node;
      });
    }

    function draw(u) {
      if (!state.show) return;
      var ctx = u.ctx;
      ctx.save();
      ctx.lineWidth = Math.max(1, devicePixelRatio);
      ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
      items.forEach(function (item) {
        if (item.t < u.scales.x.min || item.t > u.scales.x.max) return;
        var x = Math.round(u.valToPos(item.t, "x", true)) + 0.5;
        ctx.strokeStyle = colourOf(item.event);
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
      });
      ctx.restore();
    }

    return {
      hooks: { ready: [place], draw: [draw, place], setSize: [place] },
      hideTip: hideTip,
      count: items.length,
    };
  }

  // Tick labels in UTC, 24-hour: times of day, with the date once a range spans days.
  function timeTicks(u, splits) {
    var span = u.scales.x.max - u.scales.x.min;
    return splits.map(function (v) {
      var iso = new Date(v * 1000).toISOString();
      if (span > 2 * 86400) return iso.slice(5, 10) + " " + iso.slice(11, 16);
      return span < 600 ? iso.slice(11, 19) : iso.slice(11, 16);
    });
  }

  function options(result, width, height, over, onZoom) {
    var fg = cssVar("--fg", "#1d232b"), grid = cssVar("--line", "#dde1e6");
    var axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    var series = [{ label: "Time (UTC)", value: function (u, v) { return v == null ? "—" : utcText(v); } }];
    result.series.forEach(function (s, i) {
      series.push({
        label: seriesLabel(s.labels || {}),
        stroke: PALETTE[i % PALETTE.length],
        width: 1.5,
        points: { show: false },
        spanGaps: false,
      });
    });
    return {
      width: width,
      height: height,
      series: series,
      scales: { x: { time: true } },
      axes: [Object.assign({ values: timeTicks }, axis), Object.assign({ size: 60 }, axis)],
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      cursor: { drag: { x: true, y: false, setScale: false } },
      legend: { live: true },
      hooks: {
        ready: over.hooks.ready,
        draw: over.hooks.draw,
        setSize: over.hooks.setSize,
        setSelect: [function (u) {
          if (u.select.width < 4) return;
          var from = u.posToVal(u.select.left, "x");
          var to = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          if (onZoom && to > from) onZoom(Math.floor(from), Math.ceil(to));
        }],
      },
    };
  }

  function toolbar(result, eventCount, state, onToggle) {
    var bar = el("div", "chart-bar");
    var points = result.times ? result.times.length : 0;
    bar.appendChild(el("span", "", result.series.length + " series · " + points + " steps" +
      (result.step ? " of " + result.step + " s" : "") + " · UTC"));
    var label = el("label");
    var box = el("input");
    box.type = "checkbox";
    box.checked = state.show;
    box.setAttribute("data-testid", "events-toggle");
    box.addEventListener("change", function () {
      state.show = box.checked;
      try { localStorage.setItem(SHOW_KEY, String(box.checked)); } catch (e) { /* no memory */ }
      onToggle();
    });
    label.appendChild(box);
    label.appendChild(document.createTextNode("Show changes (" + eventCount + ")"));
    bar.appendChild(label);
    return bar;
  }

  function render(container, result, events, opts) {
    opts = opts || {};
    container.textContent = "";
    var state = { show: showEvents(), tip: null, hideTimer: null, markers: [] };
    var over = overlay(events || [], state);
    var root = el("div", "rchart" + (state.show ? "" : " hide-events"));
    root.setAttribute("data-testid", "chart");
    state.root = root;
    var plot = null;
    container.appendChild(toolbar(result, over.count, state, function () {
      root.classList.toggle("hide-events", !state.show);
      over.hideTip();
      if (plot) plot.redraw(false, false);
    }));
    container.appendChild(root);
    if (!result.times || !result.times.length || !result.series.length) {
      root.appendChild(el("p", "empty", "No data in this range."));
      return { destroy: function () { container.textContent = ""; } };
    }
    var data = [result.times].concat(result.series.map(function (s) { return s.values; }));
    var width = Math.max(300, container.clientWidth - 4);
    plot = new uPlot(options(result, width, opts.height || 320, over, opts.onZoom), data, root);
    function resize() { plot.setSize({ width: Math.max(300, container.clientWidth - 4), height: opts.height || 320 }); }
    window.addEventListener("resize", resize);
    function escape(e) { if (e.key === "Escape") over.hideTip(); }
    document.addEventListener("keydown", escape);
    return {
      plot: plot,
      destroy: function () {
        window.removeEventListener("resize", resize);
        document.removeEventListener("keydown", escape);
        plot.destroy();
        container.textContent = "";
      },
    };
  }

  // The kinds of event that change a service, which charts overlay (builds, test runs and
  // chat commands stay on the Events page).
  var OVERLAY_KINDS = ["deploy", "flag_change", "config_change", "incident", "alert", "chaos",
    "experiment"];

  window.RadiatorChart = {
    render: render, seriesLabel: seriesLabel, utcText: utcText, OVERLAY_KINDS: OVERLAY_KINDS,
  };
})();
