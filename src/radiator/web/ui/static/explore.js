// The Explore page: runs the query through POST /api/v1/query, draws the result with
// RadiatorChart (plus the events of the services in the result's `service` labels, from
// GET /api/v1/events), fills the last-values table, and keeps expr/start/end in the URL so
// a view can be shared. Ctrl+Enter runs; metric names complete from /api/v1/metric-names.
(function () {
  "use strict";
  var form = document.getElementById("explore-form");
  var editor = document.getElementById("expr");
  var list = document.getElementById("suggest");
  var chartBox = document.getElementById("chart");
  var rows = document.getElementById("series-rows");
  var errorBox = document.getElementById("query-error");
  var addPanel = document.getElementById("add-panel");
  var chart = null;
  var running = 0;

  function state() {
    return { expr: editor.value.trim(), start: form.elements.start.value.trim() || "now-1h",
      end: form.elements.end.value.trim() || "now" };
  }

  function setUrl(s, push) {
    var params = new URLSearchParams({ expr: s.expr, start: s.start, end: s.end });
    var url = "/explore?" + params.toString();
    if (url === location.pathname + location.search) return;
    if (push) history.pushState(s, "", url); else history.replaceState(s, "", url);
  }

  function showError(text) {
    errorBox.hidden = !text;
    errorBox.textContent = text || "";
  }

  function api(method, url, body) {
    var init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRF-Token"] = window.Radiator.csrfToken();
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var message = data.detail || data.title || ("HTTP " + response.status);
          throw new Error(typeof message === "string" ? message : JSON.stringify(message));
        }
        return data;
      });
    });
  }

  function problemText(error) {
    if (!error) return "";
    var where = error.line ? " (line " + error.line + ", column " + error.column + ")" : "";
    return (error.title ? error.title + ": " : "") + (error.detail || "") + where;
  }

  function stats(values) {
    var last = null, min = Infinity, max = -Infinity, sum = 0, n = 0;
    values.forEach(function (v) {
      if (v === null || v === undefined || !isFinite(v)) return;
      last = v; n += 1; sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    });
    return n ? { last: last, min: min, max: max, mean: sum / n } : null;
  }

  function number(v) {
    if (v === null || v === undefined) return "—";
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3);
    return v.toLocaleString("en", { maximumFractionDigits: a >= 100 ? 1 : 4 });
  }

  function fillTable(result) {
    rows.textContent = "";
    var series = result.series || [];
    if (result.type === "scalar") series = [{ labels: {}, value: result.value }];
    series.forEach(function (s) {
      var values = s.values || [s.value];
      var st = stats(values) || {};
      var tr = document.createElement("tr");
      tr.setAttribute("data-testid", "series-row");
      var name = document.createElement("td");
      name.className = "mono";
      name.textContent = window.RadiatorChart.seriesLabel(s.labels || {});
      tr.appendChild(name);
      [st.last, st.min, st.max, st.mean].forEach(function (v) {
        var td = document.createElement("td");
        td.className = "num";
        td.textContent = number(v === undefined ? null : v);
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
    if (!series.length) {
      var tr = document.createElement("tr");
      var td = document.createElement("td");
      td.colSpan = 5;
      td.className = "empty";
      td.textContent = "No series.";
      tr.appendChild(td);
      rows.appendChild(tr);
    }
  }

  function servicesOf(result) {
    var seen = {};
    (result.series || []).forEach(function (s) {
      var name = s.labels && s.labels.service;
      if (name) seen[name] = true;
    });
    return Object.keys(seen).sort();
  }

  function eventsFor(result, body) {
    var services = servicesOf(result);
    if (!services.length) return Promise.resolve([]);
    var params = new URLSearchParams();
    params.set("start", new Date(body.start * 1000).toISOString());
    params.set("end", new Date(body.end * 1000 + 1000).toISOString());
    params.set("limit", "1000");
    services.slice(0, 50).forEach(function (s) { params.append("service", s); });
    window.RadiatorChart.OVERLAY_KINDS.forEach(function (k) { params.append("kind", k); });
    return api("GET", "/api/v1/events?" + params.toString()).catch(function () { return []; });
  }

  function draw(result, events) {
    if (chart) chart.destroy();
    chart = window.RadiatorChart.render(chartBox, result, events, { onZoom: zoom, height: 340 });
  }

  function run(push) {
    var s = state();
    syncAddPanel(s);
    setUrl(s, push);
    if (!s.expr) return Promise.resolve();
    var ticket = ++running;
    showError("");
    chartBox.setAttribute("aria-busy", "true");
    var width = Math.max(300, chartBox.clientWidth);
    return api("POST", "/api/v1/query", { expr: s.expr, start: s.start, end: s.end, width: width })
      .then(function (body) {
        var result = (body.results || [])[0] || { series: [] };
        if (result.error) throw new Error(problemText(result.error));
        return eventsFor(result, body).then(function (events) {
          if (ticket !== running) return;
          draw(result, events);
          fillTable(result);
        });
      })
      .catch(function (error) {
        if (ticket === running) showError(error.message);
      })
      .then(function () { chartBox.removeAttribute("aria-busy"); });
  }

  function zoom(from, to) {
    form.elements.start.value = new Date(from * 1000).toISOString().replace(".000Z", "Z");
    form.elements.end.value = new Date(to * 1000).toISOString().replace(".000Z", "Z");
    form.querySelectorAll("[data-range]").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    run(true);
  }

  function syncAddPanel(s) {
    addPanel.elements.expr.value = s.expr;
    addPanel.elements.start.value = s.start;
    addPanel.elements.end.value = s.end;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    closeList();
    run(true);
  });
  addPanel.addEventListener("submit", function (event) {
    var s = state();
    if (!s.expr) { event.preventDefault(); editor.focus(); showError("Write a query first."); return; }
    syncAddPanel(s);
    if (!addPanel.elements.title.value.trim()) addPanel.elements.title.value = s.expr;
  });
  window.addEventListener("popstate", function () {
    var params = new URLSearchParams(location.search);
    editor.value = params.get("expr") || "";
    form.elements.start.value = params.get("start") || "now-1h";
    form.elements.end.value = params.get("end") || "now";
    run(false);
  });
  document.addEventListener("radiator:theme", function () { run(false); });

  // Completion: metric names, and inside a label matcher `{...}` the metric's tag names
  // and a tag's values, in a listbox under the editor driven by the keyboard or the mouse.
  var active = -1, timer = null, token = null;
  var NAME = /[A-Za-z_:][A-Za-z0-9_.:]*$/;

  function matcherToken(before, open, caret) {
    var metric = NAME.exec(before.slice(0, open).replace(/\s+$/, ""));
    var inner = before.slice(open + 1);
    var part = inner.slice(inner.lastIndexOf(",") + 1).replace(/^\s+/, "");
    var value = /^([A-Za-z_][A-Za-z0-9_.]*)\s*(?:=~|!=|!~|=)\s*"([^"]*)$/.exec(part);
    var base = { metric: metric ? metric[0] : "" };
    if (value) {
      return Object.assign(base, { kind: "value", tag: value[1], text: value[2],
        start: caret - value[2].length, end: caret });
    }
    if (/^[A-Za-z_]?[A-Za-z0-9_.]*$/.test(part)) {
      return Object.assign(base, { kind: "tag", text: part, start: caret - part.length, end: caret });
    }
    return null;
  }

  function tokenAtCaret() {
    var caret = editor.selectionStart;
    var before = editor.value.slice(0, caret);
    var open = before.lastIndexOf("{"), close = before.lastIndexOf("}");
    if (open > close) return matcherToken(before, open, caret);
    var match = NAME.exec(before);
    if (!match) return null;
    return { kind: "metric", text: match[0], start: caret - match[0].length, end: caret };
  }

  function lookup(t) {
    var metric = t.metric ? "metric=" + encodeURIComponent(t.metric) + "&" : "";
    if (t.kind === "metric") {
      return api("GET", "/api/v1/metric-names?limit=20&prefix=" + encodeURIComponent(t.text));
    }
    if (t.kind === "value") {
      return api("GET", "/api/v1/tag-values/" + encodeURIComponent(t.tag) + "?" + metric +
        "limit=20&prefix=" + encodeURIComponent(t.text));
    }
    return api("GET", "/api/v1/tag-names?" + metric).then(function (body) {
      return { data: (body.data || []).filter(function (n) { return n.indexOf(t.text) === 0; }) };
    });
  }

  function closeList() {
    list.hidden = true;
    list.textContent = "";
    active = -1;
    editor.setAttribute("aria-expanded", "false");
    editor.removeAttribute("aria-activedescendant");
  }

  function choose(index) {
    var item = list.children[index];
    if (!item || !token) return;
    var name = item.textContent;
    editor.value = editor.value.slice(0, token.start) + name + editor.value.slice(token.end);
    var caret = token.start + name.length;
    editor.setSelectionRange(caret, caret);
    closeList();
    editor.focus();
  }

  function highlight(index) {
    var items = list.children;
    if (!items.length) return;
    active = (index + items.length) % items.length;
    for (var i = 0; i < items.length; i++) items[i].setAttribute("aria-selected", String(i === active));
    editor.setAttribute("aria-activedescendant", items[active].id);
    items[active].scrollIntoView({ block: "nearest" });
  }

  function suggest() {
    var asked = tokenAtCaret();
    if (!asked) { closeList(); return; }
    lookup(asked)
      .then(function (body) {
        var current = tokenAtCaret();
        if (!current || current.text !== asked.text || current.kind !== asked.kind) return;
        var names = (body.data || []).filter(function (n) { return n !== asked.text; });
        list.textContent = "";
        list.setAttribute("aria-label", asked.kind === "metric" ? "Metric names" :
          asked.kind === "tag" ? "Tag names" : "Values of " + asked.tag);
        names.forEach(function (name, i) {
          var li = document.createElement("li");
          li.id = "suggest-" + i;
          li.setAttribute("role", "option");
          li.setAttribute("aria-selected", "false");
          li.textContent = name;
          li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
          list.appendChild(li);
        });
        if (!names.length) { closeList(); return; }
        token = asked;
        list.hidden = false;
        editor.setAttribute("aria-expanded", "true");
        active = -1;
      })
      .catch(closeList);
  }

  editor.addEventListener("input", function () {
    closeList(); // its names were for what was typed before
    clearTimeout(timer);
    timer = setTimeout(suggest, 120);
  });
  editor.addEventListener("blur", function () { setTimeout(closeList, 150); });
  editor.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      closeList();
      run(true);
      return;
    }
    if (list.hidden) return;
    if (event.key === "ArrowDown") { event.preventDefault(); highlight(active + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
    else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) { event.preventDefault(); choose(active); }
    else if (event.key === "Escape") { event.preventDefault(); closeList(); }
  });

  run(false);
})();
