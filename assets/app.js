// llmops: the little plain JavaScript the server-rendered pages need.
(function () {
  "use strict";
  var KEY = "llmops-theme";

  // Theme: Light / Dark / System, remembered per browser. theme.js in
  // <head> applies it before first paint; this wires the switch.
  function systemDark() {
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  }
  function apply(choice) {
    var dark = choice === "dark" || (choice === "system" && systemDark());
    document.documentElement.dataset.theme = dark ? "dark" : "light";
    document.querySelectorAll("[data-theme-choice]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.themeChoice === choice));
    });
  }
  function current() {
    try { return localStorage.getItem(KEY) || "system"; } catch (e) { return "system"; }
  }
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-theme-choice]");
    if (!b) return;
    try { localStorage.setItem(KEY, b.dataset.themeChoice); } catch (e) { /* private mode */ }
    apply(b.dataset.themeChoice);
  });
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () {
      if (current() === "system") apply("system");
    });
  }

  // Copy buttons: <button data-copy="#id">.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-copy]");
    if (!b) return;
    var src = document.querySelector(b.dataset.copy);
    if (!src || !navigator.clipboard) return;
    navigator.clipboard.writeText(src.textContent.trim()).then(function () {
      var old = b.textContent;
      b.textContent = "Copied";
      setTimeout(function () { b.textContent = old; }, 1500);
    });
  });

  // Confirm before destructive form submits: <form data-confirm="...">.
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.dataset && ev.target.dataset.confirm;
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () { apply(current()); });
})();
