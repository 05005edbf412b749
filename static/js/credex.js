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
    // The status line nearest the button (each row of a table has its own).
    var scope = button.closest("[data-copy-scope]");
    var status = (scope || document).querySelector("[data-copy-status]");
    function done(ok) {
      if (status) status.textContent = ok ? "Copied to the clipboard." : "The text is selected: copy it with Ctrl+C / Cmd+C.";
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

/* Behaviour declared in markup with data- attributes. The Content-Security-Policy forbids inline
   script (no <script> blocks, no on*= or hx-on attributes), so pages say what they need here.
   Delegated from document: it works for content htmx swaps in later too. */
(function () {
  "use strict";

  // "Select all": <input type=checkbox data-check-all="NAME"> ticks every NAME checkbox of its
  // form (form.elements includes boxes tied to it with form="..."), or of the page.
  document.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("[data-check-all]");
    if (!all) return;
    var name = all.getAttribute("data-check-all");
    var boxes = all.form ? all.form.elements : document.querySelectorAll("input[type=checkbox]");
    Array.prototype.forEach.call(boxes, function (box) {
      if (box !== all && box.type === "checkbox" && box.name === name) box.checked = all.checked;
    });
  });

  // <input data-select-on-focus>: a read-only link field selects itself for copying.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });

  // <button data-print>: the browser's print dialog (print styles hide the screen-only parts).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) window.print();
  });

  // <form data-reveal-form hx-post=...>: once the value is revealed, the form goes away.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-reveal-form]") || !event.detail.successful) return;
    var details = form.closest("details");
    if (details) details.remove();
  });

  // NPPES look-up: <button data-nppes-fill='{"first_name": ...}'> copies the values into the
  // enclosing form's fields by name. Inputs, selects, repeated inputs (taxonomy_codes) and
  // checkbox groups (practice_states) are handled; the person reviews and saves.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-nppes-fill]");
    if (!button) return;
    var data = JSON.parse(button.getAttribute("data-nppes-fill"));
    var form = button.closest("form") || document.querySelector("form[data-nppes-form]");
    if (!form) return;
    Object.keys(data).forEach(function (name) {
      var el = form.elements[name], value = data[name];
      if (!el || value === null || value === "" || typeof value === "boolean") return;
      if (typeof value === "object" && (!Array.isArray(value) || value.some(function (v) { return v && typeof v === "object"; }))) return;
      var values = Array.isArray(value) ? value.map(String) : [String(value)];
      var list = el.tagName ? [el] : Array.prototype.slice.call(el);
      if (list[0].type === "checkbox" || list[0].type === "radio") {
        list.forEach(function (box) { box.checked = values.indexOf(box.value) !== -1; });
      } else if (list[0].tagName === "SELECT" && list[0].multiple) {
        Array.prototype.forEach.call(list[0].options, function (o) { o.selected = values.indexOf(o.value) !== -1; });
      } else if (list.length > 1) {
        list.forEach(function (input, i) { input.value = values[i] || ""; });
      } else {
        list[0].value = values.join(list[0].tagName === "TEXTAREA" ? "\n" : ", ");
      }
      list.forEach(function (one) { one.dispatchEvent(new Event("change", {bubbles: true})); });
    });
    button.textContent = "Filled from NPPES: review before saving";
  });
})();

// The new-enrollment provider picker: <div data-provider-picker> holds a search input (htmx
// fetches matches as <button data-pick=ID>) and the plain <select> it fills in, which stays the
// posted field and is what people without JavaScript use.
(function () {
  "use strict";
  function parts(picker) {
    return {
      search: picker.querySelector("[data-picker-search]"),
      fallback: picker.querySelector("[data-picker-fallback]"),
      select: picker.querySelector("select"),
      input: picker.querySelector("input[type=search]"),
      results: picker.querySelector(".picker-results-region"),
      chosen: picker.querySelector("[data-picker-chosen]"),
    };
  }
  function showChosen(p) {
    var option = p.select.options[p.select.selectedIndex];
    p.chosen.textContent = option && option.value ? "Chosen: " + option.text : "";
  }
  function options(p) {
    return Array.prototype.slice.call(p.results.querySelectorAll("[data-pick]:not([disabled])"));
  }
  function pick(picker, button) {
    var p = parts(picker);
    p.select.value = button.getAttribute("data-pick");
    showChosen(p);
    p.results.innerHTML = "";
    p.input.value = "";
    p.input.focus();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-provider-picker]").forEach(function (picker) {
      var p = parts(picker);
      if (!p.search || !p.select) return;
      p.search.hidden = false;
      p.fallback.hidden = true;
      showChosen(p);
    });
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-provider-picker] [data-pick]");
    if (button && !button.disabled) pick(button.closest("[data-provider-picker]"), button);
  });
  document.addEventListener("keydown", function (event) {
    var picker = event.target.closest && event.target.closest("[data-provider-picker]");
    if (!picker) return;
    var p = parts(picker);
    var list = options(p);
    if (event.target === p.input) {
      if (event.key === "ArrowDown" && list.length) { event.preventDefault(); list[0].focus(); }
      // Enter in the search box picks the only match, and never submits the form half-filled.
      if (event.key === "Enter") { event.preventDefault(); if (list.length === 1) pick(picker, list[0]); }
      if (event.key === "Escape") { p.results.innerHTML = ""; }
      return;
    }
    var at = list.indexOf(event.target);
    if (at < 0) return;
    if (event.key === "ArrowDown") { event.preventDefault(); (list[at + 1] || list[at]).focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); (at ? list[at - 1] : p.input).focus(); }
    if (event.key === "Escape") { event.preventDefault(); p.input.focus(); }
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
