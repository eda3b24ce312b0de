// Applies the remembered theme before first paint, so dark-mode users never
// see a white flash. Loaded without defer at the top of <head>; it is a file
// rather than an inline snippet so the Content-Security-Policy can allow
// scripts from this site only ('self'). app.js wires the switch.
(function () {
  try {
    var c = localStorage.getItem("llmops-theme") || "system";
    var d = c === "dark" || (c === "system" && matchMedia("(prefers-color-scheme: dark)").matches);
    document.documentElement.dataset.theme = d ? "dark" : "light";
  } catch (e) { /* private mode: the stylesheet's default applies */ }
})();
