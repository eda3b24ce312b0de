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

  // Small screens: the sidebar is a drawer opened by the top bar's menu
  // button; Escape, the backdrop or a link closes it.
  function drawer(open) {
    var shell = document.querySelector(".shell"), btn = document.querySelector(".menu-btn");
    if (!shell || !btn) return;
    shell.classList.toggle("nav-open", open);
    btn.setAttribute("aria-expanded", String(open));
    document.querySelector(".drawer-backdrop").hidden = !open;
    if (open) {
      var cur = document.querySelector('.sidebar [aria-current="page"]') || document.querySelector(".sidebar a");
      if (cur) cur.focus();
    }
  }
  document.addEventListener("click", function (ev) {
    if (ev.target.closest(".menu-btn")) {
      drawer(!document.querySelector(".shell").classList.contains("nav-open"));
    } else if (ev.target.closest("[data-drawer-close]") || (ev.target.closest(".sidebar a") && document.querySelector(".nav-open"))) {
      drawer(false);
    }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && document.querySelector(".nav-open")) {
      drawer(false);
      document.querySelector(".menu-btn").focus();
    }
  });

  // Regions that scroll (wide tables on a phone, long payloads) take
  // keyboard focus when nothing inside them can, so arrow keys reach them.
  function scrollables() {
    document.querySelectorAll("main *").forEach(function (e) {
      if (e.hasAttribute("tabindex") && !e.hasAttribute("data-scroll-focus")) return;
      var st = getComputedStyle(e), ox = st.overflowX, oy = st.overflowY;
      var scrolls = ((ox === "auto" || ox === "scroll") && e.scrollWidth > e.clientWidth) ||
        ((oy === "auto" || oy === "scroll") && e.scrollHeight > e.clientHeight);
      var focusable = [].some.call(e.querySelectorAll("a[href], button, input, select, textarea, [tabindex]"), function (f) {
        return f.getClientRects().length > 0; // hidden panels' buttons do not count
      });
      if (scrolls && !focusable) {
        e.setAttribute("tabindex", "0");
        e.setAttribute("data-scroll-focus", "");
      } else if (!scrolls && e.hasAttribute("data-scroll-focus")) {
        e.removeAttribute("tabindex");
        e.removeAttribute("data-scroll-focus");
      }
    });
  }
  var scrollTimer = 0;
  function scrollablesLater() { clearTimeout(scrollTimer); scrollTimer = setTimeout(scrollables, 150); }
  window.addEventListener("resize", scrollablesLater);
  document.addEventListener("htmx:afterSettle", scrollablesLater);
  document.addEventListener("click", scrollablesLater); // tabs and span rows show other panels
  window.addEventListener("load", scrollables);

  document.addEventListener("DOMContentLoaded", function () { apply(current()); });
})();
