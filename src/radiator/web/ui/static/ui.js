// Behaviour every page shares: the time-range presets, and the session's CSRF token for
// scripts that change state. Exposed as window.Radiator.
(function () {
  "use strict";
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function submit(form) {
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.submit();
  }
  // A preset button sets From/To of its form and runs the form again.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-range]");
    if (!button) return;
    var form = button.closest("form");
    if (!form) return;
    form.elements.start.value = button.getAttribute("data-range");
    form.elements.end.value = "now";
    form.querySelectorAll("[data-range]").forEach(function (other) {
      other.setAttribute("aria-pressed", String(other === button));
    });
    submit(form);
  });
  // htmx requests that change state carry the session's CSRF token, as the API requires.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") event.detail.headers["X-CSRF-Token"] = csrfToken();
  });
  window.Radiator = Object.assign(window.Radiator || {}, { csrfToken: csrfToken, submit: submit });
})();
