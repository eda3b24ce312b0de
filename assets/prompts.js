// llmops prompts pages: small niceties over forms that work without it.
// Ctrl/⌘+Enter submits the editor or the playground; a template error
// puts the caret at its line and column; picking a test-set question
// fills the question box; choosing "Unsaved draft" for B opens the draft.
(function () {
  "use strict";

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    var form = e.target.closest && e.target.closest("form[data-testid='version-form'], form[data-testid='playground-form']");
    if (!form) return;
    e.preventDefault();
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  });

  // Move the caret to line:col of a template error.
  Array.prototype.forEach.call(document.querySelectorAll("textarea[aria-invalid='true']"), function (ta) {
    var line = parseInt(ta.getAttribute("data-err-line"), 10), col = parseInt(ta.getAttribute("data-err-col"), 10);
    if (!(line > 0)) return;
    var lines = ta.value.split("\n"), pos = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    pos += Math.max((col || 1) - 1, 0);
    ta.focus();
    ta.setSelectionRange(pos, pos);
    var lh = parseFloat(getComputedStyle(ta).lineHeight) || 18;
    ta.scrollTop = Math.max(0, (line - 3) * lh);
  });

  var pick = document.getElementById("pg-case"), q = document.getElementById("pg-question");
  if (pick && q) {
    pick.addEventListener("change", function () {
      if (pick.value) q.value = pick.value;
    });
  }
  var b = document.getElementById("pg-b"), box = document.querySelector("[data-testid='draft-box']");
  if (b && box) {
    b.addEventListener("change", function () {
      box.open = b.value === "draft";
    });
  }
})();
