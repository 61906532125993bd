/*
 * Radiator real-user monitoring. Served by Radiator at /rum.js; no dependencies, no CDN.
 *
 *   <script src="https://radiator.example.com/rum.js"
 *           data-key="rad_..." data-service="shop-web" data-environment="production"></script>
 *
 * data-key must be an API token with only the ingest scope: everyone who views the page
 * can read it. Put the tag first in <head> so it sees errors thrown by later scripts.
 *
 * Reports, sent with navigator.sendBeacon to POST /api/v1/rum?key=...:
 *  - once per page, 2 s after the load event (data-report-delay-ms) or when the page is
 *    hidden or left, whichever is first: TTFB, DOMContentLoaded and load times (Navigation
 *    Timing), plus Largest Contentful Paint and Cumulative Layout Shift as observed by then;
 *  - JavaScript errors (uncaught errors and unhandled promise rejections), batched for half
 *    a second, at most 10 per report and 25 per page, repeats skipped.
 */
(function () {
  "use strict";
  try {
    var script = document.currentScript;
    var config = window.radiatorRum || {};
    var data = (script && script.dataset) || {};
    var src = script && script.src ? new URL(script.src, location.href) : null;
    var key = config.key || data.key || (src && src.searchParams.get("key")) || "";
    var base = config.endpoint || data.endpoint || (src ? src.origin : location.origin);
    if (!key) {
      return;
    }
    var endpoint = base.replace(/\/$/, "") + "/api/v1/rum?key=" + encodeURIComponent(key);
    var service = config.service || data.service || "browser";
    var environment = config.environment || data.environment || "";
    var MAX_PER_REPORT = 10;
    var MAX_PER_PAGE = 25;
    var sentErrors = 0;
    var seen = {};
    var pending = [];
    var timer = null;
    var lcp = null;
    var cls = 0;
    var clsSeen = false;

    var send = function (report) {
      report.service = service;
      report.page = location.pathname || "/";
      if (environment) {
        report.environment = environment;
      }
      var body = JSON.stringify(report);
      try {
        if (navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) {
          return;
        }
      } catch (ignored) {
        /* fall through to fetch */
      }
      if (window.fetch) {
        window
          .fetch(endpoint, {
            method: "POST",
            body: body,
            keepalive: true,
            credentials: "omit",
            headers: { "Content-Type": "text/plain" },
          })
          .catch(function () {});
      }
    };

    var text = function (value, limit) {
      return String(value === undefined || value === null ? "" : value).slice(0, limit);
    };

    var flushErrors = function () {
      timer = null;
      if (pending.length) {
        send({ errors: pending.splice(0, MAX_PER_REPORT) });
      }
      if (pending.length) {
        timer = setTimeout(flushErrors, 500);
      }
    };

    var record = function (kind, message, source, line, column, stack) {
      var signature = kind + "|" + message + "|" + source + "|" + line;
      if (seen[signature] || sentErrors >= MAX_PER_PAGE) {
        return;
      }
      seen[signature] = true;
      sentErrors += 1;
      pending.push({
        kind: kind,
        message: text(message, 1000) || "(no message)",
        source: text(source, 500),
        line: Number(line) || 0,
        column: Number(column) || 0,
        stack: text(stack, 4000),
      });
      if (!timer) {
        timer = setTimeout(flushErrors, 500);
      }
    };

    window.addEventListener("error", function (event) {
      // Failed <img>/<script> loads also fire "error" but carry no message: not JS errors.
      if (!event || (!event.message && !event.error)) {
        return;
      }
      var error = event.error;
      record(
        "error",
        event.message || (error && error.message),
        event.filename,
        event.lineno,
        event.colno,
        error && error.stack
      );
    });

    window.addEventListener("unhandledrejection", function (event) {
      var reason = event && event.reason;
      var isError = reason && typeof reason === "object" && "message" in reason;
      record(
        "unhandledrejection",
        isError ? reason.message : reason,
        "",
        0,
        0,
        isError ? reason.stack : ""
      );
    });

    var observers = [];
    var observe = function (type, callback) {
      try {
        var handle = function (entries) {
          for (var i = 0; i < entries.length; i += 1) {
            callback(entries[i]);
          }
        };
        var observer = new PerformanceObserver(function (list) {
          handle(list.getEntries());
        });
        observer.observe({ type: type, buffered: true });
        observers.push(function () {
          handle(observer.takeRecords());
        });
      } catch (ignored) {
        /* not supported by this browser */
      }
    };
    observe("largest-contentful-paint", function (entry) {
      lcp = entry.startTime;
    });
    observe("layout-shift", function (entry) {
      if (!entry.hadRecentInput) {
        cls += entry.value;
        clsSeen = true;
      }
    });

    var timings = function () {
      var round = function (value) {
        return value > 0 ? Math.round(value * 10) / 10 : null;
      };
      var nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
      if (nav) {
        return {
          ttfb_ms: round(nav.responseStart - nav.startTime),
          dom_content_loaded_ms: round(nav.domContentLoadedEventEnd - nav.startTime),
          load_ms: round(nav.loadEventEnd - nav.startTime),
        };
      }
      var t = performance.timing;
      return {
        ttfb_ms: round(t.responseStart - t.navigationStart),
        dom_content_loaded_ms: round(t.domContentLoadedEventEnd - t.navigationStart),
        load_ms: round(t.loadEventEnd - t.navigationStart),
      };
    };

    var loadReported = false;
    var reportLoad = function () {
      if (loadReported) {
        return;
      }
      loadReported = true;
      try {
        observers.forEach(function (drain) {
          drain();
        });
        var pageLoad = timings();
        if (lcp !== null) {
          pageLoad.lcp_ms = Math.round(lcp * 10) / 10;
        }
        if (clsSeen) {
          pageLoad.cls = Math.round(cls * 10000) / 10000;
        }
        send({ page_load: pageLoad });
      } catch (ignored) {
        /* never break the page */
      }
    };
    // LCP and layout shifts keep coming after the load event: report a moment later, or
    // as the page is hidden or left, whichever is first.
    var afterLoad = function () {
      setTimeout(reportLoad, Number(config.reportDelayMs || data.reportDelayMs) || 2000);
    };
    if (document.readyState === "complete") {
      afterLoad();
    } else {
      window.addEventListener("load", afterLoad);
    }
    var leaving = function () {
      if (document.readyState === "complete") {
        reportLoad();
      }
      if (pending.length) {
        flushErrors();
      }
    };
    window.addEventListener("pagehide", leaving);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") {
        leaving();
      }
    });
  } catch (ignored) {
    /* the monitoring script must never break the page it monitors */
  }
})();
