// Guardrails page: the "try it" box posts the text to the check API and
// shows what the guards found, the redacted text and the verdict.
(function () {
  "use strict";
  var run = document.getElementById("try-run");
  if (!run) return;
  var out = document.getElementById("try-result");
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  run.addEventListener("click", function () {
    var text = document.getElementById("try-text").value;
    var direction = document.getElementById("try-direction").value;
    run.disabled = true;
    fetch("/api/v1/guardrails/check", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: text, direction: direction }),
    })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error((body.error && body.error.message) || r.statusText);
          return body;
        });
      })
      .then(function (res) {
        var chars = Array.from(text);
        var found = res.pii.map(function (p) {
          return '<li><span class="badge">' + esc(p.type) + "</span> <code>" + esc(chars.slice(p.start, p.end).join("")) + "</code> <span class=\"faint small\">" + p.start + "–" + p.end + "</span></li>";
        });
        var verdict = res.blocked
          ? '<span class="badge error" data-testid="try-verdict">✕ blocked</span>'
          : '<span class="badge ok" data-testid="try-verdict">✓ allowed</span>';
        out.innerHTML =
          "<p>" + verdict + " · injection score " + res.injection.score.toFixed(2) + (res.injection.flagged ? " (flagged)" : "") + "</p>" +
          (res.reasons.length ? "<ul>" + res.reasons.map(function (r) { return "<li>" + esc(r) + "</li>"; }).join("") + "</ul>" : "") +
          (found.length ? "<h3>Personal data</h3><ul data-testid=\"try-pii\">" + found.join("") + "</ul>" : "<p class=\"muted\">No personal data found.</p>") +
          "<h3>Redacted</h3><pre class=\"mono\" data-testid=\"try-redacted\">" + esc(res.redacted) + "</pre>";
      })
      .catch(function (e) {
        out.innerHTML = '<div class="alert error" role="alert">' + esc(e.message) + "</div>";
      })
      .finally(function () {
        run.disabled = false;
      });
  });
})();
