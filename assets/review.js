// Review: keyboard-driven reviewing. On the reviewing view, j/k move to
// the next/previous item, 1–4 choose the verdict, g toggles grounded, c
// and e jump to the cause and the corrected answer, Esc leaves a field,
// Enter submits (Ctrl/⌘+Enter from inside a field), ? shows the keys. On
// the queue, j starts reviewing. Shortcuts never fire while typing.
(function () {
  "use strict";

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable ||
      (tag === "INPUT" && el.type !== "radio" && el.type !== "checkbox");
  }

  var item = document.querySelector("[data-review-item]");
  var form = document.getElementById("label-form");
  var help = document.querySelector("[data-review-help]");
  var keys = document.getElementById("review-keys");

  function toggleHelp() {
    if (!keys || !help) return;
    keys.hidden = !keys.hidden;
    help.setAttribute("aria-expanded", String(!keys.hidden));
  }
  if (help) help.addEventListener("click", toggleHelp);

  function go(id) {
    if (id) window.location.href = "/review/items/" + encodeURIComponent(id);
  }

  function submit() {
    if (!form) return;
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.defaultPrevented) return;
    var t = ev.target;
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && form && form.contains(t)) {
      ev.preventDefault();
      submit();
      return;
    }
    if (ev.ctrlKey || ev.metaKey) return;
    if (typing(t)) {
      if (ev.key === "Escape") {
        t.blur();
        ev.preventDefault();
      }
      return;
    }
    if (!item) {
      var start = document.querySelector("[data-review-start]");
      if (ev.key === "j" && start) {
        ev.preventDefault();
        start.click();
      }
      return;
    }
    switch (ev.key) {
      case "j":
        ev.preventDefault();
        go(item.dataset.next);
        return;
      case "k":
        ev.preventDefault();
        go(item.dataset.prev);
        return;
      case "?":
        ev.preventDefault();
        toggleHelp();
        return;
    }
    if (!form) return;
    var radio;
    switch (ev.key) {
      case "1": case "2": case "3": case "4":
        radio = form.querySelector('input[name="verdict"][data-key="' + ev.key + '"]');
        if (radio) {
          ev.preventDefault();
          radio.checked = true;
          radio.focus();
        }
        return;
      case "g":
        ev.preventDefault();
        var yes = form.querySelector('input[name="grounded"][value="yes"]');
        var no = form.querySelector('input[name="grounded"][value="no"]');
        radio = yes.checked ? no : yes;
        radio.checked = true;
        radio.focus();
        return;
      case "c":
        ev.preventDefault();
        form.querySelector('select[name="cause"]').focus();
        return;
      case "e":
        ev.preventDefault();
        form.querySelector('textarea[name="corrected_answer"]').focus();
        return;
      case "Enter":
        // A focused link or button does its own thing.
        if (t && (t.tagName === "A" || t.tagName === "BUTTON")) return;
        ev.preventDefault();
        submit();
        return;
    }
  });
})();
