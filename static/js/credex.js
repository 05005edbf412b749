/* CredEx: the little behaviour server-rendered pages need. No framework, no build step. */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.add("js");

  function closeMenus(except) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Top-bar menus (<details>): one open at a time; outside click and Escape close them.
    document.querySelectorAll("details[data-menu]").forEach(function (d) {
      d.addEventListener("toggle", function () { if (d.open) closeMenus(d); });
    });

    // Left navigation collapses into a menu on narrow screens (CSS decides when).
    var toggle = document.querySelector(".nav-toggle");
    if (toggle) {
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        var open = document.body.classList.toggle("nav-open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
  });

  document.addEventListener("click", function (event) {
    var inMenu = event.target.closest("details[data-menu]");
    closeMenus(inMenu);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details[data-menu][open]");
    if (open) {
      open.removeAttribute("open");
      var summary = open.querySelector("summary");
      if (summary) summary.focus();
    }
    if (document.body.classList.contains("nav-open")) {
      document.body.classList.remove("nav-open");
      var toggle = document.querySelector(".nav-toggle");
      if (toggle) { toggle.setAttribute("aria-expanded", "false"); toggle.focus(); }
    }
  });

  // Destructive POST forms ask first: <form data-confirm="Remove ...?">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // Copy buttons: <button data-copy="#input-id">; status goes to [data-copy-status].
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    var status = document.querySelector("[data-copy-status]");
    function done(ok) {
      if (status) status.textContent = ok ? "Copied to the clipboard." : "Select the key and copy it (Ctrl+C / Cmd+C).";
      if (ok) button.textContent = "Copied";
    }
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { done(false); });
    } else {
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    }
  });
})();

// htmx GET forms: leave empty fields out of the URL, so pushed (bookmarkable) URLs stay short.
document.addEventListener("htmx:configRequest", function (event) {
  if (event.detail.verb !== "get") return;
  var params = event.detail.parameters;
  if (params && typeof params.forEach === "function" && typeof params.delete === "function") {
    var empty = [];
    params.forEach(function (value, key) { if (value === "") empty.push(key); });
    empty.forEach(function (key) { params.delete(key); });
  } else if (params) {
    Object.keys(params).forEach(function (key) { if (params[key] === "") delete params[key]; });
  }
});
