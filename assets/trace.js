// llmops trace page: select spans in the waterfall, fold subtrees, switch
// attribute views. The page is complete without it: rows are links and
// the selected span's panel is rendered visible.
(function () {
  "use strict";

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  // Traces list: a click anywhere on a row opens its trace.
  document.addEventListener("click", function (ev) {
    var tr = ev.target.closest("tr[data-href]");
    if (!tr || ev.target.closest("a, button, input, label") || String(window.getSelection()).length) return;
    if (ev.metaKey || ev.ctrlKey) { window.open(tr.dataset.href); return; }
    location.href = tr.dataset.href;
  });

  // Attribute views: Formatted / JSON.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-attrs-view]");
    if (!b) return;
    var box = b.closest("[data-attrs]");
    box.querySelectorAll("[data-attrs-view]").forEach(function (x) {
      x.setAttribute("aria-pressed", String(x === b));
    });
    box.querySelectorAll("[data-attrs-pane]").forEach(function (p) {
      p.hidden = p.dataset.attrsPane !== b.dataset.attrsView;
    });
  });

  var tree = document.querySelector("[data-span-tree]");
  if (!tree) return;
  var rows = Array.prototype.slice.call(tree.querySelectorAll("[data-span-row]"));
  // Rows take focus one at a time (roving tabindex); their links stay
  // tabbable only for browsers without this script.
  tree.querySelectorAll(".span-link").forEach(function (a) { a.tabIndex = -1; });
  var depth = function (r) { return Number(r.dataset.depth); };
  var visible = function () { return rows.filter(function (r) { return !r.hidden; }); };

  function focusRow(row) {
    rows.forEach(function (r) { r.tabIndex = r === row ? 0 : -1; });
    row.focus();
  }

  function select(row) {
    var id = row.dataset.spanRow;
    rows.forEach(function (r) { r.setAttribute("aria-selected", String(r === row)); });
    document.querySelectorAll("[data-span-panel]").forEach(function (p) {
      p.hidden = p.dataset.spanPanel !== id;
    });
    // Keep the open span in the URL, so a reload or a shared link shows it.
    var u = new URL(location.href);
    u.searchParams.set("span", id);
    u.hash = "";
    history.replaceState(null, "", u);
  }

  // Folding hides every following row deeper than the folded one, and
  // keeps rows under a still-folded descendant hidden on unfold.
  function refold() {
    var hideBelow = Infinity;
    rows.forEach(function (r) {
      var d = depth(r);
      if (d <= hideBelow) hideBelow = Infinity;
      r.hidden = d > hideBelow;
      if (!r.hidden && r.getAttribute("aria-expanded") === "false") hideBelow = d;
    });
  }
  function fold(row, open) {
    if (!row.hasAttribute("aria-expanded")) return false;
    row.setAttribute("aria-expanded", String(open));
    refold();
    return true;
  }

  function move(row, step) {
    var v = visible();
    var i = v.indexOf(row) + step;
    return v[Math.max(0, Math.min(v.length - 1, i))];
  }

  tree.addEventListener("click", function (ev) {
    var row = ev.target.closest("[data-span-row]");
    if (!row) return;
    if (ev.target.closest("[data-fold]")) {
      fold(row, row.getAttribute("aria-expanded") === "false");
      focusRow(row);
      return;
    }
    if (ev.metaKey || ev.ctrlKey || ev.shiftKey) return; // let the link open elsewhere
    ev.preventDefault();
    focusRow(row);
    select(row);
  });

  tree.addEventListener("keydown", function (ev) {
    var row = ev.target.closest("[data-span-row]");
    if (!row || ev.altKey || ev.metaKey || ev.ctrlKey) return;
    switch (ev.key) {
      case "ArrowDown": focusRow(move(row, 1)); break;
      case "ArrowUp": focusRow(move(row, -1)); break;
      case "Home": focusRow(visible()[0]); break;
      case "End": var v = visible(); focusRow(v[v.length - 1]); break;
      case "Enter": case " ": select(row); break;
      case "ArrowRight":
        if (row.getAttribute("aria-expanded") === "false") fold(row, true);
        else if (row.hasAttribute("aria-expanded")) focusRow(move(row, 1));
        break;
      case "ArrowLeft":
        if (row.getAttribute("aria-expanded") === "true") { fold(row, false); break; }
        // otherwise go to the parent: the nearest row above with less depth
        for (var i = rows.indexOf(row) - 1; i >= 0; i--) {
          if (depth(rows[i]) < depth(row)) { focusRow(rows[i]); break; }
        }
        break;
      default: return;
    }
    ev.preventDefault();
  });

  // J / K anywhere on the page (not while typing): next / previous span,
  // opened at once.
  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.metaKey || ev.ctrlKey || typing(ev.target)) return;
    var key = ev.key.toLowerCase();
    if (key !== "j" && key !== "k") return;
    var current = tree.querySelector('[aria-selected="true"]') || rows[0];
    var next = move(current, key === "j" ? 1 : -1);
    focusRow(next);
    select(next);
    next.scrollIntoView({ block: "nearest" });
    ev.preventDefault();
  });
})();
