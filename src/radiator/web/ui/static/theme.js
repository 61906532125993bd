// Light or dark: the user's choice (localStorage), else the system's. Runs in <head> so the
// page never flashes the wrong theme; the toggle button is wired once the body exists.
(function () {
  "use strict";
  var KEY = "radiator-theme";
  function stored() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function apply(theme) {
    if (theme === "light" || theme === "dark") {
      document.documentElement.setAttribute("data-theme", theme);
    } else {
      document.documentElement.removeAttribute("data-theme");
    }
  }
  function current() {
    var set = document.documentElement.getAttribute("data-theme");
    if (set) return set;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  apply(stored());
  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-theme-toggle]");
    buttons.forEach(function (button) {
      button.setAttribute("aria-pressed", String(current() === "dark"));
      button.addEventListener("click", function () {
        var next = current() === "dark" ? "light" : "dark";
        apply(next);
        try { localStorage.setItem(KEY, next); } catch (e) { /* private mode: no memory */ }
        button.setAttribute("aria-pressed", String(next === "dark"));
        document.dispatchEvent(new CustomEvent("radiator:theme", { detail: next }));
      });
    });
  });
})();
